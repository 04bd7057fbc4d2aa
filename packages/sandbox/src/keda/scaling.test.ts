import {
  computeHpa,
  decideScaling,
  formatQuantity,
  pauseState,
  ScalingInput,
  TriggerReading,
} from './scaling';

const T0 = Date.parse('2026-11-28T10:00:00Z');
const target = {
  kind: 'apps/v1.Deployment',
  namespace: 'payments',
  name: 'orders',
};

function reading(
  value: number | undefined,
  extra: Partial<TriggerReading> = {},
): TriggerReading {
  return {
    metricName: 's0-aws-sqs-orders',
    target: 5,
    activationTarget: 0,
    ...(value === undefined
      ? { error: 'api error AccessDenied: nope' }
      : { value }),
    ...extra,
  };
}

function input(overrides: Partial<ScalingInput> = {}): ScalingInput {
  return {
    spec: { minReplicaCount: 0, maxReplicaCount: 10, cooldownPeriod: 300 },
    creationTimestamp: '2026-11-28T09:00:00Z',
    currentReplicas: 1,
    readings: [reading(0)],
    previous: {},
    scaleDownStabilizationSeconds: 0,
    now: T0,
    ...overrides,
  };
}

const conditionMap = (d: ReturnType<typeof decideScaling>) =>
  Object.fromEntries(
    d.conditions.map(c => [c.type, `${c.status}/${c.reason ?? ''}`]),
  );

describe('decideScaling', () => {
  it.each`
    depth  | current | min  | max   | expected | changedBy
    ${0}   | ${0}    | ${0} | ${10} | ${0}     | ${undefined}
    ${1}   | ${0}    | ${0} | ${10} | ${1}     | ${'keda'}
    ${12}  | ${0}    | ${0} | ${10} | ${3}     | ${'keda'}
    ${12}  | ${1}    | ${0} | ${10} | ${3}     | ${'hpa'}
    ${100} | ${2}    | ${0} | ${10} | ${10}    | ${'hpa'}
    ${7}   | ${0}    | ${2} | ${10} | ${2}     | ${'keda'}
    ${7}   | ${2}    | ${2} | ${10} | ${2}     | ${undefined}
    ${26}  | ${5}    | ${1} | ${10} | ${5}     | ${undefined}
    ${30}  | ${5}    | ${1} | ${10} | ${6}     | ${'hpa'}
    ${3}   | ${4}    | ${2} | ${10} | ${2}     | ${'hpa'}
  `(
    'depth $depth, $current replicas, min $min max $max → $expected ($changedBy)',
    ({ depth, current, min, max, expected, changedBy }) => {
      const d = decideScaling(
        input({
          spec: { minReplicaCount: min, maxReplicaCount: max },
          currentReplicas: current,
          readings: [reading(depth)],
        }),
        target,
      );
      expect(d.desiredReplicas).toBe(expected);
      expect(d.changedBy).toBe(changedBy);
    },
  );

  it('activates only above activationQueueLength and records the trigger', () => {
    const quiet = decideScaling(
      input({
        currentReplicas: 0,
        readings: [reading(3, { activationTarget: 3 })],
      }),
      target,
    );
    expect(quiet.desiredReplicas).toBe(0);
    expect(conditionMap(quiet).Active).toBe('False/ScalerNotActive');

    const busy = decideScaling(
      input({
        currentReplicas: 0,
        readings: [reading(4, { activationTarget: 3 })],
      }),
      target,
    );
    expect(busy.desiredReplicas).toBe(1);
    expect(busy.lastActiveTime).toBe('2026-11-28T10:00:00Z');
    expect(busy.events).toContainEqual({
      type: 'Normal',
      reason: 'KEDAScaleTargetActivated',
      message:
        'Scaled apps/v1.Deployment payments/orders from 0 to 1, triggered by s0-aws-sqs-orders',
    });
  });

  it('keeps replicas during cooldown and deactivates to minReplicaCount after it', () => {
    const lastActiveTime = new Date(T0 - 200_000).toISOString();
    const cooling = decideScaling(
      input({ currentReplicas: 1, previous: { lastActiveTime } }),
      target,
    );
    expect(cooling.desiredReplicas).toBe(1);
    expect(conditionMap(cooling).Active).toBe('False/ScalerCooldown');

    const later = decideScaling(
      input({
        currentReplicas: 1,
        previous: { lastActiveTime },
        now: T0 + 101_000,
      }),
      target,
    );
    expect(later.desiredReplicas).toBe(0);
    expect(later.events.map(e => e.message)).toContain(
      'Deactivated apps/v1.Deployment payments/orders from 1 to 0',
    );
  });

  it('deactivates to idleReplicaCount instead of minReplicaCount when set', () => {
    const d = decideScaling(
      input({
        spec: {
          idleReplicaCount: 0,
          minReplicaCount: 2,
          maxReplicaCount: 10,
          cooldownPeriod: 0,
        },
        currentReplicas: 2,
        previous: { lastActiveTime: new Date(T0 - 10_000).toISOString() },
      }),
      target,
    );
    expect(d.desiredReplicas).toBe(0);
  });

  it('reports Ready=False TriggerError and keeps replicas when the only trigger fails', () => {
    const d = decideScaling(
      input({ currentReplicas: 2, readings: [reading(undefined)] }),
      target,
    );
    expect(d.desiredReplicas).toBe(2);
    expect(conditionMap(d).Ready).toBe('False/TriggerError');
    expect(d.health['s0-aws-sqs-orders']).toEqual({
      numberOfFailures: 1,
      status: 'Failing',
    });
    expect(d.events).toContainEqual({
      type: 'Warning',
      reason: 'KEDAScalerFailed',
      message: 'api error AccessDenied: nope',
    });
    expect(
      d.hpa.conditions.find(c => c.type === 'ScalingActive'),
    ).toMatchObject({
      status: 'False',
      reason: 'FailedGetExternalMetric',
    });
  });

  it('falls back to fallback.replicas after more than failureThreshold failures', () => {
    const spec = {
      minReplicaCount: 1,
      maxReplicaCount: 10,
      fallback: { failureThreshold: 2, replicas: 6 },
    };
    const second = decideScaling(
      input({
        spec,
        currentReplicas: 2,
        readings: [reading(undefined)],
        previous: {
          health: {
            's0-aws-sqs-orders': { numberOfFailures: 1, status: 'Failing' },
          },
        },
      }),
      target,
    );
    expect(second.fallbackActive).toBe(false);
    expect(second.desiredReplicas).toBe(2);
    expect(conditionMap(second).Ready).toBe('True/ScaledObjectReady');

    const third = decideScaling(
      input({
        spec,
        currentReplicas: 2,
        readings: [reading(undefined)],
        previous: { health: second.health },
      }),
      target,
    );
    expect(third.fallbackActive).toBe(true);
    expect(third.desiredReplicas).toBe(6);
    expect(conditionMap(third).Fallback).toBe('True/FallbackExists');
    expect(third.events.map(e => e.reason)).toContain(
      'ScaledObjectFallbackActivated',
    );

    const recovered = decideScaling(
      input({
        spec,
        currentReplicas: 6,
        readings: [reading(10)],
        previous: { health: third.health, fallbackActive: true },
      }),
      target,
    );
    expect(recovered.fallbackActive).toBe(false);
    expect(recovered.health['s0-aws-sqs-orders']).toEqual({
      numberOfFailures: 0,
      status: 'Happy',
    });
    expect(recovered.desiredReplicas).toBe(2);
    expect(recovered.events.map(e => e.reason)).toEqual([
      'ScaledObjectFallbackDeactivated',
    ]);
  });

  it.each`
    annotations                                       | current | desired | pausedReplicaCount
    ${{ 'autoscaling.keda.sh/paused': 'true' }}       | ${3}    | ${3}    | ${undefined}
    ${{ 'autoscaling.keda.sh/paused-replicas': '0' }} | ${3}    | ${0}    | ${0}
    ${{ 'autoscaling.keda.sh/paused': 'yes-please' }} | ${2}    | ${2}    | ${undefined}
  `(
    'pauses with $annotations',
    ({ annotations, current, desired, pausedReplicaCount }) => {
      const d = decideScaling(
        input({
          annotations,
          currentReplicas: current,
          readings: [reading(50)],
        }),
        target,
      );
      expect(d.paused).toBe(true);
      expect(d.desiredReplicas).toBe(desired);
      expect(d.pausedReplicaCount).toBe(pausedReplicaCount);
      expect(conditionMap(d).Paused).toBe('True/ScaledObjectPaused');
      expect(d.events.map(e => e.reason)).toEqual(['ScaledObjectPaused']);
    },
  );

  it('does not pause when the paused annotation says false', () => {
    expect(pauseState({ 'autoscaling.keda.sh/paused': 'false' })).toEqual({
      paused: false,
    });
  });
});

