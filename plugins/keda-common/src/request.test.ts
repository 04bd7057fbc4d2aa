import { InputError } from '@backstage/errors';
import {
  KedaRequestError,
  kedaRequestSchema,
  parseKedaRequest,
} from './request';

const minimal = {
  entityRef: 'component:default/orders-worker',
  cluster: 'prod-eu',
  namespace: 'shop',
  workload: { name: 'orders-worker' },
  kubernetesId: 'orders-worker',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
};

describe('kedaRequestSchema', () => {
  it("applies KEDA's defaults to a minimal request", () => {
    expect(parseKedaRequest(minimal)).toEqual({
      ...minimal,
      workload: { kind: 'Deployment', name: 'orders-worker' },
      minReplicas: 0,
      maxReplicas: 10,
      queueLength: 5,
      activationQueueLength: 0,
      pollingInterval: 30,
      cooldownPeriod: 300,
      scaleOnInFlight: true,
      scaleOnDelayed: false,
      providerMode: 'aws',
    });
  });

  it.each<[string, object, string, RegExp]>([
    [
      'a bad queue URL',
      { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/22/orders' },
      'queueUrl',
      /12-digit/,
    ],
    [
      'min above max',
      { minReplicas: 5, maxReplicas: 2 },
      'minReplicas',
      /minReplicas \(5\) must not exceed maxReplicas \(2\)/,
    ],
    [
      'idle not below min',
      { idleReplicas: 0 },
      'idleReplicas',
      /must be less than minReplicas/,
    ],
    [
      'idle other than 0',
      { minReplicas: 3, idleReplicas: 1 },
      'idleReplicas',
      /can only be 0/,
    ],
    [
      'fallback above max',
      { maxReplicas: 3, fallback: { failureThreshold: 3, replicas: 4 } },
      'fallback.replicas',
      /must not exceed maxReplicas/,
    ],
    [
      'aws-eks without a service account',
      { providerMode: 'aws-eks' },
      'serviceAccountName',
      /set serviceAccountName/,
    ],
    ['a fractional queueLength', { queueLength: 2.5 }, 'queueLength', /./],
    [
      'queueLength 0',
      { queueLength: 0 },
      'queueLength',
      /at least 1 message per replica/,
    ],
    [
      'an upper-case namespace',
      { namespace: 'Shop' },
      'namespace',
      /DNS label/,
    ],
    [
      'a bad entity ref',
      { entityRef: 'orders worker' },
      'entityRef',
      /catalog entity ref/,
    ],
    [
      'an entity ref longer than any catalog entity (bad-input corpus, #16)',
      { entityRef: `component:default/${'o'.repeat(150_000)}` },
      'entityRef',
      /at most 255 characters/,
    ],
    [
      'a ServiceAccount name longer than a Kubernetes object name',
      { serviceAccountName: 's'.repeat(254) },
      'serviceAccountName',
      /at most 253 characters/,
    ],
    [
      'an unknown workload kind',
      { workload: { kind: 'CronJob', name: 'x' } },
      'workload.kind',
      /./,
    ],
    [
      'a bad endpoint',
      { awsEndpoint: 'vpce-123' },
      'awsEndpoint',
      /must be a URL/,
    ],
    [
      'an http endpoint',
      { awsEndpoint: 'http://sqs.eu-west-1.amazonaws.com' },
      'awsEndpoint',
      /awsEndpoint must use https .*got "http:".*use https:\/\//,
    ],
    [
      'an endpoint of another scheme',
      { awsEndpoint: 'ftp://sqs.eu-west-1.amazonaws.com' },
      'awsEndpoint',
      /awsEndpoint must use https .*got "ftp:"/,
    ],
    [
      'an endpoint with a path',
      { awsEndpoint: 'https://sqs.eu-west-1.amazonaws.com/222222222222' },
      'awsEndpoint',
      /no path/,
    ],
  ])('rejects %s, naming the field', (_why, patch, field, message) => {
    let error: unknown;
    try {
      parseKedaRequest({ ...minimal, ...patch });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KedaRequestError);
    expect(error).toBeInstanceOf(InputError);
    const issue = (error as KedaRequestError).issues.find(
      i => i.field === field,
    );
    expect(issue?.message).toMatch(message);
    expect((error as Error).message).toContain(`${field}: `);
  });

  it('accepts the full set of options', () => {
    const req = parseKedaRequest({
      ...minimal,
      workload: { kind: 'StatefulSet', name: 'orders-worker' },
      minReplicas: 1,
      maxReplicas: 30,
      idleReplicas: 0,
      queueLength: 10,
      activationQueueLength: 2,
      pollingInterval: 15,
      cooldownPeriod: 120,
      scaleOnInFlight: false,
      scaleOnDelayed: true,
      providerMode: 'aws-eks',
      serviceAccountName: 'orders-worker',
      fallback: { failureThreshold: 3, replicas: 2 },
      awsEndpoint: 'https://127.0.0.1:4566',
      requestId: 'req-42',
    });
    expect(req.workload.kind).toBe('StatefulSet');
    expect(req.providerMode).toBe('aws-eks');
  });

  it('exposes its fields for action and form schemas', () => {
    expect(Object.keys(kedaRequestSchema.shape)).toEqual(
      expect.arrayContaining([
        'entityRef',
        'queueUrl',
        'minReplicas',
        'maxReplicas',
        'providerMode',
        'fallback',
      ]),
    );
  });
});
