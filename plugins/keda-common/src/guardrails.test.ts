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
      // minReplicas defaults to 0 and fallback to none
      warnings: [
        expect.objectContaining({ code: 'scale-to-zero-without-fallback' }),
      ],
    });
    expect(
      evaluate({
        maxReplicas: 20,
        fallback: { failureThreshold: 3, replicas: 2 },
      }),
    ).toEqual({
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
    expect(codes(result.warnings)).toEqual([
      'provider-deprecated',
      'scale-to-zero-without-fallback',
    ]);
  });

  it('requires approval on KEDA before 2.20 (no ExternalId)', () => {
    const result = evaluate({}, { cluster: { kedaVersion: '2.19.0' } });
    expect(codes(result.reasons)).toEqual(['no-external-id']);
    expect(codes(result.warnings)).toEqual([
      'no-external-id',
      'scale-to-zero-without-fallback',
    ]);
  });

  it('warns about cross-region polling and endpoints taken from the URL', () => {
    const result = evaluate({
      queueUrl:
        'https://vpce-0abc-x.sqs.us-east-1.vpce.amazonaws.com/222222222222/orders',
    });
    expect(codes(result.warnings)).toEqual([
      'cross-region',
      'endpoint-from-url',
      'scale-to-zero-without-fallback',
    ]);
    expect(result.approvalRequired).toBe(false);
  });
});

describe('scale to zero without a fallback', () => {
  const fallbackWarnings = (patch: object) =>
    evaluate({ maxReplicas: 20, ...patch }).warnings.filter(
      w => w.code === 'scale-to-zero-without-fallback',
    );

  it.each([
    [
      'minReplicas 0 (the default), no fallback',
      {},
      /^minReplicas is 0 and no fallback is set/,
    ],
    [
      'minReplicas 0 explicitly, no fallback',
      { minReplicas: 0 },
      /^minReplicas is 0 and no fallback is set/,
    ],
    [
      'minReplicas 0 with fallback.replicas 0 (KEDA ignores it)',
      { minReplicas: 0, fallback: { failureThreshold: 3, replicas: 0 } },
      /^minReplicas is 0 and fallback\.replicas is 0, which KEDA ignores/,
    ],
    [
      'idleReplicas 0 above minReplicas 1, no fallback',
      { minReplicas: 1, idleReplicas: 0 },
      /^idleReplicas is 0 and no fallback is set/,
    ],
  ])('warns for %s', (_why, patch, says) => {
    const [warning] = fallbackWarnings(patch);
    expect(warning).toEqual({
      code: 'scale-to-zero-without-fallback',
      field: 'fallback',
      message: expect.stringMatching(says),
    });
    expect(warning.message).toContain(
      'KEDA cannot read the queue and keeps the workload at zero replicas while messages pile up',
    );
    expect(warning.message).toContain(
      'fallback: { failureThreshold: 3, replicas: N } with N (1 to maxReplicas 20)',
    );
  });

  it.each([
    ['minReplicas 1', { minReplicas: 1 }],
    ['minReplicas 3', { minReplicas: 3, maxReplicas: 10 }],
    [
      'minReplicas 0 with a fallback',
      { minReplicas: 0, fallback: { failureThreshold: 3, replicas: 2 } },
    ],
    [
      'idleReplicas 0 with a fallback',
      {
        minReplicas: 1,
        idleReplicas: 0,
        fallback: { failureThreshold: 5, replicas: 1 },
      },
    ],
  ])('does not warn for %s', (_why, patch) => {
    expect(fallbackWarnings(patch)).toEqual([]);
  });

  it('is a warning, never a reason for approval', () => {
    const result = evaluate({ maxReplicas: 20, minReplicas: 0 });
    expect(codes(result.warnings)).toContain('scale-to-zero-without-fallback');
    expect(result.reasons).toEqual([]);
    expect(result.approvalRequired).toBe(false);
  });
});

