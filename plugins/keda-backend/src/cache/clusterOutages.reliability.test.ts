/*
 * Reliability suite "cluster outages" (#16, item 4): seeded random sequences
 * of API server outages against the running watch cache and status API,
 * on the Kubernetes stand-in (ephemeral port), its outage knobs driven
 * through its admin endpoint (`/_sandbox/outages`):
 *
 * - drop: every watch connection cut mid-stream;
 * - down: the server refuses connections for a while (3 s here; 60 s with
 *   KEDA_SOAK=1), then comes back;
 * - gone: watches end and every resume is answered 410 Gone (re-list);
 * - half-open: the server goes silent without closing anything (open
 *   watches stop, new requests are accepted and never answered, with or
 *   without response headers).
 *
 * ScaledObjects of the entity are created, changed and deleted while each
 * outage lasts. Checked: every read is answered (200, never an error),
 * while the server is unreachable with `stale: true` and the last known
 * data; after it returns the data is fresh (stale false, every change
 * made meanwhile) within 5 s — the requirement, which the
 * reconnect backoff's cap (DEFAULT_BACKOFF, used here as in production)
 * exists to keep; what is open (watch connections on both sides, silent
 * connections, restart timers, listeners, cached objects) does not grow
 * across outages; no unhandled error. Reconnects and re-lists are counted
 * from the stand-in's counters and the cache's own metrics.
 *
 * The half-open case uses short detection settings (bookmarks every
 * 200 ms, a watch silent for 1 s re-lists, requests time out after 1 s);
 * production defaults are in DEFAULT_WATCH_TIMEOUT. KEDA_SEED=n replays.
 */
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import {
  createClusterKubeConfig,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import {
  reportReliability,
  runs,
  seedFor,
  SeededRandom,
  soak,
  startKubernetesStandIn,
  type KubernetesStandIn,
  type OutageKind,
  type OutageStatus,
} from '@internal/sandbox';
import express from 'express';
import request from 'supertest';
import { migrateKedaRequestStore } from '../requests/KedaRequestStore';
import { createRouter } from '../service/router';
import { KedaStatusService } from '../service/KedaStatusService';
import type { ClusterWatchMetrics } from './ClusterWatchCache';
import { ScalingHistory } from '../status/history';

const SEED = seedFor(7);
const OUTAGES = runs(16, 48);
const DOWN_MS = soak() ? 60_000 : 3_000;
const HALF_OPEN_MS = 4_000;
/** The bound: fresh data within 5 s of the server's return. */
const RECOVERY_BOUND_MS = 5_000;
/** How long the suite waits for a recovery before calling it failed. */
const RECOVERY_DEADLINE_MS = 20_000;

const TOKEN = 'cluster-outages-token';
const ENTITY_ID = 'orders-worker';
const NAMESPACE = 'orders';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders';
const EXTRA_TARGETS = 6;
const CACHED_PLURALS = [
  'scaledobjects',
  'triggerauthentications',
  'clustertriggerauthentications',
  'horizontalpodautoscalers',
  'deployments',
];
const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': ENTITY_ID },
  },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

jest.setTimeout(soak() ? 60 * 60_000 : 10 * 60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function deployment(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'worker', image: `${name}:1` }] },
      },
    },
  };
}

function scaledObject(name: string, maxReplicaCount: number) {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name,
      labels: { 'backstage.io/kubernetes-id': ENTITY_ID },
    },
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: 0,
      maxReplicaCount,
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
  };
}

