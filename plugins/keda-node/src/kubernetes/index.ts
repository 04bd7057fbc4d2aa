export {
  createEksToken,
  EKS_TOKEN_PREFIX,
  type EksTokenOptions,
} from './eksToken';
export {
  createClusterKubeConfig,
  type ClusterKubeConfigOptions,
} from './kubeConfig';
