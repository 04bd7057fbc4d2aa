/**
 * Label the Backstage Kubernetes plugin (and our status cache) uses to find
 * an entity's objects: `backstage.io/kubernetes-id=<entity annotation value>`.
 * @public
 */
export const KUBERNETES_ID_LABEL = 'backstage.io/kubernetes-id';

/** Entity annotation holding the value of {@link KUBERNETES_ID_LABEL}. @public */
export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';

/** Entity annotation naming the namespace of its Kubernetes objects. @public */
export const KUBERNETES_NAMESPACE_ANNOTATION =
  'backstage.io/kubernetes-namespace';

/** Annotation on generated objects: the KEDA request that produced them. @public */
export const REQUEST_ID_ANNOTATION = 'keda.backstage.io/request-id';

/** Annotation on generated objects: the catalog entity they scale. @public */
export const ENTITY_REF_ANNOTATION = 'keda.backstage.io/entity-ref';

/** Annotation on generated objects: the SQS queue ARN the trigger reads. @public */
export const QUEUE_ARN_ANNOTATION = 'keda.backstage.io/queue-arn';

/**
 * Annotation on a catalog `Resource` of type {@link SQS_QUEUE_RESOURCE_TYPE}:
 * the queue's URL (the template form's queue picker offers it).
 * @public
 */
export const SQS_QUEUE_URL_ANNOTATION = 'keda.backstage.io/sqs-queue-url';

/** `spec.type` of catalog `Resource`s that are SQS queues. @public */
export const SQS_QUEUE_RESOURCE_TYPE = 'sqs-queue';

/** Annotation on generated objects: the IAM role KEDA assumes for this trigger. @public */
export const SCALER_ROLE_ARN_ANNOTATION = 'keda.backstage.io/scaler-role-arn';

/** Annotation on generated objects: who asked for the autoscaling. @public */
export const REQUESTED_BY_ANNOTATION = 'keda.backstage.io/requested-by';

/** `app.kubernetes.io/managed-by` value on generated objects. @public */
export const MANAGED_BY_VALUE = 'backstage-keda';

/**
 * ServiceAccount annotation IRSA reads; KEDA's deprecated `aws-eks` provider
 * reads the scaler role from it on the workload's ServiceAccount.
 * @public
 */
export const EKS_ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** KEDA annotations that pause a ScaledObject. @public */
export const KEDA_PAUSED_ANNOTATION = 'autoscaling.keda.sh/paused';
/** @public */
export const KEDA_PAUSED_REPLICAS_ANNOTATION =
  'autoscaling.keda.sh/paused-replicas';

/** Tag keys put on every scaler role, so roles can be traced back and cleaned up. @public */
export const ROLE_TAG_KEYS = {
  managedBy: 'backstage.io/managed-by',
  entityRef: 'keda.backstage.io/entity-ref',
  cluster: 'keda.backstage.io/cluster',
  namespace: 'keda.backstage.io/namespace',
  /** `<kind>/<name>` of the scaled workload, e.g. `Deployment/orders-worker` */
  workload: 'keda.backstage.io/workload',
  /** `Deployment` or `StatefulSet` */
  workloadKind: 'keda.backstage.io/workload-kind',
  queueArn: 'keda.backstage.io/queue-arn',
  requestId: 'keda.backstage.io/request-id',
} as const;

/**
 * The tags that say whom a role belongs to: reconcile refuses to converge a
 * role whose values differ from the desired role's (another workload's or
 * another cluster's role), whatever else is configured.
 * @public
 */
export const ROLE_IDENTITY_TAG_KEYS = [
  ROLE_TAG_KEYS.cluster,
  ROLE_TAG_KEYS.namespace,
  ROLE_TAG_KEYS.workloadKind,
  ROLE_TAG_KEYS.workload,
] as const;

/** The STS audience IRSA tokens carry. @public */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** Service principal of EKS Pod Identity. @public */
export const EKS_POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/**
 * Session name KEDA uses when it calls `sts:AssumeRole` for a TriggerAuthentication
 * (pkg/scalers/aws/aws_config_cache.go).
 * @public
 */
export const KEDA_ASSUME_ROLE_SESSION_NAME = 'KEDA';

/**
 * Every scaffolder action id of the KEDA scaffolder module, defined once:
 * the actions register under these ids, the permission policy matches them
 * and the tests check the templates' steps against them. The IAM-changing
 * ones are listed in `KEDA_IAM_ACTION_IDS` (a test keeps it within this
 * table).
 * @public
 */
export const KEDA_ACTION_IDS = {
  /** Validate a request and compute its plan (no side effects). */
  plan: 'keda:plan',
  /** Write the ScaledObject and TriggerAuthentication manifests. */
  manifestsWrite: 'keda:manifests:write',
  /** Create or converge the scaler role KEDA assumes (changes IAM). */
  scalerRoleEnsure: 'keda:aws:scaler-role:ensure',
  /** Delete a decommissioned workload's scaler role (changes IAM). */
  scalerRoleDelete: 'keda:aws:scaler-role:delete',
  /** Create or converge a cluster's KEDA operator role (changes IAM). */
  operatorRoleEnsure: 'keda:aws:operator-role:ensure',
  /** Record a request with the keda backend. */
  requestRecord: 'keda:request:record',
  /** Read a recorded request. */
  requestGet: 'keda:request:get',
  /** Report a request's progress (pull request, provisioning). */
  requestProgress: 'keda:request:progress',
  /** Mark a request decommissioned. */
  requestDecommission: 'keda:request:decommission',
  /** Resolve what a decommission removes. */
  requestDecommissionTarget: 'keda:request:decommission-target',
  /** Mark a draft pull request ready for review. */
  githubPullRequestReady: 'keda:github:pull-request:ready',
} as const;

/** One of {@link KEDA_ACTION_IDS}. @public */
export type KedaActionId =
  (typeof KEDA_ACTION_IDS)[keyof typeof KEDA_ACTION_IDS];
