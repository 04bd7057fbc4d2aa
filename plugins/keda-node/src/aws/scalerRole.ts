import {
  MANAGED_BY_VALUE,
  ROLE_TAG_KEYS,
  type KedaClusterSpec,
  type KedaPlan,
  type OperatorRolePlan,
} from '@keda-self-service/plugin-keda-common';
import type { DesiredRole } from './roleReconcile';

/** Tag keys recording who and which task last changed a role. @public */
export const PROVENANCE_TAG_KEYS = {
  requester: 'keda.backstage.io/requested-by',
  taskId: 'keda.backstage.io/task-id',
} as const;

/** @public */
export interface Provenance {
  requester?: string;
  taskId?: string;
}

function provenanceTags(provenance: Provenance): Record<string, string> {
  return {
    ...(provenance.requester
      ? { [PROVENANCE_TAG_KEYS.requester]: provenance.requester.slice(0, 256) }
      : {}),
    ...(provenance.taskId
      ? { [PROVENANCE_TAG_KEYS.taskId]: provenance.taskId.slice(0, 256) }
      : {}),
  };
}

/**
 * The scaler role (queue account B) of a plan as reconcile's desired state.
 * Everything comes from the plan, i.e. from keda-common's builders: the
 * documents applied are the ones the pull request and the approval page show.
 * @public
 */
export function desiredScalerRole(
  plan: KedaPlan,
  provenance: Provenance = {},
): DesiredRole {
  const role = plan.scalerRole;
  return {
    accountId: role.accountId,
    name: role.name,
    path: role.path,
    arn: role.arn,
    trustPolicy: role.trustPolicy,
    inlinePolicies: { [role.permissionPolicyName]: role.permissionPolicy },
    tags: role.tags,
    provenanceTags: provenanceTags(provenance),
    permissionsBoundaryArn: role.permissionsBoundaryArn,
    maxSessionDuration: role.maxSessionDuration,
    description: role.description,
  };
}

/**
 * The cluster's KEDA operator role (account A) as reconcile's desired state.
 * Tagged with its cluster, which reconcile treats as the role's identity: a
 * role tagged for another cluster is refused. A role shared on purpose
 * (`operator.sharedRole`, so `operator.sharedIssuers` is set) carries no
 * cluster tag and a description naming no cluster, so that every sharing
 * cluster converges it to the very same state.
 * @public
 */
export function desiredOperatorRole(
  cluster: KedaClusterSpec,
  operatorRole: OperatorRolePlan,
  options: {
    permissionsBoundaryArn?: string;
    tags?: Record<string, string>;
  } & Provenance = {},
): DesiredRole {
  const shared = (cluster.operator.sharedIssuers?.length ?? 0) > 0;
  return {
    accountId: operatorRole.accountId,
    name: operatorRole.name,
    path: operatorRole.path,
    arn: operatorRole.arn,
    trustPolicy: operatorRole.trustPolicy,
    inlinePolicies: {
      [operatorRole.permissionPolicyName]: operatorRole.permissionPolicy,
    },
    tags: {
      ...options.tags,
      [ROLE_TAG_KEYS.managedBy]: MANAGED_BY_VALUE,
      ...(shared ? {} : { [ROLE_TAG_KEYS.cluster]: cluster.name }),
    },
    provenanceTags: provenanceTags(options),
    permissionsBoundaryArn: options.permissionsBoundaryArn,
    description: shared
      ? 'KEDA operator shared by several clusters (operator.sharedRole): assumes KEDA scaler roles in queue accounts'
      : `KEDA operator of cluster ${cluster.name}: assumes KEDA scaler roles in queue accounts`,
  };
}
