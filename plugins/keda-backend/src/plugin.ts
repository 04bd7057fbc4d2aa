import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { DefaultAwsCredentialsManager } from '@backstage/integration-aws-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { kedaPermissions } from '@keda-self-service/plugin-keda-common';
import {
  createClusterKubeConfig,
  kedaConfigServiceRef,
} from '@keda-self-service/plugin-keda-node';
import { EntityStatusSignals } from './service/EntityStatusSignals';
import { KedaStatusService } from './service/KedaStatusService';
import { ScalingHistory } from './status/history';
import { createRouter } from './service/router';
import { createKedaRequests } from './requests/setup';

/**
 * The `keda` backend plugin: live KEDA scaling status of catalog entities
 * from a per-cluster watch cache (`GET /api/keda/status`, `GET /api/keda/clusters`).
 *
 * Every backend replica keeps its own watch cache; the replica/queue-depth
 * history is kept in the plugin database (one row per ScaledObject and
 * minute, written once whichever replica sees the change first), so it
 * survives restarts and is the same on every replica.
 *
 * The approval flow (`/api/keda/requests…`, src/requests) keeps requests in
 * the plugin database; decisions are conditional updates in transactions and
 * its one scheduled job runs with global scope, so it is replica-safe too.
 * @public
 */
export const kedaPlugin = createBackendPlugin({
  pluginId: 'keda',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        // keda.* read once per process (keda-node), shared with the modules
        kedaConfig: kedaConfigServiceRef,
        logger: coreServices.logger,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        lifecycle: coreServices.lifecycle,
        catalog: catalogServiceRef,
        // approval flow (src/requests)
        database: coreServices.database,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        auditor: coreServices.auditor,
        scheduler: coreServices.scheduler,
        userInfo: coreServices.userInfo,
        notifications: notificationService,
        signals: signalsServiceRef,
      },
      async init({
        config,
        kedaConfig,
        logger,
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        lifecycle,
        catalog,
        database,
        auth,
        discovery,
        auditor,
        scheduler,
        notifications,
        signals,
        userInfo,
      }) {
        const keda = kedaConfig.config();
        permissionsRegistry.addPermissions(kedaPermissions);
        const requests = await createKedaRequests({
          config,
          keda,
          logger,
          database,
          httpAuth,
          auth,
          discovery,
          permissions,
          catalog,
          userInfo,
          auditor,
          scheduler,
          notifications,
          signals,
        });

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
          history: await ScalingHistory.create({
            database,
            retentionMs: keda.status.historyRetentionHours * 3600_000,
          }),
          // `keda:status:<entityRef>` when a watched entity's status changes
          statusSignals: new EntityStatusSignals({ signals, logger }),
          provenance: requests.provenance,
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
        httpRouter.use(requests.router);
      },
    });
  },
});
