import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import express from 'express';
import { KedaRequestService } from '../KedaRequestService';
import { KedaRequestStore, migrateKedaRequestStore } from '../KedaRequestStore';
import { createRequestsRouter } from '../router';
import { membershipUserInfo, policyPermissions } from './policyPermissions';
import { testClusterService, testKedaConfig } from './requests';

/** orders-worker, owned by team-orders (JANE's team). */
export const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'orders-worker', namespace: 'default' },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

/**
 * The request API as the plugin mounts it — real router, service, store on
 * SQLite and the portal's permission policy — with recording fakes for the
 * scaffolder launcher, notifications and the auditor. One per test.
 */
export async function startRequestsApp(
  databases: TestDatabases,
  options: { allowSelfApproval?: boolean; now?: () => number } = {},
) {
  const knex = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(knex);
  const store = new KedaRequestStore(knex);
  const launches: Array<{ requestId: string; onBehalfOf: string }> = [];
  const launcher = {
    start: jest.fn(
      async (o: { requestId: string; onBehalfOf: BackstageCredentials }) => {
        launches.push({
          requestId: o.requestId,
          onBehalfOf: (o.onBehalfOf.principal as any).userEntityRef,
        });
        return { taskId: `task-${launches.length}` };
      },
    ),
  };
  const notifications = { send: jest.fn(async () => {}) };
  const signals = { publish: jest.fn(async (_signal: unknown) => {}) };
  const auditEvents: Array<{ eventId: string; outcome: string }> = [];
  const auditor = mockServices.auditor.mock({
    createEvent: jest.fn(async ({ eventId }: { eventId: string }) => ({
      success: async () => {
        auditEvents.push({ eventId, outcome: 'success' });
      },
      fail: async () => {
        auditEvents.push({ eventId, outcome: 'fail' });
      },
    })) as any,
  });
  const keda = {
    ...testKedaConfig,
    approvals: {
      ...testKedaConfig.approvals,
      allowSelfApproval: options.allowSelfApproval ?? false,
    },
  };
  const service = new KedaRequestService({
    store,
    keda,
    clusters: testClusterService(keda),
    permissions: policyPermissions(),
    userInfo: membershipUserInfo(),
    catalog: {
      getEntityByRef: async ref =>
        ref === 'component:default/orders-worker' ? ORDERS : undefined,
    },
    launcher,
    notifications,
    signals,
    auditor,
    logger: mockServices.logger.mock(),
    now: options.now,
  });
  const app = express();
  app.use(
    await createRequestsRouter({ httpAuth: mockServices.httpAuth(), service }),
  );
  app.use(
    MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    }).error(),
  );
  return {
    app,
    store,
    service,
    launcher,
    launches,
    notifications,
    signals,
    auditEvents,
  };
}
