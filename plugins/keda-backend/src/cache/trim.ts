/*
 * What the watch cache keeps of each object: only what the status is built
 * from, so 10,000 ScaledObjects (with their HPAs and workloads) stay within
 * 50 MB of heap (bench/cacheMemory.ts measures it).
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type {
  HorizontalPodAutoscaler,
  ScaledObject,
  ScaleTarget,
} from '../kubernetes/types';

/**
 * One copy of each condition string (type, status, reason, message): they
 * repeat across thousands of objects, and JSON parsing makes a copy per
 * object. Bounded: once full, further strings are kept as they are.
 */
const SHARED_STRINGS_LIMIT = 10_000;
const sharedStrings = new Map<string, string>();
function shared<T>(value: T): T {
  if (typeof value !== 'string') return value;
  const known = sharedStrings.get(value);
  if (known !== undefined) return known as T;
  if (sharedStrings.size < SHARED_STRINGS_LIMIT)
    sharedStrings.set(value, value);
  return value;
}
function shareConditionStrings(conditions: unknown) {
  if (!Array.isArray(conditions)) return;
  for (const c of conditions as Array<Record<string, unknown>>) {
    for (const key of ['type', 'status', 'reason', 'message']) {
      if (key in c) c[key] = shared(c[key]);
    }
  }
}

/**
 * A ScaledObject keeps its identity, labels, annotations (the pause
 * annotations are read), spec and the status fields the status is built
 * from; creation time, generation, finalizers, owner references and KEDA's
 * resolved target (`scaleTargetGVKR`) are dropped. Parts are rebuilt rather
 * than `delete`d: V8 stores an object that lost a property in a much larger
 * dictionary form.
 */
export function trimScaledObject(object: ScaledObject) {
  object.metadata = {
    ...identityAndLabels(object.metadata),
    annotations: object.metadata?.annotations,
  };
  const status = object.status;
  if (status) {
    shareConditionStrings(status.conditions);
    object.status = {
      conditions: status.conditions,
      hpaName: status.hpaName,
      externalMetricNames: status.externalMetricNames,
      lastActiveTime: status.lastActiveTime,
      originalReplicaCount: status.originalReplicaCount,
      pausedReplicaCount: status.pausedReplicaCount,
      health: status.health,
      scaleTargetKind: status.scaleTargetKind,
    };
  }
}

/**
 * Keeps of an object's metadata what identifies it (name, namespace, uid,
 * resourceVersion) and its labels: creation time, generation, owner
 * references and annotations of HPAs and workloads are never read.
 */
function identityAndLabels(metadata: V1ObjectMeta | undefined): V1ObjectMeta {
  const { name, namespace, uid, resourceVersion, labels } = metadata ?? {};
  return { name, namespace, uid, resourceVersion, labels };
}

/**
 * Only a workload's identity, labels, spec.replicas and selector, and
 * status.replicas are read: the rest (pod template, conditions, rollout
 * counters) is dropped to bound the cache's memory.
 */
export function trimScaleTarget(object: ScaleTarget) {
  object.metadata = identityAndLabels(object.metadata);
  if (object.spec) {
    const { replicas, selector } = object.spec;
    object.spec = { replicas, selector } as typeof object.spec;
  }
  if (object.status) {
    object.status = {
      replicas: object.status.replicas,
    } as typeof object.status;
  }
}

/**
 * Only an HPA's identity, labels and status are read: its spec (metrics,
 * behaviour), annotations and owner references are dropped to bound the
 * cache's memory.
 */
export function trimHpa(object: HorizontalPodAutoscaler) {
  object.metadata = identityAndLabels(object.metadata);
  // (not `delete`: see trimScaledObject)
  (object as { spec?: unknown }).spec = undefined;
  shareConditionStrings(object.status?.conditions);
}
