import { validateKedaAdmission } from './admission';

const so = (spec: object, name = 'orders-worker', extra: object = {}) => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name, namespace: 'shop', ...extra },
  spec: {
    scaleTargetRef: { name: 'orders-worker' },
    triggers: [
      {
        type: 'aws-sqs-queue',
        metadata: { queueURL: 'x', awsRegion: 'eu-west-1' },
      },
    ],
    ...spec,
  },
});
const ta = (podIdentity: object, kind = 'TriggerAuthentication') => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind,
  metadata: { name: 'auth', namespace: 'shop' },
  spec: { podIdentity },
});

describe('validateKedaAdmission', () => {
  it.each<[string, object, RegExp]>([
    [
      'a name over 63 characters',
      so({}, 'n'.repeat(64)),
      /scaledobject name "n+" is 64 characters long; must be no more than 63/,
    ],
    [
      'a derived HPA name over 63 characters',
      so({}, 'n'.repeat(55)),
      /HPA name "keda-hpa-n+" .* set spec\.advanced\.horizontalPodAutoscalerConfig\.name/,
    ],
    [
      'min above max',
      so({ minReplicaCount: 5, maxReplicaCount: 2 }),
      /MinReplicaCount=5 must be less than MaxReplicaCount=2/,
    ],
    [
      'min above the default max of 100',
      so({ minReplicaCount: 101 }),
      /MaxReplicaCount=100/,
    ],
    [
      'idle not below min',
      so({ idleReplicaCount: 0, minReplicaCount: 0 }),
      /IdleReplicaCount=0 must be less than MinReplicaCount=0/,
    ],
    ['no triggers', so({ triggers: [] }), /no triggers defined/],
    [
      'duplicate trigger names',
      so({
        triggers: [
          { type: 'aws-sqs-queue', name: 'q', metadata: {} },
          { type: 'aws-sqs-queue', name: 'q', metadata: {} },
        ],
      }),
      /triggerName "q" is defined multiple times/,
    ],
    [
      'cached metrics on cpu',
      so({ triggers: [{ type: 'cpu', useCachedMetrics: true, metadata: {} }] }),
      /useCachedMetrics/,
    ],
    [
      'fallback with a Value metric',
      so({
        fallback: { failureThreshold: 3, replicas: 1 },
        triggers: [
          { type: 'aws-sqs-queue', metricType: 'Value', metadata: {} },
        ],
      }),
      /Fallback can only be enabled for triggers with metric of type AverageValue/,
    ],
    [
      'fallback with a cpu trigger',
      so({
        fallback: { failureThreshold: 3, replicas: 1 },
        triggers: [{ type: 'cpu', metadata: {} }],
      }),
      /not supported by the CPU & memory scalers/,
    ],
    [
      'negative fallback',
      so({ fallback: { failureThreshold: -1, replicas: 1 } }),
      /must both be greater than or equal to 0/,
    ],
    [
      'externalID without roleArn',
      ta({ provider: 'aws', externalID: 'abc' }),
      /externalID of PodIdentity requires roleArn/,
    ],
    [
      'roleArn with identityOwner workload',
      ta({
        provider: 'aws',
        roleArn: 'arn:aws:iam::1:role/r',
        identityOwner: 'workload',
      }),
      /roleArn of PodIdentity can't be set if KEDA isn't identityOwner/,
    ],
    [
      'the same on a ClusterTriggerAuthentication',
      ta(
        { provider: 'aws', externalID: 'abc' },
        'ClusterTriggerAuthentication',
      ),
      /requires roleArn/,
    ],
  ])('rejects %s', (_why, obj, message) => {
    const result = validateKedaAdmission(obj);
    expect(result.allowed).toBe(false);
    expect(result.errors.join('\n')).toMatch(message);
  });

  it.each<[string, object]>([
    ['a 54-character name (HPA name exactly 63)', so({}, 'n'.repeat(54))],
    [
      'a long name with a short explicit HPA name',
      so(
        { advanced: { horizontalPodAutoscalerConfig: { name: 'short' } } },
        'n'.repeat(60),
      ),
    ],
    ['idle 0 below min 1', so({ idleReplicaCount: 0, minReplicaCount: 1 })],
    [
      'fallback with the default metric type',
      so({ fallback: { failureThreshold: 3, replicas: 1 } }),
    ],
    [
      'roleArn with externalID',
      ta({
        provider: 'aws',
        roleArn: 'arn:aws:iam::1:role/r',
        externalID: 'abc',
      }),
    ],
    [
      'identityOwner workload without roleArn',
      ta({ provider: 'aws', identityOwner: 'workload' }),
    ],
    ['the aws-eks provider', ta({ provider: 'aws-eks' })],
    [
      'another API group',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x'.repeat(100) },
      },
    ],
  ])('admits %s', (_why, obj) => {
    expect(validateKedaAdmission(obj)).toEqual({ allowed: true, errors: [] });
  });

  it('rejects something that is not an object', () => {
    expect(validateKedaAdmission('nope').allowed).toBe(false);
  });
});
