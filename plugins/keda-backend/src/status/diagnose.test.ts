import type { KedaAuthChain, KedaEvent } from '@internal/plugin-keda-common';
import { diagnose, type DiagnosisInput } from './diagnose';

const OPERATOR = 'arn:aws:iam::111111111111:role/keda-operator';
const SCALER = 'arn:aws:iam::222222222222:role/keda/keda-sqs-orders';

const auth: KedaAuthChain = {
  kind: 'TriggerAuthentication',
  name: 'orders-sqs',
  found: true,
  provider: 'aws',
  roleArn: SCALER,
  operatorRoleArn: OPERATOR,
  crossAccount: true,
  externalIdSet: true,
  deprecatedProvider: false,
};

const healthyTrigger = {
  index: 0,
  awsRegion: 'eu-west-1',
  queueRegion: 'eu-west-1',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
};

function scalerFailed(message: string): KedaEvent {
  return {
    type: 'Warning',
    reason: 'KEDAScalerFailed',
    message,
    involvedObject: { kind: 'ScaledObject', name: 'orders-worker' },
  };
}

function input(overrides: Partial<DiagnosisInput>): DiagnosisInput {
  return {
    health: 'Healthy',
    conditions: [{ type: 'Ready', status: 'True' }],
    events: [],
    sqsTriggers: [healthyTrigger],
    auth,
    ...overrides,
  };
}

const ASSUME_ROLE_DENIED =
  'error getting metric: operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 1, ' +
  `api error AccessDenied: User: arn:aws:sts::111111111111:assumed-role/keda-operator/KEDA is not authorized to perform: sts:AssumeRole on resource: ${SCALER}`;
const QUEUE_DENIED =
  'operation error SQS: GetQueueAttributes, https response error StatusCode: 403, RequestID: 2, api error AccessDenied: ' +
  'User: arn:aws:sts::222222222222:assumed-role/keda-sqs-orders/KEDA is not authorized to perform: sqs:getqueueattributes on resource: arn:aws:sqs:eu-west-1:222222222222:orders because no identity-based policy allows the sqs:getqueueattributes action';
const NON_EXISTENT =
  'operation error SQS: GetQueueAttributes, https response error StatusCode: 400, RequestID: 3, AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.';
const WEB_IDENTITY_DENIED =
  'WebIdentityErr: failed to retrieve credentials caused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity';
const NO_KEYS = 'awsAccessKeyID not found';
const IMDS =
  'failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata';

