import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import {
  createClusterKubeConfig,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import {
  startKubernetesStandIn,
  type KubernetesStandIn,
} from '@internal/sandbox';
import { ConfigReader } from '@backstage/config';
import express from 'express';
import request from 'supertest';
import { openApiErrors } from '../__testUtils__/openApi';
import {
  startCountingProxy,
  type CountingProxy,
} from '../__testUtils__/countingProxy';
import { migrateKedaRequestStore } from '../requests/KedaRequestStore';
import { ScalingHistory } from '../status/history';
import { EntityStatusSignals } from './EntityStatusSignals';
import { KedaStatusService } from './KedaStatusService';
import { createRouter } from './router';

/**
 * The status API against the Kubernetes API server stand-in, reached
 * through a proxy that counts requests (what the API server would see)
 * and survives the server going away and coming back on another port.
 */

const TOKEN = 'keda-backend-test-token';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders';
const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'orders-worker' },
  },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

/** Polls until `check` passes or the deadline expires, then rethrows its last failure. */
async function eventually<T>(
  check: () => Promise<T>,
  deadlineMs: number,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 25));
    }
  }
}

function seed(standIn: KubernetesStandIn) {
  const { store } = standIn;
  store.create('namespaces', undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'orders' },
  });
  store.create('deployments', 'orders', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'orders-worker',
      labels: { 'backstage.io/kubernetes-id': 'orders-worker' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'orders-worker' } },
      template: {
        metadata: { labels: { app: 'orders-worker' } },
        spec: { containers: [{ name: 'worker', image: 'orders:1' }] },
      },
    },
  });
  store.patch(
    'deployments',
    'orders',
    'orders-worker',
    { status: { replicas: 2, readyReplicas: 2 } },
    'merge',
    {
      subresource: 'status',
    },
  );
  store.create('triggerauthentications', 'orders', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name: 'orders-sqs' },
    spec: {
      podIdentity: {
        provider: 'aws',
        roleArn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-orders',
      },
    },
  });
  store.create('scaledobjects', 'orders', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: 'orders-worker',
      labels: { 'backstage.io/kubernetes-id': 'orders-worker' },
    },
    spec: {
      scaleTargetRef: { name: 'orders-worker' },
      minReplicaCount: 0,
      maxReplicaCount: 10,
      triggers: [
        {
          type: 'aws-sqs-queue',
          authenticationRef: { name: 'orders-sqs' },
          metadata: {
            queueURL: QUEUE_URL,
            queueLength: '5',
            awsRegion: 'eu-west-1',
          },
        },
      ],
    },
  });
  store.patch(
    'scaledobjects',
    'orders',
    'orders-worker',
    {
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'ScaledObjectReady' },
          { type: 'Active', status: 'True', reason: 'ScalerActive' },
        ],
        hpaName: 'keda-hpa-orders-worker',
        externalMetricNames: ['s0-aws-sqs-orders'],
      },
    },
    'merge',
    { subresource: 'status' },
  );
  setHpa(standIn, '3500m', 2);
  store.create('events', 'orders', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'orders-worker.1' },
    involvedObject: {
      kind: 'ScaledObject',
      name: 'orders-worker',
      namespace: 'orders',
    },
    reason: 'KEDAScalersStarted',
    message: 'Scaler aws-sqs-queue is built.',
    type: 'Normal',
    lastTimestamp: '2026-11-28T06:00:00Z',
  });
}

