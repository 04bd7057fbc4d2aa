import type { Config } from '@backstage/config';
import {
  DefaultAwsCredentialsManager,
  type AwsCredentialsManager,
} from '@backstage/integration-aws-node';
import {
  createClusterKubeConfig,
  type KedaClusterConfig,
} from '@keda-self-service/plugin-keda-node';
import { CoreV1Api } from '@kubernetes/client-node';

/** The parts of a ServiceAccount the planner looks at. @public */
export interface ServiceAccountInfo {
  annotations: Record<string, string>;
}

/**
 * Reads one ServiceAccount of a configured cluster; `undefined` when it does
 * not exist. Throws when the cluster cannot be asked.
 *
 * @public
 */
export type ServiceAccountReader = (
  cluster: KedaClusterConfig,
  namespace: string,
  name: string,
) => Promise<ServiceAccountInfo | undefined>;

/**
 * A {@link ServiceAccountReader} over the cluster's Kubernetes API, with
 * the connection and credentials keda-node builds from `keda.clusters[]`
 * (token, in-cluster or EKS IAM token). One GET, read-only.
 */
export function kubernetesServiceAccountReader(options: {
  config: Config;
  timeoutMs?: number;
}): ServiceAccountReader {
  const timeout = options.timeoutMs ?? 5000;
  let awsCredentialsManager: AwsCredentialsManager | undefined;
  return async (cluster, namespace, name) => {
    if (cluster.authProvider === 'aws') {
      awsCredentialsManager ??= DefaultAwsCredentialsManager.fromConfig(
        options.config,
      );
    }
    const kc = createClusterKubeConfig(cluster, { awsCredentialsManager });
    const api = kc.makeApiClient(CoreV1Api);
    let timer: NodeJS.Timeout | undefined;
    try {
      const serviceAccount = await Promise.race([
        api.readNamespacedServiceAccount({ name, namespace }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeout} ms`)),
            timeout,
          );
        }),
      ]);
      return { annotations: serviceAccount.metadata?.annotations ?? {} };
    } catch (e) {
      const error = e as { code?: number; statusCode?: number };
      if (error.code === 404 || error.statusCode === 404) return undefined;
      throw new Error(
        `GET /api/v1/namespaces/${namespace}/serviceaccounts/${name} on cluster ${
          cluster.name
        } failed: ${(e as Error).message ?? e}`,
      );
    } finally {
      clearTimeout(timer);
    }
  };
}