describe('diagnose', () => {
  it('finds nothing wrong with a healthy ScaledObject using provider aws', () => {
    expect(diagnose(input({}))).toEqual([]);
  });

  it.each([
    [
      'AssumeRole AccessDenied',
      ASSUME_ROLE_DENIED,
      'AssumeRoleAccessDenied',
      /keda-operator\/KEDA is not allowed to assume .*keda-sqs-orders/,
    ],
    [
      'GetQueueAttributes AccessDenied',
      QUEUE_DENIED,
      'QueueAccessDenied',
      /may not call sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:222222222222:orders/,
    ],
    [
      'NonExistentQueue',
      NON_EXISTENT,
      'NonExistentQueue',
      /does not exist in the region and account/,
    ],
    [
      'web identity rejected',
      WEB_IDENTITY_DENIED,
      'OperatorWebIdentityDenied',
      /web identity token/,
    ],
    [
      'no static keys (Pod Identity misuse)',
      NO_KEYS,
      'MissingOperatorIdentity',
      /no AWS identity/,
    ],
    ['no IMDS role', IMDS, 'MissingOperatorIdentity', /no AWS identity/],
  ])(
    'maps a KEDAScalerFailed event with %s to %s',
    (_name, message, code, cause) => {
      const result = diagnose(
        input({
          health: 'Degraded',
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'ScaledObjectCheckFailed',
              message:
                'Triggers defined in ScaledObject are not working correctly',
            },
          ],
          events: [scalerFailed(message)],
        }),
      );
      expect(result[0]).toMatchObject({
        code,
        severity: 'error',
        evidence: message,
      });
      expect(result[0].cause).toMatch(cause);
      expect(result.map(d => d.code)).not.toContain('ScaledObjectNotReady');
    },
  );

  it('mentions the ExternalId in the AssumeRole fix only when one is set', () => {
    const withId = diagnose(
      input({ events: [scalerFailed(ASSUME_ROLE_DENIED)] }),
    );
    const without = diagnose(
      input({
        events: [scalerFailed(ASSUME_ROLE_DENIED)],
        auth: { ...auth, externalIdSet: false },
      }),
    );
    expect(withId[0].fix).toMatch(/sts:ExternalId/);
    expect(without[0].fix).not.toMatch(/ExternalId/);
  });

  it('explains NonExistentQueue by the region mismatch when awsRegion differs from the queue URL', () => {
    const result = diagnose(
      input({
        events: [scalerFailed(NON_EXISTENT)],
        sqsTriggers: [{ ...healthyTrigger, awsRegion: 'us-east-1' }],
      }),
    );
    expect(result.map(d => d.code)).toEqual([
      'NonExistentQueue',
      'RegionMismatch',
    ]);
    expect(result[0].cause).toMatch(
      /looks in us-east-1 .* queue is in eu-west-1/,
    );
    expect(result[0].fix).toBe('Set awsRegion to eu-west-1 in trigger 0.');
  });

  it('flags a region mismatch before KEDA fails', () => {
    const [d] = diagnose(
      input({ sqsTriggers: [{ ...healthyTrigger, awsRegion: 'us-east-1' }] }),
    );
    expect(d).toMatchObject({
      code: 'RegionMismatch',
      fix: 'Set awsRegion to eu-west-1.',
    });
  });

  it('reports a queue URL that cannot be parsed', () => {
    const [d] = diagnose(
      input({
        sqsTriggers: [
          { index: 1, queueUrl: 'orders', queueUrlError: 'not a URL' },
        ],
      }),
    );
    expect(d).toMatchObject({ code: 'InvalidQueueUrl', evidence: 'orders' });
    expect(d.cause).toMatch(/Trigger 1/);
  });

  it('warns about the deprecated aws-eks provider and errors on the removed aws-kiam', () => {
    expect(
      diagnose(
        input({
          auth: { ...auth, provider: 'aws-eks', deprecatedProvider: true },
        }),
      ),
    ).toEqual([
      expect.objectContaining({
        code: 'DeprecatedProvider',
        severity: 'warning',
      }),
    ]);
    expect(
      diagnose(
        input({
          auth: { ...auth, provider: 'aws-kiam', deprecatedProvider: true },
        }),
      ),
    ).toEqual([
      expect.objectContaining({ code: 'RemovedProvider', severity: 'error' }),
    ]);
  });

  it('reports a missing TriggerAuthentication', () => {
    const [d] = diagnose(
      input({
        auth: { kind: 'TriggerAuthentication', name: 'gone', found: false },
      }),
    );
    expect(d).toMatchObject({ code: 'TriggerAuthenticationMissing' });
    expect(d.cause).toMatch(/'gone'/);
  });

  it('reports a missing scale target', () => {
    const [d] = diagnose(
      input({
        scaleTargetFound: false,
        scaleTarget: { kind: 'Deployment', name: 'orders' },
      }),
    );
    expect(d.code).toBe('ScaleTargetMissing');
  });

  it('warns when the fallback is active, errors first', () => {
    const result = diagnose(
      input({
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'Fallback', status: 'True', message: QUEUE_DENIED },
        ],
      }),
    );
    expect(result.map(d => [d.code, d.severity])).toEqual([
      ['QueueAccessDenied', 'error'],
      ['FallbackActive', 'warning'],
    ]);
  });

  it("falls back to KEDA's own Ready message when no rule explains a Degraded ScaledObject", () => {
    const [d] = diagnose(
      input({
        health: 'Degraded',
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'ScaledObjectCheckFailed',
            message: 'something new',
          },
        ],
      }),
    );
    expect(d).toMatchObject({
      code: 'ScaledObjectNotReady',
      evidence: 'something new',
    });
    expect(d.cause).toMatch(/ScaledObjectCheckFailed/);
  });

  it('reports each cause once even when many events repeat it', () => {
    const result = diagnose(
      input({
        events: [scalerFailed(QUEUE_DENIED), scalerFailed(QUEUE_DENIED)],
      }),
    );
    expect(result).toHaveLength(1);
  });

  it('ignores Normal events', () => {
    const event: KedaEvent = {
      ...scalerFailed(QUEUE_DENIED),
      type: 'Normal',
      reason: 'KEDAScalersStarted',
    };
    expect(diagnose(input({ events: [event] }))).toEqual([]);
  });
});
