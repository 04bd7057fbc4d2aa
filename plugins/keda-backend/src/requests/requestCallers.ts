import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { BasicPermission } from '@backstage/plugin-permission-common';
import {
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
} from '@keda-self-service/plugin-keda-common';
import type { KedaRequestServiceOptions } from './KedaRequestService';

/** A person (user entity ref) or a service (`service:<subject>`). */
export function actorOf(credentials: BackstageCredentials): string {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user' && p.userEntityRef) return p.userEntityRef;
  if (p.type === 'service' && p.subject) return `service:${p.subject}`;
  return p.type;
}

export function userRefOf(
  credentials: BackstageCredentials,
): string | undefined {
  const p = credentials.principal as { type: string; userEntityRef?: string };
  return p.type === 'user' ? p.userEntityRef : undefined;
}

/** Who is asking, as far as the decision routes are concerned. */
export interface Caller {
  /** the user entity ref; undefined for a service */
  userRef?: string;
  /** `keda.request.approve` */
  mayApprove: boolean;
  /** `keda.iam.provision` */
  mayProvision: boolean;
}

/**
 * Why a permission was denied, and who has it: the approver groups
 * (`keda.approvals.approverGroups`) for approving and provisioning.
 */
export function deniedMessage(
  permission: BasicPermission,
  what: string,
  approverGroups: readonly string[],
): string {
  return `You may not ${what}: permission '${permission.name}' was denied. ${
    permission === kedaRequestApprovePermission ||
    permission === kedaIamProvisionPermission
      ? `Members of ${
          approverGroups.join(', ') ||
          'the approver groups (keda.approvals.approverGroups)'
        } may`
      : 'Ask the platform team for access'
  }`;
}

/** The permission checks of the approval flow. */
export class KedaRequestPermissions {
  constructor(
    private readonly options: Pick<
      KedaRequestServiceOptions,
      'permissions' | 'keda'
    >,
  ) {}

  async authorize(
    permission: BasicPermission,
    credentials: BackstageCredentials,
  ): Promise<boolean> {
    const [decision] = await this.options.permissions.authorize(
      [{ permission }],
      { credentials },
    );
    return decision.result === AuthorizeResult.ALLOW;
  }

  async require(
    permission: BasicPermission,
    credentials: BackstageCredentials,
    what: string,
  ) {
    if (!(await this.authorize(permission, credentials))) {
      throw new NotAllowedError(
        deniedMessage(
          permission,
          what,
          this.options.keda.approvals.approverGroups,
        ),
      );
    }
  }

  /** The caller's rights for the decision routes, in one permission call. */
  async callerOf(credentials: BackstageCredentials): Promise<Caller> {
    const [approve, provision] = await this.options.permissions.authorize(
      [
        { permission: kedaRequestApprovePermission },
        { permission: kedaIamProvisionPermission },
      ],
      { credentials },
    );
    return {
      userRef: userRefOf(credentials),
      mayApprove: approve.result === AuthorizeResult.ALLOW,
      mayProvision: provision.result === AuthorizeResult.ALLOW,
    };
  }
}
