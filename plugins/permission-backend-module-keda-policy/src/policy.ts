import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  type PolicyDecision,
} from '@backstage/plugin-permission-common';
import type {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import {
  isKedaApprover,
  kedaPolicyDecision,
  kedaPolicyOptionsFromConfig,
  type KedaPolicyOptions,
} from './rules';

/**
 * Groups whose members approve KEDA requests and provision IAM by default;
 * the one default of keda-node's config reader, re-exported.
 */
export { DEFAULT_APPROVER_GROUPS } from '@keda-self-service/plugin-keda-node';

/**
 * The portal's permission policy: one example use of the KEDA policy pieces
 * (`./rules`), for a portal with no policy of its own.
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
 * - Everything else (what {@link kedaPolicyDecision} leaves undecided) is
 *   allowed to signed-in users, as in the default portal.
 *
 * @public
 */
export class KedaPortalPermissionPolicy implements PermissionPolicy {
  /**
   * Approver groups as keda-node's config reader reads them (same default
   * and validation as the requests backend). Only `keda.approvals` is read,
   * so a cluster misconfiguration does not take the permission policy down.
   */
  static fromConfig(config: Config): KedaPortalPermissionPolicy {
    return new KedaPortalPermissionPolicy(
      kedaPolicyOptionsFromConfig(config).approverGroups,
    );
  }

  private readonly options: KedaPolicyOptions;

  constructor(approverGroups: readonly string[]) {
    this.options = { approverGroups };
  }

  isApprover(user?: PolicyQueryUser): boolean {
    return isKedaApprover(user, this.options);
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    return (
      kedaPolicyDecision(request, user, this.options) ?? {
        result: AuthorizeResult.ALLOW,
      }
    );
  }
}
