import type { KedaClusterSpec, KedaGuardrails } from './config';
import { clusterPartition } from './iam/documents';
import {
  kedaSupportsAwsEksProvider,
  kedaSupportsExternalId,
} from './kedaVersion';
import { dnsSuffixForPartition, sqsEndpoint, type SqsQueue } from './queueUrl';
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
 * The hosts of the queue region's own SQS endpoint: `sqs.<region>.<suffix>`
 * (`amazonaws.com`, `amazonaws.com.cn` in aws-cn), and in the aws partition
 * the legacy `<region>.queue.amazonaws.com` (`queue.amazonaws.com` for
 * us-east-1).
 */
function ownSqsHosts(queue: SqsQueue): string[] {
  const hosts = [
    `sqs.${queue.region}.${dnsSuffixForPartition(queue.partition)}`,
  ];
  if (queue.partition === 'aws') {
    hosts.push(`${queue.region}.queue.amazonaws.com`);
    if (queue.region === 'us-east-1') hosts.push('queue.amazonaws.com');
  }
  return hosts;
}

const withoutTrailingSlashes = (url: string) => url.replace(/\/+$/, '');

/**
 * True when `endpoint` is `entry` itself or `entry` followed by a path:
 * `https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com` allows exactly that
 * endpoint, not `https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com.example.org`
 * and not the same host on another port or with user info.
 */
function matchesAllowedEndpoint(endpoint: string, entry: string): boolean {
  const e = withoutTrailingSlashes(endpoint.trim()).toLowerCase();
  const a = withoutTrailingSlashes(entry.trim()).toLowerCase();
  return a.length > 0 && (e === a || e.startsWith(`${a}/`));
}

/**
 * Why KEDA calling `awsEndpoint` needs a platform engineer's look, or
 * undefined when it is the queue region's own SQS endpoint or one of
 * `keda.guardrails.allowedSqsEndpoints`. KEDA sends the scaler role's signed
 * requests to this host and trusts the depth it answers.
 */
function awsEndpointFinding(
  awsEndpoint: string,
  queue: SqsQueue,
  allowed: string[],
): Finding | undefined {
  const fix = `name it in keda.guardrails.allowedSqsEndpoints (platform team) or leave awsEndpoint empty to use ${sqsEndpoint(
    queue.region,
  )}`;
  let url: URL;
  try {
    url = new URL(awsEndpoint);
  } catch {
    return {
      code: 'aws-endpoint-needs-approval',
      field: 'awsEndpoint',
      message: `awsEndpoint "${awsEndpoint}" is not a URL KEDA can call; ${fix}`,
    };
  }
  if (allowed.some(entry => matchesAllowedEndpoint(awsEndpoint, entry))) {
    return undefined;
  }
  const problems: string[] = [];
  if (url.username || url.password) problems.push('carries user info');
  if (url.port) problems.push(`uses port ${url.port}`);
  if (url.pathname !== '/' || url.search || url.hash) {
    problems.push('has a path or query');
  }
  const own = ownSqsHosts(queue);
  if (!own.includes(url.hostname)) {
    problems.push(
      `is not the SQS endpoint of the queue's region ${
        queue.region
      } (${own.join(' or ')})`,
    );
  }
  if (problems.length === 0) return undefined;
  return {
    code: 'aws-endpoint-needs-approval',
    field: 'awsEndpoint',
    message: `awsEndpoint ${awsEndpoint} (host "${
      url.hostname
    }") ${problems.join(
      ', ',
    )} and is not listed in keda.guardrails.allowedSqsEndpoints: KEDA would send its signed SQS requests there and trust the depth it answers, so a platform engineer approves it. To allow it without approval, ${fix}`,
  };
}

/**
 * A workload KEDA may scale to zero, without a fallback that brings it back
 * when the scaler fails. At zero replicas only KEDA's own poll can activate
 * the workload: when it cannot read the queue (role chain broken: scaler role
 * deleted, trust or ExternalId changed, operator identity lost) KEDA marks
 * the ScaledObject not ready and leaves the replicas at zero. With
 * `fallback.replicas` above 0 it scales to that many replicas after
 * `failureThreshold` failed polls instead (KEDA ignores `fallback.replicas: 0`).
 */
function scaleToZeroWithoutFallback(request: KedaRequest): Finding | undefined {
  const toZero =
    request.minReplicas === 0
      ? 'minReplicas is 0'
      : request.idleReplicas === 0 && 'idleReplicas is 0';
  if (!toZero || (request.fallback && request.fallback.replicas > 0)) {
    return undefined;
  }
  const missing = request.fallback
    ? 'fallback.replicas is 0, which KEDA ignores'
    : 'no fallback is set';
  return {
    code: 'scale-to-zero-without-fallback',
    field: 'fallback',
    message: `${toZero} and ${missing}: if the role chain breaks, KEDA cannot read the queue and keeps the workload at zero replicas while messages pile up. Set fallback: { failureThreshold: 3, replicas: N } with N (1 to maxReplicas ${request.maxReplicas}) the replicas that keep up with the usual load, so KEDA runs them after 3 failed polls`,
  };
}

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

  if (request.awsEndpoint) {
    const endpointFinding = awsEndpointFinding(
      request.awsEndpoint,
      queue,
      guardrails.allowedSqsEndpoints ?? [],
    );
    if (endpointFinding) reasons.push(endpointFinding);
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

  const scaleToZero = scaleToZeroWithoutFallback(request);
  if (scaleToZero) warnings.push(scaleToZero);

  return {
    violations,
    approvalRequired: reasons.length > 0,
    reasons,
    warnings,
  };
}
