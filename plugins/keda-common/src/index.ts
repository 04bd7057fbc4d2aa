/**
 * Domain core of KEDA self-service autoscaling: pure functions and types
 * shared by the scaffolder actions, the keda backend and the frontend.
 *
 * The exports below are the package's whole public surface, by area. A
 * symbol that only keda-common itself uses is not exported; export it here
 * when another package needs it (the API report, `report.api.md`, shows the
 * change for review).
 *
 * @packageDocumentation
 */

// Configuration: `keda.clusters[]`, `keda.roles`, `keda.guardrails` as the
// plan builders take them (keda-node reads and validates them).
export {
  DEFAULT_GITOPS_PATH,
  DEFAULT_KEDA_ROLES,
  type KedaClusterSpec,
  type KedaGuardrails,
  type KedaRolesConfig,
  type ResolvedKedaRolesConfig,
} from './config';

// Permissions: the portal's permissions and the IAM-provisioning actions the
// permission policy fences.
export {
  KEDA_IAM_ACTION_IDS,
  PLATFORM_ONLY_LABEL,
  kedaIamProvisionPermission,
  kedaPermissions,
  kedaRequestApprovePermission,
  kedaRequestCreatePermission,
  kedaRequestReadPermission,
  kedaStatusReadPermission,
} from './permissions';

// Names on the outside: catalog annotations, Kubernetes annotations and
// labels, IAM tags and principals the portal writes or reads, and the
// scaffolder action ids.
export {
  EKS_POD_IDENTITY_PRINCIPAL,
  EKS_ROLE_ARN_ANNOTATION,
  KEDA_ACTION_IDS,
  KEDA_PAUSED_ANNOTATION,
  KEDA_PAUSED_REPLICAS_ANNOTATION,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_ID_LABEL,
  KUBERNETES_NAMESPACE_ANNOTATION,
  MANAGED_BY_VALUE,
  REQUEST_ID_ANNOTATION,
  ROLE_IDENTITY_TAG_KEYS,
  ROLE_TAG_KEYS,
  SQS_QUEUE_RESOURCE_TYPE,
  SQS_QUEUE_URL_ANNOTATION,
  STS_AUDIENCE,
  type KedaActionId,
} from './constants';

// SQS queue URLs and AWS partitions.
export {
  QueueUrlError,
  iamRegionForPartition,
  parseQueueUrl,
  partitionForRegion,
  type AwsPartition,
  type QueueUrlField,
  type SqsHostForm,
  type SqsQueue,
} from './queueUrl';

// IAM: role names and ARNs, and the policy documents of the operator and
// scaler roles.
export {
  defaultOperatorRoleName,
  iamRoleArn,
  oidcIssuerHostPath,
  oidcProviderArn,
  scalerRoleName,
} from './iam/roleNames';
export {
  clusterPartition,
  eksClusterArn,
  operatorRoleArn,
  operatorRoleIssuers,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
  serviceAccountSubject,
  type KedaProviderMode,
} from './iam/documents';
export {
  policyJson,
  type PolicyConditionBlock,
  type PolicyDocument,
  type PolicyPrincipal,
  type PolicyStatement,
} from './iam/policyDocument';

// KEDA manifests: the ScaledObject and TriggerAuthentication, and KEDA's
// admission checks on them.
export {
  buildScaledObject,
  buildTriggerAuthentication,
  type KubernetesObject,
  type ManifestMetadata,
  type ScaledObjectInput,
  type TriggerAuthenticationInput,
} from './manifests/render';
export {
  validateKedaAdmission,
  type KedaAdmissionResult,
} from './manifests/admission';

// A request's input: schema, parsing and validation.
export {
  KedaRequestError,
  WORKLOAD_API_VERSIONS,
  kedaRequestSchema,
  parseKedaRequest,
  type KedaRequest,
  type KedaRequestInput,
  type WorkloadKind,
} from './request';

// The plan of a request (roles, policies, manifests), its guardrail findings
// and its summary.
export {
  OPERATOR_PERMISSION_POLICY_NAME,
  plan,
  planOperatorRole,
  type KedaPlan,
  type KedaPlanInput,
  type OperatorRolePlan,
  type PlannedFile,
  type QueuePolicyAlternative,
  type ScalerRolePlan,
} from './plan';
export type { Finding, GuardrailEvaluation } from './guardrails';
export { renderPlanSummary } from './summary';

// The plan preview and cluster list the template's form shows.
export type {
  KedaClusterInfo,
  KedaClusterList,
  KedaPlanPreview,
  KedaPlanPreviewBody,
  KedaPlanPreviewFinding,
} from './planPreview';

// Requests: their records, states and transitions, and the bodies of the
// requests API.
export {
  KEDA_CURRENT_STATES,
  KEDA_IN_FLIGHT_STATES,
  KEDA_REQUESTS_SIGNAL_CHANNEL,
  KEDA_REQUEST_ACTIONS,
  KEDA_REQUEST_STATES,
  PULL_REQUEST_URL_MAX,
  canTransition,
  isFinalRequestState,
  kedaRequestPagePath,
  kedaWorkloadKey,
  pullRequestUrlProblem,
  scaffolderTaskPagePath,
  type CreateKedaRequestBody,
  type KedaDecision,
  type KedaDecisionBody,
  type KedaDecisionKind,
  type KedaProvisionedRoles,
  type KedaProvisioning,
  type KedaPullRequestRef,
  type KedaRequestAction,
  type KedaRequestList,
  type KedaRequestListFilter,
  type KedaRequestPreflight,
  type KedaRequestPreflightBody,
  type KedaRequestProgressBody,
  type KedaRequestRecord,
  type KedaRequestSignal,
  type KedaRequestState,
  type KedaVerification,
  type KedaVerificationCheck,
} from './requests';

// Status of an entity's autoscaling: the status API's body, its health and
// the status signal channel.
export { kedaHealth } from './health';
export { kedaStatusSignalChannel } from './requests';
export type {
  EntityKedaStatus,
  KedaAuthChain,
  KedaClusterCacheState,
  KedaCondition,
  KedaDiagnosis,
  KedaEvent,
  KedaHealth,
  KedaHistorySample,
  KedaHpaStatus,
  KedaOperatorIdentity,
  KedaProvenance,
  KedaReplicas,
  KedaTriggerStatus,
  ScaledObjectStatus,
} from './status';

// The software templates and their form fields.
export {
  KEDA_AUTOSCALING_TEMPLATE,
  KEDA_DECOMMISSION_TEMPLATE,
  KEDA_REQUEST_PICKER_FIELD,
  type KedaTemplateRef,
} from './templates';
