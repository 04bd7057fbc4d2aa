import {
  SimulatePrincipalPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import {
  MANAGED_BY_VALUE,
  policyJson,
  ROLE_TAG_KEYS,
  type PolicyDocument,
  type KedaClusterSpec,
  type KedaPlan,
  type OperatorRolePlan,
} from '@internal/plugin-keda-common';
import { describeAwsError } from './errors';
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

/** One simulated decision. @public */
export interface SimulatedDecision {
  principal: string;
  action: string;
  resource: string;
  decision: string;
  expected: 'allowed' | 'denied';
  ok: boolean;
}

/** Result of proving the role chain with `iam:SimulatePrincipalPolicy`. @public */
export interface ChainVerification {
  ok: boolean;
  decisions: SimulatedDecision[];
  /** set when a part could not be checked (e.g. no credentials for account A) */
  skipped?: string[];
}

async function simulate(
  iam: IAMClient,
  accountId: string,
  principal: string,
  actions: string[],
  resource: string,
  crossAccount?: {
    resourcePolicy: PolicyDocument;
    resourceOwner: string;
    context: Record<string, string>;
  },
): Promise<Map<string, string>> {
  try {
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: principal,
        ActionNames: actions,
        ResourceArns: [resource],
        ...(crossAccount
          ? {
              ResourcePolicy: policyJson(crossAccount.resourcePolicy),
              ResourceOwner: crossAccount.resourceOwner,
              ContextEntries: Object.entries(crossAccount.context).map(
                ([ContextKeyName, value]) => ({
                  ContextKeyName,
                  ContextKeyValues: [value],
                  ContextKeyType: 'string' as const,
                }),
              ),
            }
          : {}),
      }),
    );
    return new Map(
      (out.EvaluationResults ?? []).map(r => [
        r.EvalActionName ?? '',
        r.EvalDecision ?? 'unknown',
      ]),
    );
  } catch (error) {
    throw describeAwsError(error, {
      action: 'iam:SimulatePrincipalPolicy',
      resource: principal,
      accountId,
    });
  }
}

/**
 * Proves with IAM's own policy simulator that (1) the scaler role may
 * `sqs:GetQueueAttributes` on the queue, and nothing that would let KEDA
 * consume or change it, permissions boundary included; and (2), when an IAM
 * client for the cluster account is given, that the operator role may
 * `sts:AssumeRole` the scaler role: its own permission together with the
 * scaler role's trust policy and the ExternalId KEDA sends.
 * @public
 */
export async function verifyScalerChain(options: {
  queueAccountIam: IAMClient;
  plan: KedaPlan;
  clusterAccountIam?: IAMClient;
}): Promise<ChainVerification> {
  const { plan } = options;
  const decisions: SimulatedDecision[] = [];
  const expectations: Array<[string, 'allowed' | 'denied']> = [
    ['sqs:GetQueueAttributes', 'allowed'],
    ['sqs:ReceiveMessage', 'denied'],
    ['sqs:DeleteMessage', 'denied'],
  ];
  const scaler = await simulate(
    options.queueAccountIam,
    plan.scalerRole.accountId,
    plan.scalerRole.arn,
    expectations.map(([a]) => a),
    plan.queue.arn,
  );
  for (const [action, expected] of expectations) {
    const decision = scaler.get(action) ?? 'unknown';
    decisions.push({
      principal: plan.scalerRole.arn,
      action,
      resource: plan.queue.arn,
      decision,
      expected,
      ok:
        expected === 'allowed'
          ? decision === 'allowed'
          : decision !== 'allowed',
    });
  }
  const skipped: string[] = [];
  if (options.clusterAccountIam) {
    // Cross-account: IAM allows the assume only when the operator's own
    // policy AND the scaler role's trust (with the ExternalId KEDA sends)
    // allow it, so the simulation gets the trust as resource policy.
    const operator = await simulate(
      options.clusterAccountIam,
      plan.operatorRole.accountId,
      plan.operatorRole.arn,
      ['sts:AssumeRole'],
      plan.scalerRole.arn,
      {
        resourcePolicy: plan.scalerRole.trustPolicy,
        resourceOwner: `arn:${plan.queue.partition}:iam::${plan.scalerRole.accountId}:root`,
        context: plan.scalerRole.externalId
          ? { 'sts:ExternalId': plan.scalerRole.externalId }
          : {},
      },
    );
    const decision = operator.get('sts:AssumeRole') ?? 'unknown';
    decisions.push({
      principal: plan.operatorRole.arn,
      action: 'sts:AssumeRole',
      resource: plan.scalerRole.arn,
      decision,
      expected: 'allowed',
      ok: decision === 'allowed',
    });
  } else {
    skipped.push(
      `operator role ${plan.operatorRole.arn} may sts:AssumeRole (no credentials for account ${plan.operatorRole.accountId})`,
    );
  }
  return {
    ok: decisions.every(d => d.ok),
    decisions,
    ...(skipped.length ? { skipped } : {}),
  };
}

/**
 * A person-readable explanation of the failed decisions of a verification.
 * @public
 */
export function describeChainFailure(verification: ChainVerification): string {
  return verification.decisions
    .filter(d => !d.ok)
    .map(d =>
      d.expected === 'allowed'
        ? `${d.principal} is not allowed ${d.action} on ${
            d.resource
          } (simulator: ${d.decision})${
            d.action === 'sts:AssumeRole'
              ? '; run the keda-cluster-onboarding template so the operator role may assume roles under keda.roles.path'
              : '; a permissions boundary (keda.roles.permissionsBoundaryArn) or SCP may deny it'
          }`
        : `${d.principal} is allowed ${d.action} on ${d.resource}, more than KEDA needs; check policies attached outside Backstage`,
    )
    .join('; ');
}
