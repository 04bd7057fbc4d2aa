/**
 * KEDA's scaling decisions for one ScaledObject poll, as pure functions over
 * plain data: the scale executor (`pkg/scaling/executor/scale_scaledobjects.go`
 * in KEDA v2.20: activation, cooldown, idle/min replicas, pause), the metrics
 * adapter's fallback (`pkg/fallback/fallback.go`) and the HPA controller's
 * replica calculation for an External AverageValue metric. The controller
 * feeds them what it read from the cluster and AWS, and writes back what they
 * return — so every rule here is table-tested without a server.
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface KedaCondition {
  type: 'Ready' | 'Active' | 'Fallback' | 'Paused';
  status: ConditionStatus;
  reason?: string;
  message?: string;
}

export interface HealthStatus {
  numberOfFailures: number;
  status: 'Happy' | 'Failing';
}

/** The part of a ScaledObject spec the decisions read. */
export interface ScalingSpec {
  minReplicaCount?: number;
  maxReplicaCount?: number;
  idleReplicaCount?: number;
  cooldownPeriod?: number;
  initialCooldownPeriod?: number;
  fallback?: { failureThreshold: number; replicas: number };
}

/** One trigger's metric this poll: a value or the error the scaler returned. */
export interface TriggerReading {
  metricName: string;
  /** `queueLength`: AverageValue target per replica. */
  target: number;
  /** `activationQueueLength`: active when value > this. */
  activationTarget: number;
  value?: number;
  error?: string;
}

export interface ScalingInput {
  spec: ScalingSpec;
  annotations?: Record<string, string>;
  creationTimestamp: string;
  currentReplicas: number;
  readings: TriggerReading[];
  previous: {
    health?: Record<string, HealthStatus>;
    lastActiveTime?: string;
    fallbackActive?: boolean;
    paused?: boolean;
  };
  /** HPA replica recommendations of the last scale-down stabilization window. */
  recommendations?: Array<{ at: number; replicas: number }>;
  scaleDownStabilizationSeconds: number;
  now: number;
}

export interface HpaOutcome {
  /** The HPA is not evaluated (target at 0, or paused). */
  disabled: boolean;
  /** The replica count the HPA evaluated (after KEDA's own move). */
  observedReplicas: number;
  desiredReplicas: number;
  /** Per-replica current value of each metric, as a Kubernetes quantity. */
  currentMetrics: Array<{ metricName: string; averageValue: string }>;
  conditions: Array<{
    type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
    status: ConditionStatus;
    reason: string;
    message: string;
  }>;
  /** The unclamped recommendation, kept for stabilization. */
  recommendation?: number;
}

export interface ScalingEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ScalingDecision {
  /** Replicas the scale target should have after this poll. */
  desiredReplicas: number;
  /** Who changed the replica count, for the SuccessfulRescale event. */
  changedBy?: 'keda' | 'hpa';
  active: boolean;
  isError: boolean;
  paused: boolean;
  pausedReplicaCount?: number;
  fallbackActive: boolean;
  conditions: KedaCondition[];
  health: Record<string, HealthStatus>;
  lastActiveTime?: string;
  hpa: HpaOutcome;
  events: ScalingEvent[];
}

export const PAUSED_ANNOTATION = 'autoscaling.keda.sh/paused';
export const PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';
const DEFAULT_MAX_REPLICAS = 100;
const DEFAULT_COOLDOWN_SECONDS = 300;
/** The HPA controller ignores changes within 10 % of the target. */
const HPA_TOLERANCE = 0.1;

export const READY_MESSAGE =
  'ScaledObject is defined correctly and is ready for scaling';

