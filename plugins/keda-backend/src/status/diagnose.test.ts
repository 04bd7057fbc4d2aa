import type {
  KedaAuthChain,
  KedaEvent,
} from '@keda-self-service/plugin-keda-common';
import { diagnose, parseArn, type DiagnosisInput } from './diagnose';

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
      /^The KEDA operator role keda-operator \(account 111111111111\) may not assume the scaler role keda-sqs-orders \(account 222222222222\), so KEDA cannot read the queue\.$/,
    ],
    [
      'GetQueueAttributes AccessDenied',
      QUEUE_DENIED,
      'QueueAccessDenied',
      /^The scaler role keda-sqs-orders \(account 222222222222\) may not call sqs:GetQueueAttributes on the queue orders \(account 222222222222, eu-west-1\)\.$/,
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
  it('names the roles of an AssumeRole denial in plain words, whatever the session name, and keeps the AWS message', () => {
    const message =
      'operation error STS: AssumeRole, https response error StatusCode: 403, RequestID: 9, api error AccessDenied: ' +
      'User: arn:aws:sts::333333333333:assumed-role/keda-operator-eks/1796408797938000000 is not authorized to perform: ' +
      'sts:AssumeRole on resource: arn:aws:iam::444444444444:role/team/keda-sqs-billing';
    const [d] = diagnose(
      input({
        events: [scalerFailed(message)],
        auth: {
          ...auth,
          operatorRoleArn: undefined,
          roleArn: 'arn:aws:iam::444444444444:role/team/keda-sqs-billing',
        },
      }),
    );
    expect(d.cause).toBe(
      'The KEDA operator role keda-operator-eks (account 333333333333) may not assume the scaler role keda-sqs-billing (account 444444444444), so KEDA cannot read the queue.',
    );
    expect(d.cause).not.toMatch(/arn:|1796408797938000000/);
    // The principal a trust policy names is the role, not the session.
    expect(d.fix).toContain('arn:aws:iam::333333333333:role/keda-operator-eks');
    expect(d.evidence).toBe(message);
  });

  it('describes an unknown role in the queue denial by name and account', () => {
    const message = QUEUE_DENIED.replace(
      'assumed-role/keda-sqs-orders/KEDA',
      'assumed-role/other-role/12345',
    );
    const [d] = diagnose(input({ events: [scalerFailed(message)] }));
    expect(d.cause).toMatch(
      /^The role other-role \(account 222222222222\) may not call/,
    );
  });

  it('parses session, role, user and queue ARNs', () => {
    expect(
      parseArn('arn:aws:sts::111111111111:assumed-role/keda-operator/1796'),
    ).toEqual({ kind: 'role', name: 'keda-operator', account: '111111111111' });
    expect(parseArn(SCALER)).toEqual({
      kind: 'role',
      name: 'keda-sqs-orders',
      account: '222222222222',
    });
    expect(parseArn('arn:aws:iam::111111111111:user/ci')).toEqual({
      kind: 'user',
      name: 'ci',
      account: '111111111111',
    });
    expect(parseArn('arn:aws:sqs:eu-west-1:222222222222:orders')).toEqual({
      kind: 'queue',
      name: 'orders',
      account: '222222222222',
      region: 'eu-west-1',
    });
    expect(parseArn('not an arn')).toBeUndefined();
  });

  describe('failure events and the Ready condition', () => {
    const failedAt = (at: string): KedaEvent => ({
      ...scalerFailed(ASSUME_ROLE_DENIED),
      lastTimestamp: at,
    });

    it('still diagnoses a failure that happened after the ScaledObject became Ready', () => {
      const result = diagnose(
        input({
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              lastTransitionTime: '2026-11-28T06:00:00Z',
            },
          ],
          events: [failedAt('2026-11-28T06:00:30Z')],
        }),
      );
      expect(result.map(d => d.code)).toEqual(['AssumeRoleAccessDenied']);
    });

    it('treats a failure that last happened before Ready turned True as history', () => {
      const result = diagnose(
        input({
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              lastTransitionTime: '2026-11-28T06:00:00Z',
            },
          ],
          events: [failedAt('2026-11-28T05:59:30Z')],
        }),
      );
      expect(result).toEqual([]);
    });

    it("uses KEDA's ScaledObjectReady event when the Ready condition has no transition time", () => {
      const ready: KedaEvent = {
        type: 'Normal',
        reason: 'ScaledObjectReady',
        message: 'ScaledObject is ready for scaling',
        involvedObject: { kind: 'ScaledObject', name: 'orders-worker' },
        lastTimestamp: '2026-11-28T06:00:00Z',
      };
      const readyNow = [{ type: 'Ready', status: 'True' as const }];
      expect(
        diagnose(
          input({
            conditions: readyNow,
            events: [ready, failedAt('2026-11-28T05:59:30Z')],
          }),
        ),
      ).toEqual([]);
      expect(
        diagnose(
          input({
            conditions: readyNow,
            events: [ready, failedAt('2026-11-28T06:01:00Z')],
          }),
        ).map(d => d.code),
      ).toEqual(['AssumeRoleAccessDenied']);
    });

    it('diagnoses every failure event while the ScaledObject is not Ready, however old', () => {
      const result = diagnose(
        input({
          health: 'Degraded',
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              lastTransitionTime: '2026-11-28T06:00:00Z',
              message:
                'Triggers defined in ScaledObject are not working correctly',
            },
          ],
          events: [failedAt('2026-11-28T05:00:00Z')],
        }),
      );
      expect(result.map(d => d.code)).toEqual(['AssumeRoleAccessDenied']);
    });
  });
});
