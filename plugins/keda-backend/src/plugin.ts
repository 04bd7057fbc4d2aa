import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { DefaultAwsCredentialsManager } from '@backstage/integration-aws-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { kedaPermissions } from '@internal/plugin-keda-common';
import {
  createClusterKubeConfig,
  readKedaConfig,
} from '@internal/plugin-keda-node';
import { KedaStatusService } from './service/KedaStatusService';
import { createRouter } from './service/router';

/**
 * The `keda` backend plugin: live KEDA scaling status of catalog entities
 * from a per-cluster watch cache (`GET /api/keda/status`, `GET /api/keda/clusters`).
 *
 * Every backend replica keeps its own watch cache and history; nothing is
 * shared between replicas and there is no scheduled work, so any number of
 * replicas may run.
 * @public
 */
export const kedaPlugin = createBackendPlugin({
  pluginId: 'keda',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
      },
      async init({
        config,
        logger,
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        lifecycle,
        catalog,
      }) {
        const keda = readKedaConfig(config);
        permissionsRegistry.addPermissions(kedaPermissions);

        let awsCredentialsManager: DefaultAwsCredentialsManager | undefined;
        const status = new KedaStatusService({
          clusters: keda.clusters,
          kubeConfigFor: cluster => {
            if (cluster.authProvider === 'aws') {
              awsCredentialsManager ??=
                DefaultAwsCredentialsManager.fromConfig(config);
            }
            return createClusterKubeConfig(cluster, { awsCredentialsManager });
          },
          logger,
          eventsCacheTtlMs: keda.status.eventsCacheTtlSeconds * 1000,
          historyRetentionMs: keda.status.historyRetentionHours * 3600_000,
        });
        if (keda.clusters.length === 0) {
          logger.warn(
            'No clusters configured for KEDA status: add keda.clusters or kubernetes.clusterLocatorMethods (type config)',
          );
        } else {
          logger.info(
            `KEDA status watches ${keda.clusters
              .map(c => `${c.name} (${c.source})`)
              .join(', ')}`,
          );
        }
        status.start();
        lifecycle.addShutdownHook(() => status.stop());

        httpRouter.use(
          await createRouter({
            config,
            logger,
            httpAuth,
            permissions,
            catalog,
            status,
          }),
        );
      },
    });
  },
});
