import type {
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import { membershipUserInfo as userInfoFromMemberships } from '@internal/test-backend';
import { KedaPortalPermissionPolicy } from '@keda-self-service/plugin-permission-backend-module-keda-policy';
import { APPROVER_GROUP } from './requests';

export const JANE = 'user:default/jane.doe'; // the requester, team-orders
export const BOB = 'user:default/bob.dev'; // another developer
export const PAT = 'user:default/pat.platform'; // platform engineer
export const SAM = 'user:default/sam.platform'; // a second platform engineer

export const MEMBERSHIPS: Record<string, string[]> = {
  [JANE]: ['group:default/team-orders'],
  [BOB]: ['group:default/team-billing'],
  [PAT]: [APPROVER_GROUP],
  [SAM]: [APPROVER_GROUP],
};

/**
 * A PermissionsService that decides with the portal's real policy
 * (`KedaPortalPermissionPolicy`), resolving group membership from
 * `MEMBERSHIPS` the way the user-info service would from the catalog.
 * Services are allowed, as in the real permission framework.
 */
export function policyPermissions(
  memberships: Record<string, string[]> = MEMBERSHIPS,
): PermissionsService {
  const policy = KedaPortalPermissionPolicy.fromConfig(
    new ConfigReader({
      keda: { approvals: { approverGroups: [APPROVER_GROUP] } },
    }),
  );
  const decide = async (
    requests: Array<{ permission: any }>,
    options?: { credentials: BackstageCredentials },
  ) => {
    const principal = options?.credentials.principal as {
      type: string;
      userEntityRef?: string;
    };
    if (principal?.type === 'service') {
      return requests.map(() => ({ result: 'ALLOW' as const }));
    }
    const ref = principal?.userEntityRef;
    const user = ref
      ? ({
          token: 'mock',
          credentials: options!.credentials,
          identity: {
            type: 'user',
            userEntityRef: ref,
            ownershipEntityRefs: [ref, ...(memberships[ref] ?? [])],
          },
          info: {
            userEntityRef: ref,
            ownershipEntityRefs: [ref, ...(memberships[ref] ?? [])],
          },
        } as any)
      : undefined;
    return Promise.all(
      requests.map(r => policy.handle({ permission: r.permission }, user)),
    );
  };
  return {
    authorize: decide as any,
    authorizeConditional: decide as any,
  };
}

/** The user-info service's answer from the same `MEMBERSHIPS`. */
export function membershipUserInfo(
  memberships: Record<string, string[]> = MEMBERSHIPS,
) {
  return userInfoFromMemberships(memberships);
}
