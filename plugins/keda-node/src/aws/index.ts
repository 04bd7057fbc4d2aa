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
  verifyScalerChain,
  describeChainFailure,
  PROVENANCE_TAG_KEYS,
} from './scalerRole';
export type {
  Provenance,
  ChainVerification,
  SimulatedDecision,
} from './scalerRole';
export { discoverOidcIssuer, checkOidcProvider } from './oidcIssuer';