describe('computeHpa', () => {
  const base = {
    spec: { minReplicaCount: 0, maxReplicaCount: 10 },
    scaledObjectName: 'orders',
    fallbackActive: false,
    scaleDownStabilizationSeconds: 300,
    now: T0,
  };

  it('reports the per-replica average as a quantity', () => {
    const hpa = computeHpa({
      ...base,
      currentReplicas: 3,
      readings: [reading(4)],
    });
    expect(hpa.currentMetrics).toEqual([
      { metricName: 's0-aws-sqs-orders', averageValue: '1334m' },
    ]);
    expect(hpa.desiredReplicas).toBe(1);
  });

  it('holds scale-down at the highest recommendation of the stabilization window', () => {
    const hpa = computeHpa({
      ...base,
      currentReplicas: 5,
      readings: [reading(5)],
      recommendations: [
        { at: T0 - 400_000, replicas: 5 },
        { at: T0 - 60_000, replicas: 4 },
      ],
    });
    expect(hpa.recommendation).toBe(1);
    expect(hpa.desiredReplicas).toBe(4);
  });

  it('marks ScalingLimited when the recommendation exceeds maxReplicaCount', () => {
    const hpa = computeHpa({
      ...base,
      currentReplicas: 2,
      readings: [reading(500)],
    });
    expect(hpa.desiredReplicas).toBe(10);
    expect(hpa.conditions.find(c => c.type === 'ScalingLimited')).toMatchObject(
      {
        status: 'True',
        reason: 'TooManyReplicas',
      },
    );
  });

  it('is disabled while the target has zero replicas', () => {
    const hpa = computeHpa({
      ...base,
      currentReplicas: 0,
      readings: [reading(5)],
    });
    expect(hpa.disabled).toBe(true);
    expect(hpa.conditions.find(c => c.type === 'ScalingActive')?.reason).toBe(
      'ScalingDisabled',
    );
  });
});

describe('formatQuantity', () => {
  it.each`
    value     | text
    ${0}      | ${'0'}
    ${5}      | ${'5'}
    ${4 / 3}  | ${'1334m'}
    ${2.5}    | ${'2500m'}
    ${0.0001} | ${'1m'}
  `('$value → $text', ({ value, text }) => {
    expect(formatQuantity(value)).toBe(text);
  });
});
