import type {
  AuditorService,
  AuthService,
  DatabaseService,
  DiscoveryService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
  RootConfigService,
  SchedulerService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  KedaAwsClientFactory,
  KedaClusterService,
  type KedaConfig,
} from '@keda-self-service/plugin-keda-node';
import type express from 'express';
import { KedaRequestProvenance } from './KedaRequestProvenance';
import { KedaRequestService } from './KedaRequestService';
import { KedaRequestStore } from './KedaRequestStore';
import { createRequestsRouter } from './router';
import { ScaffolderProvisioning } from './ScaffolderProvisioning';

export interface KedaRequestsOptions {
  config: RootConfigService;
  keda: KedaConfig;
  logger: LoggerService;
  database: DatabaseService;
  httpAuth: HttpAuthService;
  auth: AuthService;
  discovery: DiscoveryService;
  permissions: PermissionsService;
  catalog: CatalogService;
  userInfo: UserInfoService;
  auditor: AuditorService;
  scheduler: SchedulerService;
  notifications?: NotificationService;
  /** announces request changes on `keda:requests` so open pages refetch */
  signals?: SignalsService;
}

/**
 * Wires the approval flow for the keda plugin: the request store (running
 * migrations unless `database.migrations.skip`), the service, the router to
 * mount, the status API's provenance hook, and a scheduled job (global
 * scope, so one replica runs it at a time) that records provisioning tasks
 * which ended without reporting.
 */
export async function createKedaRequests(
  options: KedaRequestsOptions,
): Promise<{
  router: express.Router;
  provenance: KedaRequestProvenance;
  service: KedaRequestService;
}> {
  const store = await KedaRequestStore.create({
    database: options.database,
    logger: options.logger,
  });

  // Clusters configured without oidcIssuer: asked with eks:DescribeCluster
  // by the cluster service the keda:plan action uses too, so the backend
  // plans the same trust policies.
  let aws: KedaAwsClientFactory | undefined;
  const clusters = new KedaClusterService({
    keda: () => options.keda,
    aws: () => (aws ??= KedaAwsClientFactory.fromConfig(options.config)),
    logger: options.logger,
  });
  const scaffolder = new ScaffolderProvisioning({
    auth: options.auth,
    discovery: options.discovery,
    templateRef: options.keda.templates.provisioning,
  });
  const service = new KedaRequestService({
    store,
    keda: options.keda,
    permissions: options.permissions,
    catalog: options.catalog,
    userInfo: options.userInfo,
    launcher: scaffolder,
    taskReader: scaffolder,
    notifications: options.notifications,
    signals: options.signals,
    auditor: options.auditor,
    logger: options.logger,
    clusters,
  });
  await options.scheduler.scheduleTask({
    id: 'keda-requests-provisioning-tasks',
    scope: 'global',
    frequency: { seconds: 30 },
    timeout: { minutes: 2 },
    initialDelay: { seconds: 15 },
    fn: async () => {
      const changed = await service.reconcileProvisioningTasks();
      if (changed > 0) {
        options.logger.info(
          `Recorded the outcome of ${changed} KEDA provisioning task(s)`,
        );
      }
    },
  });
  return {
    router: await createRequestsRouter({
      httpAuth: options.httpAuth,
      service,
    }),
    provenance: new KedaRequestProvenance(store),
    service,
  };
}