/** Creates or updates the HPA the way KEDA's operator owns it. */
function setHpa(
  standIn: KubernetesStandIn,
  averageValue: string,
  replicas: number,
) {
  const { store } = standIn;
  if (
    !store.find('horizontalpodautoscalers', 'orders', 'keda-hpa-orders-worker')
  ) {
    store.create('horizontalpodautoscalers', 'orders', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: 'keda-hpa-orders-worker',
        // KEDA owns its HPA; the admission webhook checks this.
        ownerReferences: [
          {
            apiVersion: 'keda.sh/v1alpha1',
            kind: 'ScaledObject',
            name: 'orders-worker',
            uid: store.get('scaledobjects', 'orders', 'orders-worker').metadata!
              .uid!,
            controller: true,
          },
        ],
        labels: { 'scaledobject.keda.sh/name': 'orders-worker' },
      },
      spec: {
        minReplicas: 1,
        maxReplicas: 10,
        scaleTargetRef: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'orders-worker',
        },
        metrics: [
          {
            type: 'External',
            external: {
              metric: {
                name: 's0-aws-sqs-orders',
                selector: {
                  matchLabels: { 'scaledobject.keda.sh/name': 'orders-worker' },
                },
              },
              target: { type: 'AverageValue', averageValue: '5' },
            },
          },
        ],
      },
    });
  }
  store.patch(
    'horizontalpodautoscalers',
    'orders',
    'keda-hpa-orders-worker',
    {
      status: {
        currentReplicas: replicas,
        desiredReplicas: replicas,
        currentMetrics: [
          {
            type: 'External',
            external: {
              metric: { name: 's0-aws-sqs-orders' },
              current: { averageValue },
            },
          },
        ],
      },
    },
    'merge',
    { subresource: 'status' },
  );
}

jest.setTimeout(30_000);

let dir: string;
let standIn: KubernetesStandIn;
let proxy: CountingProxy;
let service: KedaStatusService;
let app: express.Express;
/** channels of the status signals published */
let statusSignalChannels: string[];

function getStatus(user = 'user:default/developer') {
  return request(app)
    .get('/status')
    .query({ entityRef: 'component:default/orders-worker' })
    .set('Authorization', mockCredentials.user.header(user));
}

async function status(): Promise<EntityKedaStatus> {
  const res = await getStatus();
  expect(res.status).toBe(200);
  return res.body;
}

