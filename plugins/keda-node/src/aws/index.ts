export { KedaAwsClientFactory, KEDA_AWS_MAX_ATTEMPTS } from './clients';
export type { KedaAwsClientFactoryOptions } from './clients';
export { describeAwsError, isNoSuchEntity } from './errors';
export type { AwsCallContext } from './errors';
export { decodeIamPolicy, samePolicy } from './policyCompare';
export {
  reconcileRole,
  deleteManagedRole,
  isManagedRole,
} from './roleReconcile';
export type {
  DesiredRole,
  RoleChange,
  RoleEffectRunner,
  RoleReconcileOptions,
  RoleReconcileResult,
  RoleDeleteOptions,
  RoleDeleteResult,
} from './roleReconcile';
export {
  desiredScalerRole,
  desiredOperatorRole,
  PROVENANCE_TAG_KEYS,
} from './scalerRole';
export type { Provenance } from './scalerRole';
export {
  accessAnalyzerClientFor,
  describeChainFailure,
  formatVerificationCheck,
  verifyPlanDocuments,
  verifyScalerChain,
  VERIFICATION_CHECKS,
} from './verification';
export type {
  ChainVerification,
  IamSimulateLoader,
  IamSimulateModule,
  VerificationCheck,
  VerifyPlanDocumentsOptions,
  VerifyScalerChainOptions,
} from './verification';
export { discoverOidcIssuer, checkOidcProvider } from './oidcIssuer';
export {
  ensurePodIdentityAssociation,
  checkPodIdentityAgentAddon,
  POD_IDENTITY_AGENT_ADDON,
} from './podIdentity';
export type {
  PodIdentityAgentStatus,
  PodIdentityAssociationOptions,
  PodIdentityAssociationResult,
} from './podIdentity';
