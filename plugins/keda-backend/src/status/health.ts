import type { KedaCondition, KedaHealth } from '@internal/plugin-keda-common';

/**
 * Argo CD's ScaledObject health mapping: Ready=False → Degraded, then
 * Paused=True → Suspended, then Ready=True → Healthy, otherwise Progressing
 * (no status yet, Ready=Unknown while KEDA sets it up).
 */
export function scaledObjectHealth(
  conditions: KedaCondition[],
  pausedByAnnotation = false,
): KedaHealth {
  const is = (type: string, status: string) =>
    conditions.some(c => c.type === type && c.status === status);
  if (is('Ready', 'False')) return 'Degraded';
  if (is('Paused', 'True') || pausedByAnnotation) return 'Suspended';
  if (is('Ready', 'True')) return 'Healthy';
  return 'Progressing';
}
