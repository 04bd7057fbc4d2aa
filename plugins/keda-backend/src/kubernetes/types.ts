import type {
  CoreV1Event,
  V1Deployment,
  V1ObjectMeta,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

/** The fields of a KEDA `keda.sh/v1alpha1` ScaledObject this plugin reads. */
export interface ScaledObject {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: {
    scaleTargetRef: { name: string; kind?: string; apiVersion?: string };
    pollingInterval?: number;
    cooldownPeriod?: number;
    idleReplicaCount?: number;
    minReplicaCount?: number;
    maxReplicaCount?: number;
    fallback?: { failureThreshold: number; replicas: number };
    advanced?: {
      horizontalPodAutoscalerConfig?: { name?: string };
    };
    triggers: ScaledObjectTrigger[];
  };
  status?: {
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    hpaName?: string;
    externalMetricNames?: string[];
    lastActiveTime?: string;
    originalReplicaCount?: number;
    pausedReplicaCount?: number;
    health?: Record<string, { numberOfFailures?: number; status?: string }>;
    scaleTargetKind?: string;
  };
}

/** One entry of `spec.triggers`. */
export interface ScaledObjectTrigger {
  type: string;
  name?: string;
  metadata?: Record<string, string>;
  metricType?: 'AverageValue' | 'Value' | 'Utilization';
  useCachedMetrics?: boolean;
  authenticationRef?: { name: string; kind?: string };
}

/** `keda.sh/v1alpha1` TriggerAuthentication or ClusterTriggerAuthentication. */
export interface TriggerAuthentication {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: {
    podIdentity?: {
      provider: string;
      roleArn?: string;
      identityOwner?: string;
      externalID?: string;
    };
    secretTargetRef?: Array<{ parameter: string; name: string; key: string }>;
    env?: Array<{ parameter: string; name: string }>;
  };
}

export type HorizontalPodAutoscaler = V2HorizontalPodAutoscaler;
export type ScaleTarget = V1Deployment | V1StatefulSet;
export type KubernetesEvent = CoreV1Event;

/** KEDA puts this label on the HPA it owns (value: the ScaledObject name). */
export const SCALED_OBJECT_NAME_LABEL = 'scaledobject.keda.sh/name';

/** The scale target kinds the cache watches (others show without replicas). */
export const CACHED_SCALE_TARGET_KINDS = ['Deployment', 'StatefulSet'] as const;
export type CachedScaleTargetKind = (typeof CACHED_SCALE_TARGET_KINDS)[number];