function seedCluster(standIn: KubernetesStandIn) {
  const { store } = standIn;
  store.create('namespaces', undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE },
  });
  store.create('triggerauthentications', NAMESPACE, {
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
  store.create('deployments', NAMESPACE, deployment('orders-worker'));
  for (let i = 0; i < EXTRA_TARGETS; i++) {
    store.create('deployments', NAMESPACE, deployment(`extra-${i}`));
  }
  store.create('scaledobjects', NAMESPACE, scaledObject('orders-worker', 10));
}

/** What the entity's status should show: name → maxReplicaCount, from the cluster itself. */
function expected(standIn: KubernetesStandIn): Record<string, number> {
  const out: Record<string, number> = {};
  for (const so of standIn.store.list('scaledobjects', {
    namespace: NAMESPACE,
  }).items as any[]) {
    out[so.metadata.name] = so.spec.maxReplicaCount;
  }
  return out;
}

function shown(status: EntityKedaStatus): Record<string, number> {
  const out: Record<string, number> = {};
  for (const so of status.scaledObjects) out[so.name] = so.replicas.max!;
  return out;
}

const same = (a: Record<string, number>, b: Record<string, number>) =>
  JSON.stringify(Object.entries(a).sort()) ===
  JSON.stringify(Object.entries(b).sort());

/** Creates, changes or deletes one to three of the entity's ScaledObjects. */
function changeScaledObjects(standIn: KubernetesStandIn, rng: SeededRandom) {
  const { store } = standIn;
  const changes = rng.int(1, 3);
  for (let c = 0; c < changes; c++) {
    const present = Object.keys(expected(standIn));
    const extras = present.filter(n => n.startsWith('extra-'));
    const free = [...Array(EXTRA_TARGETS).keys()]
      .map(i => `extra-${i}`)
      .filter(n => !present.includes(n));
    const action = rng.pick(['create', 'update', 'delete'] as const);
    if (action === 'create' && free.length) {
      store.create(
        'scaledobjects',
        NAMESPACE,
        scaledObject(rng.pick(free), rng.int(2, 40)),
      );
    } else if (action === 'delete' && extras.length) {
      store.delete('scaledobjects', NAMESPACE, rng.pick(extras));
    } else {
      store.patch(
        'scaledobjects',
        NAMESPACE,
        rng.pick(present),
        { spec: { maxReplicaCount: rng.int(2, 40) } },
        'merge',
      );
    }
  }
}

interface Counts {
  outages: Record<OutageKind, number>;
  unreachable: number;
  staleServed: number;
  recovered: number;
  recoveryMs: number[];
  reads: number;
  readErrors: number;
  crashes: number;
  failures: string[];
  maxServerWatches: number;
  maxClientWatches: number;
  maxCollections: number;
  maxRetriesPending: number;
  maxSilent: number;
  listeners: Set<number>;
}

it(`cluster outages: the cache serves stale data while the API server is away and is fresh within 5 s of its return (seed ${SEED})`, async () => {
  const rng = new SeededRandom(SEED);
  const counts: Counts = {
    outages: { drop: 0, down: 0, gone: 0, 'half-open': 0 },
    unreachable: 0,
    staleServed: 0,
    recovered: 0,
    recoveryMs: [],
    reads: 0,
    readErrors: 0,
    crashes: 0,
    failures: [],
    maxServerWatches: 0,
    maxClientWatches: 0,
    maxCollections: 0,
    maxRetriesPending: 0,
    maxSilent: 0,
    listeners: new Set(),
  };
  const fail = (message: string) =>
    counts.failures.push(`${message} (seed ${SEED})`);
  const onCrash = (e: unknown) => {
    counts.crashes++;
    fail(`unhandled: ${(e as Error)?.stack ?? e}`);
  };
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);

  const standIn = await startKubernetesStandIn({
    port: 0,
    tokens: [TOKEN],
    bookmarkIntervalMs: 200,
    simulatePods: false,
  });
  seedCluster(standIn);
  const keda = readKedaConfig(
    new ConfigReader({
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'demo-eks',
                url: standIn.url,
                authProvider: 'serviceAccount',
                serviceAccountToken: TOKEN,
              },
            ],
          },
        ],
      },
    }),
  );
  const db = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(db);
  const service = new KedaStatusService({
    clusters: keda.clusters,
    kubeConfigFor: createClusterKubeConfig,
    logger: mockServices.logger.mock(),
    history: new ScalingHistory({
      db,
      retentionMs: 24 * 3600_000,
      resolutionMs: 1_000,
    }),
    // DEFAULT_BACKOFF, as in production: its cap is what bounds recovery.
    watch: { idleMs: 1_000, requestTimeoutMs: 1_000 },
  });
  const app = express().use(
    await createRouter({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
      httpAuth: mockServices.httpAuth(),
      permissions: mockServices.permissions(),
      catalog: catalogServiceMock({ entities: [ORDERS] }),
      status: service,
    }),
  );

  /** One read of the status API; an answer other than 200 is counted and returned as undefined. */
  const read = async (): Promise<EntityKedaStatus | undefined> => {
    counts.reads++;
    const res = await request(app)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    if (res.status !== 200) {
      counts.readErrors++;
      fail(`read answered ${res.status}: ${JSON.stringify(res.body)}`);
      return undefined;
    }
    return res.body;
  };
  const isFresh = (s: EntityKedaStatus | undefined) =>
    s !== undefined &&
    s.clusters[0]?.synced === true &&
    s.clusters[0]?.stale === false &&
    same(shown(s), expected(standIn));
  const admin = async (body: unknown): Promise<OutageStatus> => {
    const res = await fetch(`${standIn.url}/_sandbox/outages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(await res.text());
    return res.json();
  };
  /** Waits until the data is fresh; the time it took, or undefined past the deadline. */
  const untilFresh = async (from: number): Promise<number | undefined> => {
    const deadline = from + RECOVERY_DEADLINE_MS;
    while (Date.now() < deadline) {
      if (isFresh(await read())) return Date.now() - from;
      await sleep(20);
    }
    return undefined;
  };
  /** After a recovery: what is open must settle back to one watch per collection. */
  const checkBounded = async (label: string) => {
    const deadline = Date.now() + 5_000;
    let server = standIn.outages().open;
    let [metrics] = service.cacheMetrics();
    while (Date.now() < deadline) {
      server = standIn.outages().open;
      [metrics] = service.cacheMetrics();
      if (
        server.silent === 0 &&
        server.watches === metrics.collections &&
        metrics.openWatches === metrics.collections &&
        metrics.retriesPending === 0
      )
        break;
      await sleep(20);
    }
    counts.maxServerWatches = Math.max(counts.maxServerWatches, server.watches);
    counts.maxClientWatches = Math.max(
      counts.maxClientWatches,
      metrics.openWatches,
    );
    counts.maxCollections = Math.max(
      counts.maxCollections,
      metrics.collections,
    );
    counts.maxRetriesPending = Math.max(
      counts.maxRetriesPending,
      metrics.retriesPending,
    );
    counts.maxSilent = Math.max(counts.maxSilent, server.silent);
    counts.listeners.add(metrics.listeners);
    if (
      server.silent !== 0 ||
      server.watches !== metrics.collections ||
      metrics.openWatches !== metrics.collections ||
      metrics.retriesPending !== 0
    ) {
      fail(
        `${label}: not settled: server ${JSON.stringify(
          server,
        )}, cache ${JSON.stringify(metrics)}`,
      );
    }
    const objects = standIn.store.list('scaledobjects').items.length;
    const cached = service.cacheMetrics().reduce((n, m) => n + m.objects, 0);
    const inCluster =
      objects +
      standIn.store.list('triggerauthentications').items.length +
      standIn.store.list('clustertriggerauthentications').items.length +
      standIn.store.list('horizontalpodautoscalers').items.length +
      standIn.store.list('deployments', { namespace: NAMESPACE }).items.length;
    if (cached !== inCluster) {
      fail(
        `${label}: the cache holds ${cached} objects, the cluster ${inCluster}`,
      );
    }
  };

  const started = Date.now();
  let serverAtStart: OutageStatus | undefined;
  let finalMetrics: ClusterWatchMetrics | undefined;
  try {
    service.start();
    if ((await untilFresh(Date.now())) === undefined) {
      throw new Error(`the cache never synced (seed ${SEED})`);
    }
    await checkBounded('start');
    serverAtStart = standIn.outages();

    const kinds: OutageKind[] = ['drop', 'down', 'gone', 'half-open'];
    const plan = rng.shuffle(
      [...Array(OUTAGES).keys()].map(i => kinds[i % kinds.length]),
    );
    for (const [i, kind] of plan.entries()) {
      const label = `outage ${i + 1}/${OUTAGES} (${kind})`;
      counts.outages[kind]++;
      const before = await read();
      if (!isFresh(before)) fail(`${label}: not fresh before the outage`);
      const lastKnown = before ? shown(before) : {};

      let returnsAt: number;
      if (kind === 'drop') {
        await admin({ outage: 'drop' });
        returnsAt = Date.now();
      } else if (kind === 'gone') {
        await admin({ outage: 'gone' });
        returnsAt = Date.now();
      } else {
        const durationMs = kind === 'down' ? DOWN_MS : HALF_OPEN_MS;
        const answer = await admin({
          outage: kind,
          durationMs,
          ...(kind === 'half-open' ? { headers: rng.chance(0.5) } : {}),
        });
        returnsAt = Date.now() + answer.active[0].endsInMs;
      }
      changeScaledObjects(standIn, rng);

      if (kind === 'down' || kind === 'half-open') {
        // The server is away: every read answers, from the last known
        // state, and says it is stale once the cache noticed.
        counts.unreachable++;
        let sawStale = false;
        while (Date.now() < returnsAt - 250) {
          const s = await read();
          if (s && !same(shown(s), lastKnown)) {
            fail(
              `${label}: served ${JSON.stringify(
                shown(s),
              )} while the server was away, not the last known ${JSON.stringify(
                lastKnown,
              )}`,
            );
            break;
          }
          if (s?.clusters[0]?.stale) sawStale = true;
          await sleep(50);
        }
        if (sawStale) counts.staleServed++;
        else
          fail(`${label}: never served stale: true while the server was away`);
        // Changes made after the return must show too.
        await sleep(Math.max(0, returnsAt - Date.now()));
      } else {
        // Reconnecting: reads answer throughout.
        for (let r = 0; r < 3; r++) {
          await read();
          await sleep(20);
        }
      }
      if (rng.chance(0.5)) changeScaledObjects(standIn, rng);

      const recovery = await untilFresh(returnsAt);
      if (recovery === undefined) {
        fail(
          `${label}: not fresh ${RECOVERY_DEADLINE_MS} ms after the server's return: ${JSON.stringify(
            await read(),
          )}`,
        );
      } else {
        counts.recoveryMs.push(recovery);
        if (recovery <= RECOVERY_BOUND_MS) counts.recovered++;
        else fail(`${label}: fresh only after ${recovery} ms`);
      }
      await checkBounded(label);
    }
    [finalMetrics] = service.cacheMetrics();
  } finally {
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
    await service.stop();
    await standIn.close();
  }

  const end = standIn.outages();
  const sum = (r: Record<string, number>) =>
    CACHED_PLURALS.reduce((n, p) => n + (r[p] ?? 0), 0);
  const reconnects =
    sum(end.counters.watches) - sum(serverAtStart?.counters.watches ?? {});
  const resyncs =
    sum(end.counters.lists) - sum(serverAtStart?.counters.lists ?? {});
  const maxRecovery = Math.max(0, ...counts.recoveryMs);
  const { outages } = counts;
  reportReliability(
    'cluster-outages',
    `cluster outages: ${OUTAGES} outages (seed ${SEED}, drops ${
      outages.drop
    }, down ${outages.down} (${DOWN_MS / 1000} s${
      soak() ? '' : '; 60 s with KEDA_SOAK=1'
    }), 410 Gone ${outages.gone}, half-open ${outages['half-open']} (${
      HALF_OPEN_MS / 1000
    } s)), ` +
      `stale served in ${counts.staleServed}/${counts.unreachable} (down, half-open), ` +
      `recovered within 5 s in ${counts.recovered}/${OUTAGES} (max ${(
        maxRecovery / 1000
      ).toFixed(1)} s), ` +
      `${counts.readErrors} read errors in ${counts.reads} reads, ${counts.crashes} crashes, ` +
      `${reconnects} reconnects (${
        finalMetrics?.failures ?? '?'
      } failed attempts), ${resyncs} resyncs (410 Gone ${
        end.counters.goneAnswered
      }, silent watches ${finalMetrics?.silentWatches ?? '?'}), ` +
      `open watches after: ${counts.maxServerWatches} (bounded: ${
        counts.maxCollections
      } collections), ${Math.round((Date.now() - started) / 1000)} s`,
  );

  expect({ seed: SEED, failures: counts.failures.slice(0, 10) }).toEqual({
    seed: SEED,
    failures: [],
  });
  expect({
    seed: SEED,
    staleServed: counts.staleServed,
    recovered: counts.recovered,
    readErrors: counts.readErrors,
    crashes: counts.crashes,
    listenerCounts: counts.listeners.size,
    maxServerWatches: counts.maxServerWatches,
    maxClientWatches: counts.maxClientWatches,
    maxRetriesPending: counts.maxRetriesPending,
    maxSilent: counts.maxSilent,
  }).toEqual({
    seed: SEED,
    staleServed: counts.unreachable,
    recovered: OUTAGES,
    readErrors: 0,
    crashes: 0,
    listenerCounts: 1,
    maxServerWatches: counts.maxCollections,
    maxClientWatches: counts.maxCollections,
    maxRetriesPending: 0,
    maxSilent: 0,
  });
  // Every outage made the cache reconnect; 410s and silent watches re-listed.
  expect({
    seed: SEED,
    reconnects: reconnects >= OUTAGES,
    resyncs: resyncs >= outages.gone,
  }).toEqual({
    seed: SEED,
    reconnects: true,
    resyncs: true,
  });
});
