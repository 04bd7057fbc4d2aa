import type { Finding } from './guardrails';
import type { KedaPlan } from './plan';

const code = (s: string | number) => `\`${String(s).replace(/`/g, "'")}\``;
// Table cells must not break the row.
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function findings(title: string, items: Finding[]): string[] {
  if (items.length === 0) return [];
  return [
    `**${title}**`,
    '',
    ...items.map(
      f =>
        `- ${f.field ? `${code(f.field)}: ` : ''}${f.message} (${code(
          f.code,
        )})`,
    ),
    '',
  ];
}

function json(doc: unknown): string[] {
  return ['```json', JSON.stringify(doc, null, 2), '```'];
}

/**
 * The human summary of a plan: the pull request body and the approval page
 * show it. Only derived from the plan, so it cannot disagree with it.
 * @public
 */
export function renderPlanSummary(
  plan: Omit<KedaPlan, 'summaryMarkdown'>,
): string {
  const { request, queue, cluster, scalerRole, operatorRole, guardrails } =
    plan;
  const mode =
    request.providerMode === 'aws'
      ? `TriggerAuthentication ${code('provider: aws')} with ${code(
          'roleArn',
        )}${scalerRole.externalId ? ` and ${code('externalID')}` : ''}`
      : `deprecated ${code(
          'provider: aws-eks',
        )}, role from ServiceAccount ${code(plan.names.serviceAccount ?? '?')}`;
  let status = '✅ **Auto-approved** within the guardrails.';
  if (guardrails.violations.length > 0) {
    status = '⛔ **Blocked** by guardrails — see below.';
  } else if (guardrails.approvalRequired) {
    status = '🕓 **Needs approval** by the platform team.';
  }

  const lines = [
    `## KEDA autoscaling for ${code(
      `${request.workload.kind}/${request.workload.name}`,
    )} on ${code(cluster.name)}`,
    '',
    status,
    '',
    `Scales ${code(
      `${request.namespace}/${request.workload.name}`,
    )} on the depth of SQS queue ${code(queue.queueName)} in account ${code(
      queue.accountId,
    )} (${queue.region}).`,
    '',
    '| | |',
    '|---|---|',
    `| Entity | ${code(request.entityRef)} |`,
    ...(plan.requester ? [`| Requested by | ${code(plan.requester)} |`] : []),
    ...(request.requestId ? [`| Request | ${code(request.requestId)} |`] : []),
    `| Queue | ${cell(queue.url)} |`,
    ...(request.awsEndpoint
      ? [`| SQS endpoint (awsEndpoint) | ${cell(request.awsEndpoint)} |`]
      : []),
    `| Replicas | ${request.minReplicas}–${request.maxReplicas}${
      request.idleReplicas !== undefined
        ? ` (idle ${request.idleReplicas})`
        : ''
    } |`,
    `| Target | ${request.queueLength} messages per replica, active above ${request.activationQueueLength} |`,
    `| Counted | visible${request.scaleOnInFlight ? ' + in flight' : ''}${
      request.scaleOnDelayed ? ' + delayed' : ''
    } messages |`,
    `| Polling / cooldown | ${request.pollingInterval} s / ${request.cooldownPeriod} s |`,
    ...(request.fallback
      ? [
          `| Fallback | ${request.fallback.replicas} replicas after ${request.fallback.failureThreshold} failed polls |`,
        ]
      : []),
    `| KEDA | ${cluster.kedaVersion} (${mode}) |`,
    '',
    '### Role chain',
    '',
    `1. KEDA operator (${code(
      `${cluster.operator.namespace}/${cluster.operator.serviceAccount}`,
    )}) → ${cluster.identity === 'irsa' ? 'IRSA' : 'EKS Pod Identity'} → ${code(
      operatorRole.arn,
    )}`,
    `2. ${code('sts:AssumeRole')}${
      scalerRole.externalId ? ' with ExternalId' : ''
    } → ${code(scalerRole.arn)}`,
    `3. ${code('sqs:GetQueueAttributes')} on ${code(queue.arn)} — nothing else`,
    '',
    ...findings('Blocking', guardrails.violations),
    ...findings('Approval required because', guardrails.reasons),
    ...findings('Warnings', guardrails.warnings),
    '### IAM changes',
    '',
    `**Scaler role** ${code(scalerRole.name)} in ${code(
      scalerRole.accountId,
    )} (path ${code(scalerRole.path)}${
      scalerRole.permissionsBoundaryArn
        ? `, boundary ${code(scalerRole.permissionsBoundaryArn)}`
        : ''
    }, max session ${scalerRole.maxSessionDuration} s) — trust policy:`,
    '',
    ...json(scalerRole.trustPolicy),
    '',
    `Inline policy ${code(scalerRole.permissionPolicyName)}:`,
    '',
    ...json(scalerRole.permissionPolicy),
    '',
    `**Operator role** ${code(operatorRole.name)} in ${code(
      operatorRole.accountId,
    )} — inline policy ${code(
      operatorRole.permissionPolicyName,
    )} (must allow this chain):`,
    '',
    ...json(operatorRole.permissionPolicy),
    '',
    '### Files',
    '',
    ...plan.manifests.map(f => `- ${code(f.path)}`),
    '',
  ];
  return lines.join('\n');
}
