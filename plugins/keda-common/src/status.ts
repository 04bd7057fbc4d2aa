/**
 * Wire types of the keda backend's status API
 * (`GET /api/keda/status?entityRef=<ref>`), shared by the backend that
 * derives them from its watch cache and the frontend card that shows them.
 * Times are ISO-8601 strings; everything is JSON-serialisable.
 */

/** Argo CD's ScaledObject health mapping (see `kedaHealth`). @public */
export type KedaHealth = 'Healthy' | 'Degraded' | 'Progressing' | 'Suspended';

/** A Kubernetes condition as KEDA and the HPA write it. @public */
export interface KedaCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A plain-language explanation of a failure, with the fix. @public */
export interface KedaDiagnosis {
  /** Stable code, e.g. `AssumeRoleAccessDenied`, `QueueAccessDenied`, `NonExistentQueue`, `MissingOperatorIdentity`, `DeprecatedProvider`. */
  code: string;
  severity: 'error' | 'warning';
  /** What is wrong, in one sentence. */
  cause: string;
  /** What to do about it. */
  fix: string;
  /** The raw message this was derived from (AWS/KEDA error text), if any. */
  evidence?: string;
}

/** One `aws-sqs-queue` (or other) trigger of a ScaledObject. @public */
export interface KedaTriggerStatus {
  type: string;
  /** KEDA's external metric name, e.g. `s0-aws-sqs-orders-queue`. */
  metricName?: string;
  queueName?: string;
  queueUrl?: string;
  accountId?: string;
  region?: string;
  /** Target messages per replica (`queueLength`). */
  targetPerReplica?: number;
  /** Active when the depth is above this (`activationQueueLength`). */
  activationThreshold?: number;
  scaleOnInFlight?: boolean;
  scaleOnDelayed?: boolean;
  /** Current metric value per replica, from the HPA status (AverageValue). */
  currentValuePerReplica?: number;
  /** Estimated queue depth = value per replica × current replicas. */
  estimatedQueueDepth?: number;
  /**
   * True when the workload is scaled to zero and KEDA reports the
   * ScaledObject Ready but not Active: there is no HPA metric then, and all
   * KEDA says is that its last reading was at most `activationThreshold`
   * (so exactly 0, set as `estimatedQueueDepth`, when the threshold is 0).
   */
  idle?: boolean;
  /** From ScaledObject status.health[metricName]. */
  numberOfFailures?: number;
  healthStatus?: string;
}

/** How KEDA authenticates to AWS for this ScaledObject. @public */
export interface KedaAuthChain {
  kind: 'TriggerAuthentication' | 'ClusterTriggerAuthentication';
  name: string;
  /** False when the referenced object does not exist in the cache. */
  found: boolean;
  provider?: string;
  identityOwner?: string;
  /** The scaler role KEDA assumes (`podIdentity.roleArn`). */
  roleArn?: string;
  roleAccountId?: string;
  /** The cluster's KEDA operator role (from cluster config), if known. */
  operatorRoleArn?: string;
  crossAccount?: boolean;
  externalIdSet?: boolean;
  /** `aws-eks` is deprecated since KEDA 2.13 and removed in v3. */
  deprecatedProvider?: boolean;
  /**
   * How the KEDA operator itself gets the operator role (from cluster
   * config): IRSA, or an EKS Pod Identity association binding the operator's
   * service account to the role.
   */
  operatorIdentity?: KedaOperatorIdentity;
}

/** The KEDA operator's own AWS identity, as configured for its cluster. @public */
export interface KedaOperatorIdentity {
  method: 'irsa' | 'pod-identity';
  /** The operator's namespace and service account the identity is bound to. */
  namespace: string;
  serviceAccount: string;
  /**
   * Pod Identity: the association's id, when known. The status API does not
   * ask EKS for it (no AWS call per status read), so it is usually absent
   * and the card shows the configured binding.
   */
  associationId?: string;
}

/** Replica counts of the scale target and the ScaledObject's bounds. @public */
export interface KedaReplicas {
  current?: number;
  desired?: number;
  min: number;
  max: number;
  idle?: number;
  /** Set when paused with `autoscaling.keda.sh/paused-replicas`. */
  paused?: number;
}

/** The HPA KEDA manages for a ScaledObject. @public */
export interface KedaHpaStatus {
  name: string;
  conditions: KedaCondition[];
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
}

/** A recent Kubernetes event about the ScaledObject, its HPA or target. @public */
export interface KedaEvent {
  type: 'Normal' | 'Warning' | string;
  reason: string;
  message: string;
  /** `uid` is the object's, when the event names it (a re-created object has a new uid). */
  involvedObject: { kind: string; name: string; uid?: string };
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

/** One retained history sample. @public */
export interface KedaHistorySample {
  time: string;
  replicas?: number;
  queueDepth?: number;
}

/** Where a ScaledObject came from: the approval request and its pull request. @public */
export interface KedaProvenance {
  requestId?: string;
  requestState?: string;
  pullRequestUrl?: string;
}

/** Status of one ScaledObject. @public */
export interface ScaledObjectStatus {
  cluster: string;
  namespace: string;
  name: string;
  health: KedaHealth;
  conditions: KedaCondition[];
  paused: boolean;
  scaleTarget: { kind: string; name: string; apiVersion?: string };
  replicas: KedaReplicas;
  triggers: KedaTriggerStatus[];
  auth?: KedaAuthChain;
  hpa?: KedaHpaStatus;
  lastActiveTime?: string;
  diagnoses: KedaDiagnosis[];
  events: KedaEvent[];
  history: KedaHistorySample[];
  provenance?: KedaProvenance;
}

/** Freshness of one cluster's watch cache. @public */
export interface KedaClusterCacheState {
  cluster: string;
  /** True once every informer listed successfully at least once. */
  synced: boolean;
  /** True when the watch is broken and data may be out of date. */
  stale: boolean;
  lastSyncTime?: string;
  error?: string;
}

/** Response of `GET /api/keda/status?entityRef=…`. @public */
export interface EntityKedaStatus {
  entityRef: string;
  scaledObjects: ScaledObjectStatus[];
  clusters: KedaClusterCacheState[];
  /** Requests for this entity that are not yet visible as ScaledObjects. */
  pendingRequests?: KedaProvenance[];
  generatedAt: string;
}
