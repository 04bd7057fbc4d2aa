import {
  kedaHealth,
  type KedaCondition,
  type KedaHealth,
} from '@keda-self-service/plugin-keda-common';

/**
 * keda-common's Argo CD mapping (Ready=False → Degraded, Paused=True →
 * Suspended, Ready=True → Healthy, else Progressing), plus: a pause
 * annotation counts as Suspended before KEDA has written its Paused
 * condition, so the card does not show Healthy for a ScaledObject that was
 * just paused. A failing scaler still wins over a pause.
 */
export function scaledObjectHealth(
  conditions: KedaCondition[],
  pausedByAnnotation = false,
): KedaHealth {
  const health = kedaHealth({ status: { conditions } });
  return pausedByAnnotation && health !== 'Degraded' ? 'Suspended' : health;
}