/** Kubernetes quantity for a non-negative value: `3`, `1334m`. */
export function formatQuantity(value: number): string {
  const milli = Math.ceil(Math.round(value * 1e6) / 1e3);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** HPA lower bound: KEDA gives the HPA at least 1 (0↔1 is KEDA's job). */
export function hpaMinReplicas(spec: ScalingSpec): number {
  return spec.minReplicaCount && spec.minReplicaCount > 0
    ? spec.minReplicaCount
    : 1;
}

export function hpaMaxReplicas(spec: ScalingSpec): number {
  return spec.maxReplicaCount ?? DEFAULT_MAX_REPLICAS;
}

/**
 * `autoscaling.keda.sh/paused-replicas` wins over `paused`; a paused value
 * that is not a boolean still pauses (KEDA: "we assume user wants to pause").
 */
export function pauseState(annotations: Record<string, string> = {}): {
  paused: boolean;
  pausedReplicas?: number;
} {
  const replicas = annotations[PAUSED_REPLICAS_ANNOTATION];
  if (replicas !== undefined) {
    const parsed = Number(replicas);
    if (Number.isInteger(parsed) && parsed >= 0) {
      return { paused: true, pausedReplicas: parsed };
    }
  }
  const paused = annotations[PAUSED_ANNOTATION];
  if (paused === undefined) return { paused: false };
  return { paused: paused.toLowerCase() !== 'false' };
}

/** Health per metric after this poll (KEDA's fallback bookkeeping). */
export function nextHealth(
  previous: Record<string, HealthStatus> | undefined,
  readings: TriggerReading[],
): Record<string, HealthStatus> {
  const health: Record<string, HealthStatus> = {};
  for (const reading of readings) {
    const before = previous?.[reading.metricName];
    health[reading.metricName] =
      reading.error === undefined
        ? { numberOfFailures: 0, status: 'Happy' }
        : {
            numberOfFailures: (before?.numberOfFailures ?? 0) + 1,
            status: 'Failing',
          };
  }
  return health;
}

/** Fallback applies once a metric failed more often than the threshold. */
export function isFallbackActive(
  spec: ScalingSpec,
  health: Record<string, HealthStatus>,
): boolean {
  if (!spec.fallback) return false;
  return Object.values(health).some(
    h => h.numberOfFailures > spec.fallback!.failureThreshold,
  );
}

function labelSelectorText(metricName: string, scaledObjectName: string) {
  return `${metricName}(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: ${scaledObjectName},},MatchExpressions:[]LabelSelectorRequirement{},})`;
}

/**
 * The HPA controller for External AverageValue metrics:
 * desired = ceil(value / target) per metric, the max over metrics, within
 * the 10 % tolerance kept at current, clamped to [hpaMin, max], with the
 * scale-down stabilization window (highest recent recommendation wins).
 */
export function computeHpa(args: {
  spec: ScalingSpec;
  scaledObjectName: string;
  currentReplicas: number;
  readings: TriggerReading[];
  fallbackActive: boolean;
  recommendations?: Array<{ at: number; replicas: number }>;
  scaleDownStabilizationSeconds: number;
  now: number;
}): HpaOutcome {
  const { spec, currentReplicas } = args;
  const min = hpaMinReplicas(spec);
  const max = hpaMaxReplicas(spec);
  if (currentReplicas === 0) {
    return {
      disabled: true,
      observedReplicas: 0,
      desiredReplicas: 0,
      currentMetrics: [],
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          reason: 'SucceededGetScale',
          message:
            "the HPA controller was able to get the target's current scale",
        },
        {
          type: 'ScalingActive',
          status: 'False',
          reason: 'ScalingDisabled',
          message:
            'scaling is disabled since the replica count of the target is zero',
        },
      ],
    };
  }
  const perMetric: Array<{ name: string; value: number; replicas: number }> =
    [];
  let failed: TriggerReading | undefined;
  for (const reading of args.readings) {
    let value = reading.value;
    // While falling back, KEDA's metrics adapter answers target × replicas
    // so that the HPA lands on fallback.replicas.
    if (args.fallbackActive && reading.error !== undefined && spec.fallback) {
      value = reading.target * spec.fallback.replicas;
    }
    if (value === undefined) {
      failed = failed ?? reading;
      continue;
    }
    const usageRatio = value / (reading.target * currentReplicas);
    const replicas =
      Math.abs(usageRatio - 1) <= HPA_TOLERANCE
        ? currentReplicas
        : Math.ceil(value / reading.target);
    perMetric.push({ name: reading.metricName, value, replicas });
  }
  const currentMetrics = perMetric.map(m => ({
    metricName: m.name,
    averageValue: formatQuantity(m.value / currentReplicas),
  }));
  if (perMetric.length === 0) {
    return {
      disabled: false,
      observedReplicas: currentReplicas,
      desiredReplicas: currentReplicas,
      currentMetrics,
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          reason: 'SucceededGetScale',
          message:
            "the HPA controller was able to get the target's current scale",
        },
        {
          type: 'ScalingActive',
          status: 'False',
          reason: 'FailedGetExternalMetric',
          message: `the HPA was unable to compute the replica count: unable to get external metric ${labelSelectorText(
            failed?.metricName ?? '',
            args.scaledObjectName,
          )}: unable to fetch metrics from external metrics API: ${
            failed?.error ?? ''
          }`,
        },
      ],
    };
  }
  const best = perMetric.reduce((a, b) => (b.replicas > a.replicas ? b : a));
  const recommendation = best.replicas;
  let desired = recommendation;
  // Scale-down stabilization: never go below the highest recommendation of
  // the window, so a brief dip in queue depth does not flap the replicas.
  const windowStart = args.now - args.scaleDownStabilizationSeconds * 1000;
  for (const r of args.recommendations ?? []) {
    if (
      r.at > windowStart &&
      r.replicas > desired &&
      r.replicas <= currentReplicas
    ) {
      desired = Math.min(r.replicas, currentReplicas);
    }
  }
  let limited: HpaOutcome['conditions'][number] = {
    type: 'ScalingLimited',
    status: 'False',
    reason: 'DesiredWithinRange',
    message: 'the desired count is within the acceptable range',
  };
  if (desired > max) {
    desired = max;
    limited = {
      type: 'ScalingLimited',
      status: 'True',
      reason: 'TooManyReplicas',
      message:
        'the desired replica count is more than the maximum replica count',
    };
  } else if (desired < min) {
    desired = min;
    limited = {
      type: 'ScalingLimited',
      status: 'True',
      reason: 'TooFewReplicas',
      message:
        'the desired replica count is less than the minimum replica count',
    };
  }
  return {
    disabled: false,
    observedReplicas: currentReplicas,
    desiredReplicas: desired,
    recommendation,
    currentMetrics,
    conditions: [
      desired === currentReplicas
        ? {
            type: 'AbleToScale',
            status: 'True',
            reason: 'ReadyForNewScale',
            message: 'recommended size matches current size',
          }
        : {
            type: 'AbleToScale',
            status: 'True',
            reason: 'SucceededRescale',
            message: `the HPA controller was able to update the target scale to ${desired}`,
          },
      {
        type: 'ScalingActive',
        status: 'True',
        reason: 'ValidMetricFound',
        message: `the HPA was able to successfully calculate a replica count from external metric ${labelSelectorText(
          best.name,
          args.scaledObjectName,
        )}`,
      },
      limited,
    ],
  };
}

