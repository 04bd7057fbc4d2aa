import type { KedaHealth } from './status';

/** Health plus the message of the condition that decided it. @public */
export interface KedaHealthDetail {
  status: KedaHealth;
  message?: string;
}

interface Condition {
  type?: string;
  status?: string;
  message?: string;
  reason?: string;
}

/**
 * Ready=False → Degraded; Paused=True → Suspended; Ready=True → Healthy;
 * anything else (no status yet, Ready Unknown) → Progressing. A failing
 * scaler wins over a pause, as in Argo CD.
 * @public
 */
export function kedaHealthDetail(scaledObject: unknown): KedaHealthDetail {
  const conditions: Condition[] = Array.isArray(
    (scaledObject as any)?.status?.conditions,
  )
    ? (scaledObject as any).status.conditions
    : [];
  const find = (type: string, status: string) =>
    conditions.find(c => c?.type === type && c?.status === status);
  const withMessage = (status: KedaHealth, c: Condition): KedaHealthDetail =>
    c.message ? { status, message: c.message } : { status };

  const notReady = find('Ready', 'False');
  if (notReady) return withMessage('Degraded', notReady);
  const paused = find('Paused', 'True');
  if (paused) return withMessage('Suspended', paused);
  const ready = find('Ready', 'True');
  if (ready) return withMessage('Healthy', ready);
  return {
    status: 'Progressing',
    message: 'Waiting for KEDA to reconcile the ScaledObject',
  };
}

/**
 * Argo CD's health of a ScaledObject (resource_customizations/keda.sh/
 * ScaledObject/health.lua): Ready=False → Degraded, Paused=True → Suspended,
 * Ready=True → Healthy, else Progressing.
 * @public
 */
export function kedaHealth(scaledObject: unknown): KedaHealth {
  return kedaHealthDetail(scaledObject).status;
}
