import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { PermissionsService } from '@backstage/backend-plugin-api';

/** A permissions service that answers every request with `result`, recording what was asked. */
export function fixedPermissions(
  result: AuthorizeResult.ALLOW | AuthorizeResult.DENY,
) {
  const asked: string[] = [];
  const service = {
    authorize: jest.fn(
      async (requests: Array<{ permission: { name: string } }>) => {
        requests.forEach(r => asked.push(r.permission.name));
        return requests.map(() => ({ result }));
      },
    ),
    authorizeConditional: jest.fn(),
  } as unknown as PermissionsService;
  return { service, asked };
}
