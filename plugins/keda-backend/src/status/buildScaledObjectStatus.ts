import {
  KEDA_PAUSED_ANNOTATION,
  KEDA_PAUSED_REPLICAS_ANNOTATION,
  parseQueueUrl,
  REQUEST_ID_ANNOTATION,
  type KedaAuthChain,
  type KedaCondition,
  type KedaEvent,
  type KedaHistorySample,
  type KedaHpaStatus,
  type KedaTriggerStatus,
  type ScaledObjectStatus,
} from '@keda-self-service/plugin-keda-common';
import { parseQuantity } from '../kubernetes/quantity';
import type {
  HorizontalPodAutoscaler,
  ScaledObject,
  ScaledObjectTrigger,
  ScaleTarget,
  TriggerAuthentication,
} from '../kubernetes/types';
import { diagnose, type SqsTriggerFacts } from './diagnose';
import { scaledObjectHealth } from './health';

/** Annotation the approval flow may set: the pull request that added the ScaledObject. */
export const PULL_REQUEST_URL_ANNOTATION = 'keda.backstage.io/pull-request-url';

/** Providers KEDA still accepts but has deprecated or removed. */
const DEPRECATED_PROVIDERS = new Set(['aws-eks', 'aws-kiam']);

/** The cluster facts a status needs (from `keda.clusters`). */
export interface StatusClusterFacts {
  name: string;
  accountId?: string;
  operatorRoleArn?: string;
  /** `keda.clusters[].identity`: how the operator gets its role. */
  identity?: 'irsa' | 'pod-identity';
  /** `keda.clusters[].operator.namespace` / `.serviceAccount`. */
  operatorNamespace?: string;
  operatorServiceAccount?: string;
}

/** Everything the status of one ScaledObject is derived from. */
export interface ScaledObjectStatusInput {
  cluster: StatusClusterFacts;
  scaledObject: ScaledObject;
  hpa?: HorizontalPodAutoscaler;
  /** Undefined when the target's kind is not cached (e.g. an Argo Rollout). */
  scaleTarget?: { found: boolean; object?: ScaleTarget };
  findTriggerAuthentication: (
    kind: 'TriggerAuthentication' | 'ClusterTriggerAuthentication',
    name: string,
  ) => TriggerAuthentication | undefined;
  events: KedaEvent[];
  history: KedaHistorySample[];
}

/** Accepts the typed client's Date objects and the watch's strings alike. */
export function toIso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && value) return value;
  return undefined;
}