function waitForSync() {
  return eventually(async () => {
    const s = await status();
    expect(s.clusters[0]).toMatchObject({ synced: true, stale: false });
    expect(s.scaledObjects[0]?.replicas.current).toBe(2);
    return s;
  }, 10_000);
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('keda status API against the Kubernetes stand-in', () => {
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-backend-'));
    standIn = await startKubernetesStandIn({
      port: 0,
      tokens: [TOKEN],
      stateFile: path.join(dir, 'state.json'),
    });
    seed(standIn);
    proxy = await startCountingProxy(standIn.url);
    // The Kubernetes plugin's config shape, read by our config reader.
    const keda = readKedaConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'demo-eks',
                  url: proxy.url,
                  authProvider: 'serviceAccount',
                  serviceAccountToken: TOKEN,
                },
              ],
            },
          ],
        },
      }),
    );
    statusSignalChannels = [];
    service = new KedaStatusService({
      statusSignals: new EntityStatusSignals({
        signals: {
          publish: async ({ channel }) => {
            statusSignalChannels.push(channel);
          },
        },
        logger: mockServices.logger.mock(),
        coalesceMs: 10,
      }),
      clusters: keda.clusters,
      kubeConfigFor: createClusterKubeConfig,
      logger: mockServices.logger.mock(),
      history: await (async () => {
        const db = await databases.init('SQLITE_3');
        await migrateKedaRequestStore(db);
        return new ScalingHistory({
          db,
          retentionMs: 24 * 3600_000,
          resolutionMs: 1,
        });
      })(),
      backoff: { initialMs: 50, maxMs: 400 },
    });
    service.start();
    const catalog = catalogServiceMock.mock({
      getEntityByRef: jest.fn(
        async (
          ref: any,
          { credentials }: { credentials: BackstageCredentials },
        ) => {
          const user = (credentials.principal as { userEntityRef?: string })
            .userEntityRef;
          return ref === 'component:default/orders-worker' &&
            user !== 'user:default/outsider'
            ? ORDERS
            : undefined;
        },
      ) as any,
    });
    app = express().use(
      await createRouter({
        config: mockServices.rootConfig(),
        logger: mockServices.logger.mock(),
        httpAuth: mockServices.httpAuth(),
        permissions: mockServices.permissions(),
        catalog,
        status: service,
      }),
    );
  });

  afterEach(async () => {
    await service.stop();
    await proxy.close();
    await standIn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serves the entity's ScaledObject from the watch cache", async () => {
    const s = await waitForSync();
    // What is served is what openapi.yaml documents, field for field.
    expect(openApiErrors('EntityKedaStatus', s)).toEqual([]);
    expect(s.scaledObjects).toHaveLength(1);
    expect(s.scaledObjects[0]).toMatchObject({
      cluster: 'demo-eks',
      namespace: 'orders',
      name: 'orders-worker',
      health: 'Healthy',
      replicas: { current: 2, desired: 2, min: 0, max: 10 },
      auth: {
        kind: 'TriggerAuthentication',
        name: 'orders-sqs',
        found: true,
        provider: 'aws',
        roleAccountId: '222222222222',
      },
      hpa: { name: 'keda-hpa-orders-worker', currentReplicas: 2 },
      diagnoses: [],
    });
    expect(s.scaledObjects[0].triggers[0]).toMatchObject({
      queueName: 'orders',
      accountId: '222222222222',
      currentValuePerReplica: 3.5,
      estimatedQueueDepth: 7,
    });
    expect(s.scaledObjects[0].events.map(e => e.reason)).toEqual([
      'KEDAScalersStarted',
    ]);
    expect(s.clusters[0].lastSyncTime).toEqual(expect.any(String));
  });

  it('shows a ScaledObject or HPA change through the API within 2 s', async () => {
    await waitForSync();
    standIn.store.patch(
      'scaledobjects',
      'orders',
      'orders-worker',
      { spec: { maxReplicaCount: 25 } },
      'merge',
    );
    await eventually(
      async () =>
        expect((await status()).scaledObjects[0].replicas.max).toBe(25),
      2_000,
    );

    statusSignalChannels.length = 0;
    setHpa(standIn, '6', 4);
    const s = await eventually(async () => {
      const current = await status();
      expect(current.scaledObjects[0].triggers[0].estimatedQueueDepth).toBe(24);
      // The history recorded the depth change from the watch events (in
      // the database: the write follows the event).
      expect(current.scaledObjects[0].history.map(h => h.queueDepth)).toContain(
        24,
      );
      return current;
    }, 2_000);
    expect(s.scaledObjects[0].hpa?.currentReplicas).toBe(4);
    // The card asked for the entity's status, so the change was signalled.
    await eventually(async () => {
      expect(statusSignalChannels).toContain(
        'keda:status:component:default/orders-worker',
      );
    }, 2_000);
  });

  it('answers N steady-state reads with no list or get requests for cached kinds', async () => {
    await waitForSync();
    await status(); // first read also reads events (not a cached kind)
    const cachedKinds =
      /(scaledobjects|triggerauthentications|clustertriggerauthentications|horizontalpodautoscalers|deployments|statefulsets)$/;
    const countCachedReads = () =>
      proxy.requests.filter(
        r => r.method === 'GET' && !r.watch && cachedKinds.test(r.path),
      ).length;
    const countEventReads = () =>
      proxy.requests.filter(r => r.path.endsWith('/events')).length;
    const before = { cached: countCachedReads(), events: countEventReads() };

    for (let i = 0; i < 25; i++) await status();

    expect(countCachedReads() - before.cached).toBe(0);
    // Events are read on demand but reused for the TTL (10 s here).
    expect(countEventReads() - before.events).toBe(0);
  });

  it('does constant work per steady-state read: nothing rebuilt, the same ETag, 304 when sent back', async () => {
    await waitForSync();
    // Let the first events read and any history reload settle.
    await status();
    await new Promise(r => setTimeout(r, 50));
    const first = await getStatus();
    const etag = first.headers.etag;
    expect(etag).toMatch(/^W\/"/);
    const builds = service.statusBuilds;
    for (let i = 0; i < 20; i++) {
      const res = await getStatus();
      expect(res.headers.etag).toBe(etag);
      expect(res.body.scaledObjects).toEqual(first.body.scaledObjects);
    }
    expect(service.statusBuilds).toBe(builds);
    const unchanged = await getStatus().set('If-None-Match', etag);
    expect(unchanged.status).toBe(304);

    // A change of the entity's ScaledObject: a new version, built once.
    standIn.store.patch(
      'scaledobjects',
      'orders',
      'orders-worker',
      { spec: { maxReplicaCount: 30 } },
      'merge',
    );
    const changed = await eventually(async () => {
      const res = await getStatus().set('If-None-Match', etag);
      expect(res.status).toBe(200);
      expect(res.body.scaledObjects[0].replicas.max).toBe(30);
      return res;
    }, 2_000);
    expect(changed.headers.etag).not.toBe(etag);
    const rebuilt = service.statusBuilds;
    for (let i = 0; i < 5; i++) await getStatus();
    expect(service.statusBuilds).toBe(rebuilt);
  });

  it('serves the last state flagged stale while the API server is down, and recovers when it returns', async () => {
    await waitForSync();
    await standIn.close();

    const stale = await eventually(async () => {
      const s = await status();
      expect(s.clusters[0]).toMatchObject({
        stale: true,
        error: expect.any(String),
      });
      return s;
    }, 10_000);
    expect(stale.scaledObjects[0]).toMatchObject({
      name: 'orders-worker',
      replicas: { current: 2, max: 10 },
    });

    // The API server comes back (same state file, another port) with a change made meanwhile.
    standIn = await startKubernetesStandIn({
      port: 0,
      tokens: [TOKEN],
      stateFile: path.join(dir, 'state.json'),
    });
    proxy.retarget(standIn.url);
    standIn.store.patch(
      'scaledobjects',
      'orders',
      'orders-worker',
      { spec: { maxReplicaCount: 30 } },
      'merge',
    );

    await eventually(async () => {
      const s = await status();
      expect(s.clusters[0]).toMatchObject({ synced: true, stale: false });
      expect(s.clusters[0].error).toBeUndefined();
      expect(s.scaledObjects[0].replicas.max).toBe(30);
    }, 10_000);
    expect((await status()).clusters[0].stale).toBe(false);
  });

  it('keeps serving, not stale, when a ScaledObject targets a kind the server does not serve', async () => {
    await waitForSync();
    // The stand-in serves no StatefulSets, like a cluster without that API.
    standIn.store.create('scaledobjects', 'orders', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: {
        name: 'ledger',
        labels: { 'backstage.io/kubernetes-id': 'orders-worker' },
      },
      spec: {
        scaleTargetRef: { name: 'ledger', kind: 'StatefulSet' },
        triggers: [
          {
            type: 'aws-sqs-queue',
            metadata: { queueURL: QUEUE_URL, awsRegion: 'us-east-1' },
          },
        ],
      },
    });
    const s = await eventually(async () => {
      const current = await status();
      expect(current.scaledObjects.map(o => o.name)).toEqual([
        'ledger',
        'orders-worker',
      ]);
      expect(proxy.requests.some(r => r.path.endsWith('/statefulsets'))).toBe(
        true,
      );
      return current;
    }, 10_000);
    // Once the server said 404, the kind no longer counts towards freshness.
    await eventually(async () => {
      expect((await status()).clusters[0]).toMatchObject({
        synced: true,
        stale: false,
      });
    }, 10_000);
    const ledger = s.scaledObjects[0];
    expect(ledger.scaleTarget).toEqual({ kind: 'StatefulSet', name: 'ledger' });
    expect(ledger.diagnoses.map(d => d.code)).toEqual(['RegionMismatch']);
  });

  it('answers 404 for an entity the caller may not read', async () => {
    await waitForSync();
    const res = await getStatus('user:default/outsider');
    expect(res.status).toBe(404);
    expect(res.body.error.name).toBe('NotFoundError');
  });
});
