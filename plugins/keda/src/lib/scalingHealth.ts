import type {
  KedaCondition,
  ScaledObjectStatus,
} from '@keda-self-service/plugin-keda-common';

/** Visual tone of a health badge; every tone also has its own text and icon. */
export type ScalingTone = 'ok' | 'warning' | 'error' | 'paused' | 'progressing';

/** What the card's health badge says about one ScaledObject. */
export interface ScalingHealthView {
  /** Short badge text, e.g. `Active`, `Degraded`. */
  label: string;
  tone: ScalingTone;
  /** One sentence a person can act on. */
  summary: string;
  /** Conditions worth reading, in KEDA's order (Ready, Active, Fallback, Paused). */
  conditions: KedaCondition[];
}

const CONDITION_ORDER = ['Ready', 'Active', 'Fallback', 'Paused'];

function condition(
  conditions: KedaCondition[],
  type: string,
): KedaCondition | undefined {
  return conditions.find(c => c.type === type);
}

/**
 * Derives the badge from the backend's Argo-CD-style `health` and the raw
 * KEDA conditions. `health` alone cannot tell an idle ScaledObject from an
 * active one or spot Fallback (KEDA keeps Ready=True while it serves fallback
 * replicas), so the conditions refine it.
 */
export function describeScalingHealth(
  scaledObject: ScaledObjectStatus,
): ScalingHealthView {
  const { conditions, replicas } = scaledObject;
  const ready = condition(conditions, 'Ready');
  const active = condition(conditions, 'Active');
  const fallback = condition(conditions, 'Fallback');
  const shown = [...conditions]
    .filter(c => CONDITION_ORDER.includes(c.type) || c.message)
    .sort(
      (a, b) =>
        (CONDITION_ORDER.indexOf(a.type) + 1 || 99) -
        (CONDITION_ORDER.indexOf(b.type) + 1 || 99),
    );
  const base = { conditions: shown };

  if (scaledObject.paused || scaledObject.health === 'Suspended') {
    return {
      ...base,
      label: 'Paused',
      tone: 'paused',
      summary:
        replicas.paused !== undefined
          ? `Autoscaling is paused; the workload is held at ${
              replicas.paused
            } replica${replicas.paused === 1 ? '' : 's'}.`
          : 'Autoscaling is paused; replicas stay where they are until the pause annotation is removed.',
    };
  }
  if (scaledObject.health === 'Degraded' || ready?.status === 'False') {
    return {
      ...base,
      label: 'Degraded',
      tone: 'error',
      summary:
        ready?.message ??
        'KEDA reports the ScaledObject as not ready; scaling is not happening.',
    };
  }
  if (fallback?.status === 'True') {
    return {
      ...base,
      label: 'Fallback',
      tone: 'warning',
      summary:
        fallback.message ??
        'KEDA cannot read the queue metric and holds the fallback replica count.',
    };
  }
  if (scaledObject.health === 'Progressing' || !ready) {
    return {
      ...base,
      label: 'Progressing',
      tone: 'progressing',
      summary: 'KEDA has not reported the ScaledObject as ready yet.',
    };
  }
  if (active?.status === 'True') {
    return {
      ...base,
      label: 'Active',
      tone: 'ok',
      summary: 'Scaling on queue depth.',
    };
  }
  return {
    ...base,
    label: 'Ready',
    tone: 'ok',
    summary:
      replicas.idle !== undefined
        ? `Idle: the queue is at or below its activation threshold, held at ${
            replicas.idle
          } replica${replicas.idle === 1 ? '' : 's'}.`
        : 'Idle: the queue is at or below its activation threshold.',
  };
}

/** Which way replicas are moving, from the HPA's current and desired counts. */
export function scalingDirection(
  scaledObject: ScaledObjectStatus,
): 'up' | 'down' | undefined {
  const { current, desired } = scaledObject.replicas;
  if (current === undefined || desired === undefined || current === desired) {
    return undefined;
  }
  return desired > current ? 'up' : 'down';
}
