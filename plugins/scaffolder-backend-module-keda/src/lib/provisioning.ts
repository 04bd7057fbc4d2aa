import type {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { kedaIamProvisionPermission } from '@keda-self-service/plugin-keda-common';
import type { RoleEffectRunner } from '@keda-self-service/plugin-keda-node';
import type { ActionContext } from '@backstage/plugin-scaffolder-node';

/**
 * Asks the permission framework whether the task's initiator may change IAM
 * for KEDA (`keda.iam.provision`), and throws a NotAllowedError saying why
 * the step needs it.
 */
export async function requireIamProvisionPermission(options: {
  permissions: PermissionsService;
  credentials: BackstageCredentials;
  why: string;
}): Promise<void> {
  const [decision] = await options.permissions.authorize(
    [{ permission: kedaIamProvisionPermission }],
    { credentials: options.credentials },
  );
  if (decision.result !== AuthorizeResult.ALLOW) {
    throw new NotAllowedError(
      `${options.why}, and only members of the KEDA approver groups (keda.approvals.approverGroups) may change IAM (permission keda.iam.provision). Ask the platform team to approve the request on the KEDA requests page`,
    );
  }
}

/** Runs each remote effect inside `ctx.checkpoint`, so a retried task skips the ones that succeeded. */
export function checkpointRunner(
  ctx: Pick<ActionContext<any, any>, 'checkpoint'>,
): RoleEffectRunner {
  return async (key, effect) => {
    await ctx.checkpoint({
      key,
      fn: async () => {
        await effect();
      },
    });
  };
}
