import {
  plan,
  type KedaRequestAction,
  type KedaRequestRecord,
  type KedaRequestState,
  type KedaVerification,
} from '@keda-self-service/plugin-keda-common';

// Test data only: the article's setup (EKS in 111111111111, queues in
// 222222222222), planned by the real planner so the page is tested against
// the documents and manifests the backend would store.

export const JANE = 'user:default/jane.doe';
export const SAM = 'user:default/sam.approver';
export const TEAM_ORDERS = 'group:default/team-orders';

const cluster = {
  name: 'prod-eu',
  accountId: '111111111111',
  region: 'eu-west-1',
  oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
  kedaVersion: '2.20.2',
  identity: 'irsa' as const,
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator',
  },
  gitops: {
    repoUrl: 'github.com?owner=acme&repo=gitops',
    path: 'clusters/{cluster}/{namespace}/{name}',
  },
};

/** A request record for `workload` planned with the test configuration. */
export function requestRecord(
  options: {
    id?: string;
    workload?: string;
    state?: KedaRequestState;
    requester?: string;
    maxReplicas?: number;
    /** what the backend says the page's user may do; default nothing */
    allowedActions?: KedaRequestAction[];
  } = {},
): KedaRequestRecord {
  const id = options.id ?? 'req-orders';
  const workload = options.workload ?? 'orders-worker';
  const requester = options.requester ?? JANE;
  const kedaPlan = plan({
    request: {
      requestId: id,
      entityRef: `component:default/${workload}`,
      cluster: 'prod-eu',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: workload },
      kubernetesId: workload,
      queueUrl: `https://sqs.eu-west-1.amazonaws.com/222222222222/${workload}-queue`,
      minReplicas: 0,
      maxReplicas: options.maxReplicas ?? 20,
    },
    cluster,
    roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
    guardrails: {
      allowedQueueAccounts: ['222222222222'],
      maxReplicas: 50,
      autoApprove: { maxReplicas: 10, queueAccounts: ['222222222222'] },
    },
    externalId: '5d41402abc4b2a76b9719d911017c592',
    requester,
  });
  return {
    id,
    entityRef: `component:default/${workload}`,
    requester,
    owner: TEAM_ORDERS,
    cluster: 'prod-eu',
    queueUrl: kedaPlan.queue.url,
    state: options.state ?? 'pending',
    autoApproved: false,
    approvalReasons: kedaPlan.guardrails.reasons.map(r => r.message),
    plan: kedaPlan,
    pullRequest: {
      url: 'https://github.com/acme/gitops/pull/42',
      number: 42,
      repoUrl: 'github.com?owner=acme&repo=gitops',
    },
    createdAt: '2026-11-28T06:00:00.000Z',
    updatedAt: '2026-11-28T06:00:00.000Z',
    decisions: [
      {
        actor: requester,
        decision: 'created',
        comment: 'orders backlog at peak',
        at: '2026-11-28T06:00:00.000Z',
      },
    ],
    allowedActions: options.allowedActions ?? [],
  };
}

/**
 * A role chain verification of `record`'s plan as
 * `keda:aws:scaler-role:ensure` reports it: the simulator's check on the
 * scaler role with `scalerOutcome`, and Access Analyzer unable to run.
 */
export function roleChainVerification(
  record: KedaRequestRecord,
  scalerOutcome: 'pass' | 'fail' = 'pass',
): KedaVerification {
  const scaler = record.plan.scalerRole.arn;
  return {
    ok: scalerOutcome === 'pass',
    checks: [
      {
        check: 'simulate-scaler-permissions',
        subject: scaler,
        outcome: scalerOutcome,
        detail:
          scalerOutcome === 'pass'
            ? `sqs:GetQueueAttributes on ${record.plan.queue.arn}: allowed`
            : `sqs:GetQueueAttributes on ${record.plan.queue.arn}: implicitDeny`,
      },
      {
        check: 'access-analyzer-validate-policy',
        subject: `${scaler} trust policy`,
        outcome: 'warning',
        detail:
          'could not run: AccessDenied on access-analyzer:ValidatePolicy; grant it to the portal role',
      },
    ],
  };
}
