import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isPermission,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { actionExecutePermission } from '@backstage/plugin-scaffolder-common/alpha';
import {
  createScaffolderActionConditionalDecision,
  scaffolderActionConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  PLATFORM_ONLY_LABEL,
  KEDA_IAM_ACTION_IDS,
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
} from '@internal/plugin-keda-common';
import { readKedaApprovals } from '@internal/plugin-keda-node';

/**
 * Groups whose members approve KEDA requests and provision IAM by default;
 * the one default of keda-node's config reader, re-exported.
 */
export { DEFAULT_APPROVER_GROUPS } from '@internal/plugin-keda-node';

/**
 * The scaffolder action that a requester's own template run may execute when
 * (and only when) its plan is auto-approved. The action re-evaluates the
 * guardrails server-side, so the `autoApproved` input is a hint the policy
 * can see, not the only check.
 */
const SELF_SERVICE_IAM_ACTION = 'keda:aws:scaler-role:ensure';

/** Actions that change IAM and are otherwise reserved to approvers. */
const PLATFORM_ONLY_IAM_ACTIONS = KEDA_IAM_ACTION_IDS;

/**
 * The portal's permission policy.
 *
 * - KEDA approvals (`keda.request.approve`) and IAM provisioning
 *   (`keda.iam.provision`) are allowed to members of the approver groups
 *   (`keda.approvals.approverGroups`, default platform-team) only.
 * - The scaffolder may run the IAM-changing KEDA actions for approvers; for
 *   everyone else only `keda:aws:scaler-role:ensure` with `autoApproved: true`
 *   (the requester's own run of an auto-approved plan), nothing else that
 *   touches IAM.
 * - Catalog entities labelled `keda.backstage.io/platform-only: 'true'` (the
 *   platform templates) are readable by the approver groups only.
 * - Everything else is allowed to signed-in users, as in the default portal.
 */
export class KedaPortalPermissionPolicy implements PermissionPolicy {
  /**
   * Approver groups as keda-node's config reader reads them (same default
   * and validation as the requests backend). Only `keda.approvals` is read,
   * so a cluster misconfiguration does not take the permission policy down.
   */
  static fromConfig(config: Config): KedaPortalPermissionPolicy {
    return new KedaPortalPermissionPolicy(
      readKedaApprovals(config).approverGroups,
    );
  }

  constructor(private readonly approverGroups: string[]) {}

  isApprover(user?: PolicyQueryUser): boolean {
    const refs = user?.info.ownershipEntityRefs ?? [];
    return refs.some(ref =>
      this.approverGroups.some(
        g => g.toLocaleLowerCase('en-US') === ref.toLocaleLowerCase('en-US'),
      ),
    );
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;

    if (
      isPermission(permission, kedaRequestApprovePermission) ||
      isPermission(permission, kedaIamProvisionPermission)
    ) {
      return {
        result: this.isApprover(user)
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
      };
    }

    // Platform-only templates (cluster onboarding, provisioning of approved
    // requests) are invisible to everyone else, so nobody else can start them.
    if (
      isPermission(permission, catalogEntityReadPermission) &&
      !this.isApprover(user)
    ) {
      return createCatalogConditionalDecision(permission, {
        not: catalogConditions.hasLabel({
          label: PLATFORM_ONLY_LABEL,
          value: 'true',
        }),
      });
    }

    if (isPermission(permission, actionExecutePermission)) {
      if (this.isApprover(user)) {
        return { result: AuthorizeResult.ALLOW };
      }
      const { hasActionId, hasBooleanProperty } = scaffolderActionConditions;
      return createScaffolderActionConditionalDecision(permission, {
        anyOf: [
          {
            not: {
              anyOf: [
                hasActionId({ actionId: PLATFORM_ONLY_IAM_ACTIONS[0] }),
                ...PLATFORM_ONLY_IAM_ACTIONS.slice(1).map(actionId =>
                  hasActionId({ actionId }),
                ),
              ],
            },
          },
          {
            allOf: [
              hasActionId({ actionId: SELF_SERVICE_IAM_ACTION }),
              hasBooleanProperty({ key: 'autoApproved', value: true }),
            ],
          },
        ],
      });
    }

    return { result: AuthorizeResult.ALLOW };
  }
}
