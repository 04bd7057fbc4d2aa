import type { KedaClusterSpec, KedaGuardrails } from './config';
import { clusterPartition } from './iam/documents';
import {
  kedaSupportsAwsEksProvider,
  kedaSupportsExternalId,
} from './kedaVersion';
import type { SqsQueue } from './queueUrl';
import type { KedaRequest } from './request';

/**
 * Why a request is blocked, needs approval, or deserves a second look.
 * `field` is the request field to change, when one is to blame.
 * @public
 */
export interface Finding {
  code: string;
  field?: string;
  message: string;
}

/** @public */
export interface GuardrailEvaluation {
  /** blocking: the request cannot be provisioned as it is */
  violations: Finding[];
  /** true when a platform engineer has to approve (see `reasons`) */
  approvalRequired: boolean;
  /** why approval is required; empty when auto-approved */
  reasons: Finding[];
  /** not blocking, worth showing to requester and approver */
  warnings: Finding[];
}

const list = (values: string[]) => values.join(', ');

/**
 * Evaluates a request against the platform's guardrails: what is not allowed
 * at all, and what is allowed but needs a platform engineer's approval.
 * Pure: the same inputs always give the same findings in the same order.
 * @public
 */
export function evaluateGuardrails(
  request: KedaRequest,
  cluster: KedaClusterSpec,
  queue: SqsQueue,
  guardrails: KedaGuardrails,
): GuardrailEvaluation {
  const violations: Finding[] = [];
  const reasons: Finding[] = [];
  const warnings: Finding[] = [];

  if (request.cluster !== cluster.name) {
    violations.push({
      code: 'cluster-mismatch',
      field: 'cluster',
      message: `The request names cluster "${request.cluster}" but was evaluated against "${cluster.name}"`,
    });
  }
  if (
    guardrails.allowedClusters &&
    !guardrails.allowedClusters.includes(cluster.name)
  ) {
    violations.push({
      code: 'cluster-not-allowed',
      field: 'cluster',
      message: `Cluster "${
        cluster.name
      }" is not open for self-service autoscaling; allowed: ${list(
        guardrails.allowedClusters,
      )}`,
    });
  }
  if (!guardrails.allowedQueueAccounts.includes(queue.accountId)) {
    violations.push({
      code: 'queue-account-not-allowed',
      field: 'queueUrl',
      message: `Queue account ${
        queue.accountId
      } is not one KEDA may read from; allowed accounts: ${list(
        guardrails.allowedQueueAccounts,
      )}. Ask the platform team to add it to keda.guardrails.allowedQueueAccounts`,
    });
  }
  if (request.maxReplicas > guardrails.maxReplicas) {
    violations.push({
      code: 'max-replicas-above-ceiling',
      field: 'maxReplicas',
      message: `maxReplicas ${request.maxReplicas} is above the platform ceiling of ${guardrails.maxReplicas}`,
    });
  }
  const partition = clusterPartition(cluster);
  if (queue.partition !== partition) {
    violations.push({
      code: 'partition-mismatch',
      field: 'queueUrl',
      message: `The queue is in partition ${queue.partition} but cluster "${cluster.name}" is in ${partition}; IAM roles cannot be assumed across partitions`,
    });
  }
  if (cluster.identity === 'irsa' && !cluster.oidcIssuer) {
    violations.push({
      code: 'oidc-issuer-missing',
      field: 'cluster',
      message: `Cluster "${cluster.name}" uses IRSA but has no oidcIssuer configured (keda.clusters[].oidcIssuer); the platform team must set it`,
    });
  } else if (request.providerMode === 'aws-eks' && !cluster.oidcIssuer) {
    // The article's trust lets the workload's pods in through the cluster's
    // OIDC provider; without an issuer that statement cannot be written.
    violations.push({
      code: 'oidc-issuer-missing',
      field: 'providerMode',
      message: `providerMode aws-eks trusts the workload's service account through the cluster's OIDC issuer, which cluster "${cluster.name}" does not configure; use providerMode aws`,
    });
  }
  if (request.providerMode === 'aws-eks') {
    if (!kedaSupportsAwsEksProvider(cluster.kedaVersion)) {
      violations.push({
        code: 'provider-removed',
        field: 'providerMode',
        message: `KEDA ${cluster.kedaVersion} on "${cluster.name}" no longer has the aws-eks provider; use providerMode aws`,
      });
    } else {
      warnings.push({
        code: 'provider-deprecated',
        field: 'providerMode',
        message:
          'The aws-eks provider is deprecated since KEDA 2.13 and removed in v3; providerMode aws with roleArn is the supported way',
      });
      reasons.push({
        code: 'legacy-provider',
        field: 'providerMode',
        message: `providerMode aws-eks also lets the workload's own pods (service account ${
          request.serviceAccountName ?? '?'
        }) assume the scaler role, and uses no ExternalId`,
      });
    }
  } else if (!kedaSupportsExternalId(cluster.kedaVersion)) {
    warnings.push({
      code: 'no-external-id',
      message: `KEDA ${cluster.kedaVersion} on "${cluster.name}" predates podIdentity.externalID (2.20); upgrade KEDA so the scaler role can require an ExternalId`,
    });
    reasons.push({
      code: 'no-external-id',
      message: `Without an ExternalId (KEDA ${cluster.kedaVersion} < 2.20) any namespace on "${cluster.name}" that names this role in a TriggerAuthentication could read the queue's depth`,
    });
  }

  const auto = guardrails.autoApprove;
  if (!auto) {
    reasons.push({
      code: 'approval-always-required',
      message:
        'No auto-approve rules are configured (keda.guardrails.autoApprove): a platform engineer approves every request',
    });
  } else {
    if (
      auto.maxReplicas !== undefined &&
      request.maxReplicas > auto.maxReplicas
    ) {
      reasons.push({
        code: 'replicas-above-auto-approve',
        field: 'maxReplicas',
        message: `maxReplicas ${request.maxReplicas} is above ${auto.maxReplicas}, the most that is approved automatically`,
      });
    }
    if (auto.queueAccounts && !auto.queueAccounts.includes(queue.accountId)) {
      reasons.push({
        code: 'queue-account-needs-approval',
        field: 'queueUrl',
        message: `Queues in account ${
          queue.accountId
        } need approval; automatic only for ${
          list(auto.queueAccounts) || 'no account'
        }`,
      });
    }
    if (auto.clusters && !auto.clusters.includes(cluster.name)) {
      reasons.push({
        code: 'cluster-needs-approval',
        field: 'cluster',
        message: `Autoscaling on cluster "${
          cluster.name
        }" needs approval; automatic only for ${
          list(auto.clusters) || 'no cluster'
        }`,
      });
    }
  }

  if (queue.region !== cluster.region) {
    warnings.push({
      code: 'cross-region',
      field: 'queueUrl',
      message: `The queue is in ${queue.region} and the cluster in ${cluster.region}: KEDA polls across regions (awsRegion is set to ${queue.region})`,
    });
  }
  if (queue.endpoint && !request.awsEndpoint) {
    warnings.push({
      code: 'endpoint-from-url',
      field: 'awsEndpoint',
      message: `The queue URL uses ${queue.endpoint} (${queue.hostForm}); KEDA will call that endpoint (awsEndpoint) with the canonical queue URL`,
    });
  }

  return {
    violations,
    approvalRequired: reasons.length > 0,
    reasons,
    warnings,
  };
}