function condition(
  type: KedaCondition['type'],
  status: ConditionStatus,
  reason?: string,
  message?: string,
): KedaCondition {
  return {
    type,
    status,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

/**
 * One poll of a ScaledObject whose scalers were built: pause, activation,
 * deactivation after cooldown, errors, fallback, then the HPA step.
 */
export function decideScaling(
  input: ScalingInput,
  target: { kind: string; namespace: string; name: string },
): ScalingDecision {
  const { spec, currentReplicas, readings, now } = input;
  const targetText = `${target.kind} ${target.namespace}/${target.name}`;
  const events: ScalingEvent[] = [];
  const health = nextHealth(input.previous.health, readings);
  const isError = readings.some(r => r.error !== undefined);
  const activeTriggers = readings.filter(
    r => r.error === undefined && (r.value ?? 0) > r.activationTarget,
  );
  const active = activeTriggers.length > 0;
  for (const r of readings) {
    if (r.error !== undefined) {
      events.push({
        type: 'Warning',
        reason: 'KEDAScalerFailed',
        message: r.error,
      });
    }
  }
  const fallbackActive = isFallbackActive(spec, health);
  let ready = condition('Ready', 'True', 'ScaledObjectReady', READY_MESSAGE);
  let activeCondition: KedaCondition;
  const fallbackCondition = fallbackActive
    ? condition(
        'Fallback',
        'True',
        'FallbackExists',
        'At least one trigger is falling back on this scaled object',
      )
    : condition(
        'Fallback',
        'False',
        'NoFallbackFound',
        'No fallbacks are active on this scaled object',
      );
  if (fallbackActive && !input.previous.fallbackActive) {
    events.push({
      type: 'Normal',
      reason: 'ScaledObjectFallbackActivated',
      message: 'ScaledObject fallback is active',
    });
  }
  if (!fallbackActive && input.previous.fallbackActive) {
    events.push({
      type: 'Normal',
      reason: 'ScaledObjectFallbackDeactivated',
      message: 'ScaledObject fallback is no longer active',
    });
  }

  const pause = pauseState(input.annotations);
  if (pause.paused) {
    if (!input.previous.paused) {
      events.push({
        type: 'Normal',
        reason: 'ScaledObjectPaused',
        message: 'ScaledObject is paused',
      });
    }
    const desired = pause.pausedReplicas ?? currentReplicas;
    return {
      desiredReplicas: desired,
      changedBy: desired !== currentReplicas ? 'keda' : undefined,
      active: false,
      isError: false,
      paused: true,
      pausedReplicaCount: pause.pausedReplicas,
      fallbackActive: false,
      conditions: [
        ready,
        condition(
          'Active',
          'False',
          'ScaledObjectPaused',
          'ScaledObject is paused',
        ),
        fallbackCondition,
        condition(
          'Paused',
          'True',
          'ScaledObjectPaused',
          'ScaledObject is paused',
        ),
      ],
      health,
      lastActiveTime: input.previous.lastActiveTime,
      hpa: {
        disabled: true,
        observedReplicas: currentReplicas,
        desiredReplicas: desired,
        currentMetrics: [],
        conditions: [],
      },
      events,
    };
  }

  if (input.previous.paused) {
    events.push({
      type: 'Normal',
      reason: 'ScaledObjectUnpaused',
      message: 'ScaledObject is unpaused',
    });
  }
  const min = spec.minReplicaCount ?? 0;
  let replicas = currentReplicas;
  let changedBy: ScalingDecision['changedBy'];
  let lastActiveTime = input.previous.lastActiveTime;
  const nowIso = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');

  if (active) {
    activeCondition = condition(
      'Active',
      'True',
      'ScalerActive',
      'Scaling is performed because triggers are active',
    );
    if (
      (spec.idleReplicaCount !== undefined && currentReplicas < min) ||
      currentReplicas === 0
    ) {
      const to = min > 0 ? min : 1;
      events.push({
        type: 'Normal',
        reason: 'KEDAScaleTargetActivated',
        message: `Scaled ${targetText} from ${currentReplicas} to ${to}, triggered by ${activeTriggers
          .map(r => r.metricName)
          .join(';')}`,
      });
      replicas = to;
      changedBy = 'keda';
      lastActiveTime = nowIso;
    } else if (isError) {
      ready = condition(
        'Ready',
        'Unknown',
        'PartialTriggerError',
        'Some triggers defined in ScaledObject are not working correctly',
      );
    } else {
      lastActiveTime = nowIso;
    }
  } else {
    activeCondition = condition(
      'Active',
      'False',
      'ScalerNotActive',
      'Scaling is not performed because triggers are not active',
    );
    const idleOrMinDue =
      (spec.idleReplicaCount !== undefined &&
        currentReplicas > spec.idleReplicaCount) ||
      (currentReplicas > 0 && min === 0);
    if (isError && spec.fallback && spec.fallback.replicas !== 0) {
      // The HPA takes the target to fallback.replicas once the threshold is passed.
    } else if (isError && !spec.fallback) {
      ready = condition(
        'Ready',
        'False',
        'TriggerError',
        'Triggers defined in ScaledObject are not working correctly',
      );
    } else if (idleOrMinDue) {
      const cooldownMs =
        (spec.cooldownPeriod ?? DEFAULT_COOLDOWN_SECONDS) * 1000;
      const initialCooldownMs = (spec.initialCooldownPeriod ?? 0) * 1000;
      const cooledDown = lastActiveTime
        ? Date.parse(lastActiveTime) + cooldownMs < now
        : Date.parse(input.creationTimestamp) + initialCooldownMs < now;
      if (cooledDown) {
        const to = spec.idleReplicaCount ?? min;
        events.push({
          type: 'Normal',
          reason: 'KEDAScaleTargetDeactivated',
          message: `Deactivated ${targetText} from ${currentReplicas} to ${to}`,
        });
        replicas = to;
        changedBy = 'keda';
      } else {
        activeCondition = condition(
          'Active',
          'False',
          'ScalerCooldown',
          'Scaler cooling down because triggers are not active',
        );
      }
    } else if (spec.idleReplicaCount === undefined && currentReplicas < min) {
      replicas = min;
      changedBy = 'keda';
    }
  }

  const hpa = computeHpa({
    spec,
    scaledObjectName: target.name,
    currentReplicas: replicas,
    readings,
    fallbackActive,
    recommendations: input.recommendations,
    scaleDownStabilizationSeconds: input.scaleDownStabilizationSeconds,
    now,
  });
  // KEDA's own move (activation/deactivation) is what the HPA sees next;
  // the HPA then sizes a running target within [max(min,1), max].
  if (
    !hpa.disabled &&
    changedBy !== 'keda' &&
    hpa.desiredReplicas !== replicas
  ) {
    replicas = hpa.desiredReplicas;
    changedBy = 'hpa';
  } else if (
    !hpa.disabled &&
    changedBy === 'keda' &&
    hpa.desiredReplicas > replicas
  ) {
    replicas = hpa.desiredReplicas;
  }

  return {
    desiredReplicas: replicas,
    changedBy,
    active,
    isError,
    paused: false,
    fallbackActive,
    conditions: [
      ready,
      activeCondition,
      fallbackCondition,
      input.previous.paused
        ? condition(
            'Paused',
            'False',
            'ScaledObjectUnpaused',
            'pause annotation removed for ScaledObject',
          )
        : condition('Paused', 'Unknown'),
    ],
    health,
    lastActiveTime,
    hpa: {
      ...hpa,
      desiredReplicas: hpa.disabled ? replicas : hpa.desiredReplicas,
    },
    events,
  };
}