export function toConditions(
  raw: Array<Record<string, any>> | undefined,
): KedaCondition[] {
  return (raw ?? []).map(c => ({
    type: String(c.type),
    status: c.status === 'True' || c.status === 'False' ? c.status : 'Unknown',
    reason: c.reason || undefined,
    message: c.message || undefined,
    lastTransitionTime: toIso(c.lastTransitionTime),
  }));
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function toBool(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value.trim().toLowerCase() === 'true';
}

function roleAccount(arn: string | undefined): string | undefined {
  return arn && /^arn:[^:]+:iam::\d{12}:role\//.test(arn)
    ? arn.split(':')[4]
    : undefined;
}

/** The metric name KEDA gives trigger `index`: `s<index>-<scaler metric>`. */
function metricNameOf(so: ScaledObject, index: number): string | undefined {
  return so.status?.externalMetricNames?.find(n => n.startsWith(`s${index}-`));
}

function hpaMetricValue(
  hpa: HorizontalPodAutoscaler | undefined,
  metricName: string | undefined,
) {
  if (!hpa || !metricName) return undefined;
  const metric = hpa.status?.currentMetrics?.find(
    m => m.type === 'External' && m.external?.metric?.name === metricName,
  );
  const current = metric?.external?.current;
  return {
    averageValue: parseQuantity(current?.averageValue as any),
    value: parseQuantity(current?.value as any),
  };
}

/** Replicas the HPA averaged over; the target's count when the HPA is idle. */
export function scaleTargetReplicas(
  hpa: HorizontalPodAutoscaler | undefined,
  scaleTarget: ScaledObjectStatusInput['scaleTarget'],
): number | undefined {
  if (scaleTarget) {
    // The API omits status.replicas at zero; a missing target runs nothing.
    return scaleTarget.found ? scaleTarget.object?.status?.replicas ?? 0 : 0;
  }
  return hpa?.status?.currentReplicas ?? undefined;
}

/**
 * Scaled to zero by KEDA: the HPA is disabled at zero replicas and reports
 * no metric, but KEDA keeps polling, and Active=False while Ready=True means
 * its last reading of every trigger was at most the activation threshold.
 */
function isIdle(
  conditions: KedaCondition[],
  paused: boolean,
  currentReplicas: number | undefined,
): boolean {
  const is = (type: string, status: KedaCondition['status']) =>
    conditions.some(c => c.type === type && c.status === status);
  return (
    currentReplicas === 0 &&
    !paused &&
    is('Ready', 'True') &&
    is('Active', 'False')
  );
}

function triggerStatus(
  so: ScaledObject,
  trigger: ScaledObjectTrigger,
  index: number,
  hpa: HorizontalPodAutoscaler | undefined,
  currentReplicas: number | undefined,
): { status: KedaTriggerStatus; facts?: SqsTriggerFacts } {
  const metricName = metricNameOf(so, index);
  const health = metricName ? so.status?.health?.[metricName] : undefined;
  const status: KedaTriggerStatus = {
    type: trigger.type,
    metricName,
    numberOfFailures: health?.numberOfFailures,
    healthStatus: health?.status,
  };
  const measured = hpaMetricValue(hpa, metricName);
  const metricType = trigger.metricType ?? 'AverageValue';
  if (metricType === 'AverageValue' && measured?.averageValue !== undefined) {
    status.currentValuePerReplica = measured.averageValue;
    // The HPA divides the total by the replicas it sees; multiply back.
    if (currentReplicas !== undefined && currentReplicas > 0) {
      status.estimatedQueueDepth = Math.round(
        measured.averageValue * currentReplicas,
      );
    }
  } else if (metricType === 'Value' && measured?.value !== undefined) {
    status.estimatedQueueDepth = Math.round(measured.value);
  }

  if (trigger.type !== 'aws-sqs-queue') return { status };

  const md = trigger.metadata ?? {};
  status.targetPerReplica = toInt(md.queueLength) ?? 5;
  status.activationThreshold = toInt(md.activationQueueLength) ?? 0;
  status.scaleOnInFlight = toBool(md.scaleOnInFlight, true);
  status.scaleOnDelayed = toBool(md.scaleOnDelayed, false);
  status.region = md.awsRegion;
  const facts: SqsTriggerFacts = {
    index,
    awsRegion: md.awsRegion,
    queueUrl: md.queueURL,
  };
  if (md.queueURL) {
    status.queueUrl = md.queueURL;
    try {
      const queue = parseQueueUrl(md.queueURL);
      status.queueName = queue.queueName;
      status.accountId = queue.accountId;
      status.region = md.awsRegion ?? queue.region;
      facts.queueRegion = queue.region;
    } catch (e) {
      facts.queueUrlError = (e as Error).message;
    }
  }
  return { status, facts };
}

function authChain(input: ScaledObjectStatusInput): KedaAuthChain | undefined {
  const triggers = input.scaledObject.spec.triggers ?? [];
  const ref =
    triggers.find(t => t.type === 'aws-sqs-queue' && t.authenticationRef)
      ?.authenticationRef ??
    triggers.find(t => t.authenticationRef)?.authenticationRef;
  if (!ref) return undefined;
  const kind =
    ref.kind === 'ClusterTriggerAuthentication'
      ? 'ClusterTriggerAuthentication'
      : 'TriggerAuthentication';
  const ta = input.findTriggerAuthentication(kind, ref.name);
  const chain: KedaAuthChain = {
    kind,
    name: ref.name,
    found: ta !== undefined,
    operatorRoleArn: input.cluster.operatorRoleArn,
  };
  const {
    identity: operatorIdentity,
    operatorNamespace,
    operatorServiceAccount,
  } = input.cluster;
  if (operatorIdentity && operatorNamespace && operatorServiceAccount) {
    // The configured binding; a Pod Identity association's id would need an
    // EKS call per status read, which the status API does not make.
    chain.operatorIdentity = {
      method: operatorIdentity,
      namespace: operatorNamespace,
      serviceAccount: operatorServiceAccount,
    };
  }
  const identity = ta?.spec?.podIdentity;
  if (identity) {
    chain.provider = identity.provider;
    chain.identityOwner = identity.identityOwner;
    chain.roleArn = identity.roleArn;
    chain.roleAccountId = roleAccount(identity.roleArn);
    chain.externalIdSet = Boolean(identity.externalID);
    chain.deprecatedProvider = DEPRECATED_PROVIDERS.has(identity.provider);
    const clusterAccount =
      input.cluster.accountId ?? roleAccount(input.cluster.operatorRoleArn);
    if (chain.roleAccountId && clusterAccount) {
      chain.crossAccount = chain.roleAccountId !== clusterAccount;
    }
  }
  return chain;
}

function hpaStatus(
  hpa: HorizontalPodAutoscaler | undefined,
): KedaHpaStatus | undefined {
  if (!hpa) return undefined;
  return {
    name: hpa.metadata?.name ?? '',
    conditions: toConditions(hpa.status?.conditions as any),
    lastScaleTime: toIso(hpa.status?.lastScaleTime),
    currentReplicas: hpa.status?.currentReplicas ?? undefined,
    desiredReplicas: hpa.status?.desiredReplicas ?? undefined,
  };
}

/**
 * Derives the wire status of one ScaledObject from cached Kubernetes
 * objects. Pure: no I/O, so status reads cost no Kubernetes requests.
 */
export function buildScaledObjectStatus(
  input: ScaledObjectStatusInput,
): ScaledObjectStatus {
  const so = input.scaledObject;
  const annotations = so.metadata.annotations ?? {};
  const conditions = toConditions(so.status?.conditions);
  const pausedReplicas =
    toInt(annotations[KEDA_PAUSED_REPLICAS_ANNOTATION]) ??
    so.status?.pausedReplicaCount;
  const pausedByAnnotation =
    toBool(annotations[KEDA_PAUSED_ANNOTATION], false) ||
    annotations[KEDA_PAUSED_REPLICAS_ANNOTATION] !== undefined;
  const paused =
    pausedByAnnotation ||
    conditions.some(c => c.type === 'Paused' && c.status === 'True');
  const health = scaledObjectHealth(conditions, pausedByAnnotation);

  const currentReplicas = scaleTargetReplicas(input.hpa, input.scaleTarget);
  const triggers = (so.spec.triggers ?? []).map((t, i) =>
    triggerStatus(
      so,
      t,
      i,
      input.hpa,
      input.hpa?.status?.currentReplicas ?? currentReplicas,
    ),
  );
  if (isIdle(conditions, paused, currentReplicas)) {
    for (const { status } of triggers) {
      if (status.estimatedQueueDepth !== undefined) continue;
      status.idle = true;
      // Inactive means every reading was <= its activation threshold.
      if (status.activationThreshold === 0) status.estimatedQueueDepth = 0;
    }
  }
  const auth = authChain(input);
  const targetKind = so.spec.scaleTargetRef.kind ?? 'Deployment';

  return {
    cluster: input.cluster.name,
    namespace: so.metadata.namespace ?? 'default',
    name: so.metadata.name ?? '',
    health,
    conditions,
    paused,
    scaleTarget: {
      kind: targetKind,
      name: so.spec.scaleTargetRef.name,
      apiVersion: so.spec.scaleTargetRef.apiVersion,
    },
    replicas: {
      current: currentReplicas,
      desired: input.scaleTarget?.found
        ? input.scaleTarget.object?.spec?.replicas ?? undefined
        : input.hpa?.status?.desiredReplicas ?? undefined,
      min: so.spec.minReplicaCount ?? 0,
      max: so.spec.maxReplicaCount ?? 100,
      idle: so.spec.idleReplicaCount,
      paused: pausedReplicas,
    },
    triggers: triggers.map(t => t.status),
    auth,
    hpa: hpaStatus(input.hpa),
    lastActiveTime: toIso(so.status?.lastActiveTime),
    diagnoses: diagnose({
      health,
      conditions,
      events: input.events,
      sqsTriggers: triggers.flatMap(t => (t.facts ? [t.facts] : [])),
      auth,
      scaleTargetFound: input.scaleTarget?.found,
      scaleTarget: { kind: targetKind, name: so.spec.scaleTargetRef.name },
    }),
    events: input.events,
    history: input.history,
    provenance: annotations[REQUEST_ID_ANNOTATION]
      ? {
          requestId: annotations[REQUEST_ID_ANNOTATION],
          pullRequestUrl: annotations[PULL_REQUEST_URL_ANNOTATION],
        }
      : undefined,
  };
}

/** The values the history records for a ScaledObject: replicas and total estimated depth. */
export function historyValues(
  status: Pick<ScaledObjectStatus, 'replicas' | 'triggers'>,
) {
  const depths = status.triggers
    .map(t => t.estimatedQueueDepth)
    .filter((d): d is number => d !== undefined);
  return {
    replicas: status.replicas.current,
    queueDepth: depths.length ? Math.max(...depths) : undefined,
  };
}
