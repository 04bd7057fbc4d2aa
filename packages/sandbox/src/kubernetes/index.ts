export {
  startKubernetesStandIn,
  defaultCrdDir,
  type KubernetesStandIn,
  type KubernetesStandInOptions,
} from './server';
export {
  KubernetesObjectStore,
  type KubernetesObject,
  type WatchEvent,
  type WatchHandle,
  type AdmissionHook,
  type ListOptions,
  type WatchOptions,
  type StoreWorkCounters,
} from './store';
export { KubernetesApiError } from './errors';
export { type RequestCounts, type RequestVerb } from './requestCounts';
export {
  parseOutageRequest,
  type OutageKind,
  type OutageRequest,
  type OutageCounters,
  type OutageStatus,
  type OpenConnections,
} from './outages';
export { ServiceAccountIssuer } from './oidc';
export {
  generateServingCertificate,
  loadOrCreateServingCertificate,
  type ServingCertificate,
  type PersistedCertificate,
  type PersistedCertificateOptions,
} from './tls';
export {
  renderKubeconfig,
  writeKubeconfig,
  type KubeconfigOptions,
} from './kubeconfig';
export {
  ResourceRegistry,
  BUILTIN_RESOURCES,
  KUBERNETES_PLUGIN_EXTRA_RESOURCES,
  loadCustomResourceDefinitions,
  type ResourceType,
} from './resources';
export { hpaNameOf, validateScaledObject, kedaAdmission } from './admission';