describe('awsEndpoint guardrail', () => {
  const VPCE = 'https://vpce-0abc-x.sqs.eu-west-1.vpce.amazonaws.com';
  const endpointReasons = (
    awsEndpoint: string,
    queueUrl = 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    allowedSqsEndpoints: string[] = [VPCE],
  ) =>
    evaluate(
      { awsEndpoint, queueUrl, maxReplicas: 20 },
      { guardrails: { allowedSqsEndpoints } },
    ).reasons.filter(r => r.code === 'aws-endpoint-needs-approval');

  it.each([
    ['the queue region endpoint', 'https://sqs.eu-west-1.amazonaws.com'],
    ['with a trailing slash', 'https://sqs.eu-west-1.amazonaws.com/'],
    ['upper-case host', 'https://SQS.EU-WEST-1.AMAZONAWS.COM'],
    ['the explicit default port', 'https://sqs.eu-west-1.amazonaws.com:443'],
    ['the legacy regional form', 'https://eu-west-1.queue.amazonaws.com'],
    ['an allowed VPC endpoint', VPCE],
    ['an allowed VPC endpoint with a slash', `${VPCE}/`],
  ])('needs no approval for %s (%s)', (_why, endpoint) => {
    expect(endpointReasons(endpoint)).toEqual([]);
  });

  it.each([
    [
      'China: .amazonaws.com.cn',
      'https://sqs.cn-north-1.amazonaws.com.cn',
      'cn-north-1',
    ],
    ['GovCloud', 'https://sqs.us-gov-west-1.amazonaws.com', 'us-gov-west-1'],
    [
      'us-east-1 legacy without region',
      'https://queue.amazonaws.com',
      'us-east-1',
    ],
  ])(
    'needs no approval for the own endpoint in %s',
    (_why, endpoint, region) => {
      const suffix = region.startsWith('cn-')
        ? 'amazonaws.com.cn'
        : 'amazonaws.com';
      expect(
        endpointReasons(
          endpoint,
          `https://sqs.${region}.${suffix}/222222222222/orders`,
        ),
      ).toEqual([]);
    },
  );

  it.each([
    ['another host', 'https://sqs.example.org', 'sqs.example.org'],
    [
      'another region',
      'https://sqs.us-east-1.amazonaws.com',
      'sqs.us-east-1.amazonaws.com',
    ],
    [
      'the .cn suffix outside aws-cn',
      'https://sqs.eu-west-1.amazonaws.com.cn',
      'sqs.eu-west-1.amazonaws.com.cn',
    ],
    [
      'the legacy form of another region',
      'https://us-east-1.queue.amazonaws.com',
      'us-east-1.queue.amazonaws.com',
    ],
    ['an IP address', 'https://52.94.0.10', '52.94.0.10'],
    ['an IPv6 address', 'https://[::1]', '[::1]'],
    [
      'user info',
      'https://attacker@sqs.eu-west-1.amazonaws.com',
      'sqs.eu-west-1.amazonaws.com',
    ],
    [
      'a port',
      'https://sqs.eu-west-1.amazonaws.com:8443',
      'sqs.eu-west-1.amazonaws.com',
    ],
    [
      'a look-alike suffix',
      'https://sqs.eu-west-1.amazonaws.com.evil.example',
      'sqs.eu-west-1.amazonaws.com.evil.example',
    ],
    [
      'an allowed endpoint as host prefix',
      `${VPCE}.evil.example`,
      'vpce-0abc-x.sqs.eu-west-1.vpce.amazonaws.com.evil.example',
    ],
    [
      'an allowed endpoint on another port',
      `${VPCE}:4443`,
      'vpce-0abc-x.sqs.eu-west-1.vpce.amazonaws.com',
    ],
    [
      'an unlisted VPC endpoint',
      'https://vpce-0def-y.sqs.eu-west-1.vpce.amazonaws.com',
      'vpce-0def-y.sqs.eu-west-1.vpce.amazonaws.com',
    ],
    [
      'FIPS (not the regional endpoint)',
      'https://sqs-fips.eu-west-1.amazonaws.com',
      'sqs-fips.eu-west-1.amazonaws.com',
    ],
  ])(
    'needs approval for %s (%s), naming the host and the config key',
    (_why, endpoint, host) => {
      const reasons = endpointReasons(endpoint);
      expect(reasons).toEqual([
        {
          code: 'aws-endpoint-needs-approval',
          field: 'awsEndpoint',
          message: expect.stringContaining(`(host "${host}")`),
        },
      ]);
      expect(reasons[0].message).toContain(
        'keda.guardrails.allowedSqsEndpoints',
      );
    },
  );

  it('is an approval reason, not a violation, and turns an auto-approved request into one needing approval', () => {
    const result = evaluate(
      { awsEndpoint: 'https://sqs.example.org', maxReplicas: 20 },
      {},
    );
    expect(result.violations).toEqual([]);
    expect(result.approvalRequired).toBe(true);
    expect(codes(result.reasons)).toEqual(['aws-endpoint-needs-approval']);
  });

  it('allows nothing extra without allowedSqsEndpoints', () => {
    expect(codes(endpointReasons(VPCE, undefined, []))).toEqual([
      'aws-endpoint-needs-approval',
    ]);
    expect(
      evaluate({ awsEndpoint: VPCE, maxReplicas: 20 }).approvalRequired,
    ).toBe(true);
  });
});
