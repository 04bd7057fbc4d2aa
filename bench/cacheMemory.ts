/*
 * What the keda watch cache itself holds in memory, apart from everything
 * else a backend process carries: the stand-ins (in their own process) get
 * N ScaledObjects over M clusters (with their Deployments, HPAs and
 * TriggerAuthentications, as `yarn bench` seeds them); one ClusterWatchCache
 * per cluster, in this process, follows them. The V8 heap in use after a
 * full garbage collection is read once the caches are synced and empty and
 * again once they hold every object: the difference is the cache's cost.
 * (The backend's RSS, which `yarn bench` reports, also counts garbage not
 * yet collected and heap the process keeps for later.)
 *
 *   node --expose-gc --require @backstage/cli/config/nodeTransform.cjs \
 *     bench/cacheMemory.ts [--objects 10000] [--clusters 3]
 *
 * Prints one JSON line; `yarn bench` runs it and puts it in its table.
 */
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { ClusterWatchCache } from '../plugins/keda-backend/src/cache/ClusterWatchCache';
import { cleanupAll, startStandIns } from './lib/processes';
import { KubeClient, planObjects, seed } from './lib/seed';

export interface CacheMemory {
  objects: number;
  clusters: number;
  /** objects the caches hold (ScaledObjects, HPAs, workloads, TriggerAuthentications) */
  cachedObjects: number;
  /** watched collections (per cluster: the fixed ones, and one per namespace and workload kind) */
  collections: number;
  /** heap in use after a full GC, caches synced and empty */
  heapEmptyBytes: number;
  /** heap in use after a full GC, caches holding every object */
  heapFullBytes: number;
}

const silent: LoggerService = {
  error: m => console.error(m),
  warn: m => console.error(m),
  info: () => {},
  debug: () => {},
  child: () => silent,
};

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

export async function measureCacheMemory(
  objectCount: number,
  clusterCount: number,
): Promise<CacheMemory> {
  const token = crypto.randomBytes(16).toString('hex');
  const names = Array.from({ length: clusterCount }, (_, i) => `mem-${i + 1}`);
  const standIns = await startStandIns(names, token);
  const caches = standIns.clusters.map(cluster => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        { name: cluster.name, server: cluster.directUrl, skipTLSVerify: true },
      ],
      users: [{ name: 'bench', token }],
      contexts: [{ name: 'bench', cluster: cluster.name, user: 'bench' }],
      currentContext: 'bench',
    });
    return new ClusterWatchCache({
      cluster: cluster.name,
      kubeConfig,
      logger: silent,
    });
  });
  try {
    for (const cache of caches) cache.start();
    const waitUntil = async (what: string, done: () => boolean) => {
      const deadline =
        Date.now() +
        (process.env.BENCH_TIMEOUT_MS
          ? Number(process.env.BENCH_TIMEOUT_MS)
          : 300_000);
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
        await sleep(250);
      }
    };
    await waitUntil('caches synced', () => caches.every(c => c.state().synced));
    await sleep(1000);
    const heapEmptyBytes = heapAfterGc();

    const kube = new KubeClient(token);
    const objects = planObjects(objectCount, standIns.clusters);
    await seed(kube, objects);
    const namespaces = new Set(
      objects.map(o => `${o.cluster.name}/${o.namespace}`),
    ).size;
    // each object: ScaledObject, HPA, Deployment; one TriggerAuthentication per namespace
    const expected = objects.length * 3 + namespaces;
    const cached = () => caches.reduce((n, c) => n + c.metrics().objects, 0);
    await waitUntil(`${expected} objects cached`, () => cached() >= expected);
    await sleep(2000);
    const heapFullBytes = heapAfterGc();
    return {
      objects: objectCount,
      clusters: clusterCount,
      cachedObjects: cached(),
      collections: caches.reduce((n, c) => n + c.metrics().collections, 0),
      heapEmptyBytes,
      heapFullBytes,
    };
  } finally {
    await Promise.all(caches.map(c => c.stop()));
    await cleanupAll();
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '10000' },
      clusters: { type: 'string', default: '3' },
    },
  });
  measureCacheMemory(Number(values.objects), Number(values.clusters)).then(
    r => console.log(JSON.stringify(r)),
    e => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
