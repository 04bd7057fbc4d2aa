import type { KedaClusterSpec, KedaGuardrails } from './config';
import { evaluateGuardrails } from './guardrails';
import { parseQueueUrl } from './queueUrl';
import { parseKedaRequest } from './request';

const cluster: KedaClusterSpec = {
  name: 'prod-eu',
  accountId: '111111111111',
  region: 'eu-west-1',
  oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
  kedaVersion: '2.20.2',
  identity: 'irsa',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator',
  },
};
const guardrails: KedaGuardrails = {
  allowedQueueAccounts: ['222222222222'],
  maxReplicas: 50,
  autoApprove: { maxReplicas: 20, queueAccounts: ['222222222222'] },
};
const request = (patch: object = {}) =>
  parseKedaRequest({
    entityRef: 'component:default/orders-worker',
    cluster: 'prod-eu',
    namespace: 'shop',
    workload: { name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    ...patch,
  });
const evaluate = (
  patch: object = {},
  over: {
    cluster?: Partial<KedaClusterSpec>;
    guardrails?: Partial<KedaGuardrails>;
  } = {},
) => {
  const req = request(patch);
  return evaluateGuardrails(
    req,
    { ...cluster, ...over.cluster },
    parseQueueUrl(req.queueUrl),
    { ...guardrails, ...over.guardrails },
  );
};
const codes = (findings: { code: string }[]) => findings.map(f => f.code);

describe('evaluateGuardrails', () => {
  it('auto-approves a request inside every rule', () => {
    expect(evaluate({ maxReplicas: 20 })).toEqual({
      violations: [],
      approvalRequired: false,
      reasons: [],
      warnings: [],
    });
  });

  it('blocks a queue account outside the allowed list, saying which are allowed', () => {
    const result = evaluate({
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/999999999999/orders',
    });
    expect(result.violations).toEqual([
      expect.objectContaining({
        code: 'queue-account-not-allowed',
        field: 'queueUrl',
        message: expect.stringMatching(
          /999999999999 .* allowed accounts: 222222222222/,
        ),
      }),
    ]);
  });

  it('blocks maxReplicas above the ceiling', () => {
    expect(codes(evaluate({ maxReplicas: 51 }).violations)).toEqual([
      'max-replicas-above-ceiling',
    ]);
  });

  it('blocks clusters outside allowedClusters', () => {
    expect(
      codes(
        evaluate({}, { guardrails: { allowedClusters: ['staging'] } })
          .violations,
      ),
    ).toEqual(['cluster-not-allowed']);
  });

  it('blocks a queue in another partition', () => {
    const result = evaluate({
      queueUrl: 'https://sqs.cn-north-1.amazonaws.com.cn/222222222222/orders',
    });
    expect(codes(result.violations)).toEqual(['partition-mismatch']);
  });

  it('blocks an IRSA cluster without an OIDC issuer', () => {
    expect(
      codes(evaluate({}, { cluster: { oidcIssuer: undefined } }).violations),
    ).toEqual(['oidc-issuer-missing']);
  });

  it('blocks aws-eks on KEDA 3', () => {
    const result = evaluate(
      { providerMode: 'aws-eks', serviceAccountName: 'orders-worker' },
      { cluster: { kedaVersion: '3.0.0' } },
    );
    expect(codes(result.violations)).toEqual(['provider-removed']);
  });

  it('requires approval above the auto-approve replica limit', () => {
    const result = evaluate({ maxReplicas: 21 });
    expect(result.violations).toEqual([]);
    expect(result.approvalRequired).toBe(true);
    expect(result.reasons).toEqual([
      expect.objectContaining({
        code: 'replicas-above-auto-approve',
        field: 'maxReplicas',
        message: expect.stringMatching(/21 is above 20/),
      }),
    ]);
  });

  it('requires approval for every request when no auto-approve rules exist', () => {
    const result = evaluate({}, { guardrails: { autoApprove: undefined } });
    expect(codes(result.reasons)).toEqual(['approval-always-required']);
  });

  it('requires approval for clusters and accounts outside the auto-approve lists', () => {
    const result = evaluate(
      {},
      {
        guardrails: {
          allowedQueueAccounts: ['222222222222'],
          autoApprove: { queueAccounts: [], clusters: ['staging'] },
        },
      },
    );
    expect(codes(result.reasons)).toEqual([
      'queue-account-needs-approval',
      'cluster-needs-approval',
    ]);
  });

  it('requires approval and warns for the legacy aws-eks provider', () => {
    const result = evaluate({
      providerMode: 'aws-eks',
      serviceAccountName: 'orders-worker',
    });
    expect(codes(result.reasons)).toEqual(['legacy-provider']);
    expect(codes(result.warnings)).toEqual(['provider-deprecated']);
  });

  it('requires approval on KEDA before 2.20 (no ExternalId)', () => {
    const result = evaluate({}, { cluster: { kedaVersion: '2.19.0' } });
    expect(codes(result.reasons)).toEqual(['no-external-id']);
    expect(codes(result.warnings)).toEqual(['no-external-id']);
  });

  it('warns about cross-region polling and endpoints taken from the URL', () => {
    const result = evaluate({
      queueUrl:
        'https://vpce-0abc-x.sqs.us-east-1.vpce.amazonaws.com/222222222222/orders',
    });
    expect(codes(result.warnings)).toEqual([
      'cross-region',
      'endpoint-from-url',
    ]);
    expect(result.approvalRequired).toBe(false);
  });
});
