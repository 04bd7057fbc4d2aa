/*
 * The keda status route benchmark (issue #15 item 1); see bench/README.md.
 *
 *   yarn bench [--objects 1000,10000] [--clusters 3] [--duration 10] [--quick]
 *
 * Per object count: stand-ins behind counting proxies, one backend
 * (packages/backend) on a temporary config, N seeded ScaledObjects, then
 * each route under autocannon at 1 and 50 clients, without and with 50 ms
 * injected Kubernetes API latency, freshness and backend memory. Prints one
 * table per object count and the targets, and writes bench/results/latest.md.
 * Exits non-zero when something does not work (errors, non-2xx answers),
 * not when a target is missed.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import prettier from 'prettier';
import {
  BENCH_ENTITY,
  BENCH_ENTITY_NAME,
  BENCH_ENTITY_REF,
  writeBenchConfig,
} from './lib/config';
import { load, type LoadResult, type RouteSpec } from './lib/measure';
import {
  cleanupAll,
  freePort,
  makeTempDir,
  NODE_TRANSFORM,
  REPO_ROOT,
  rssBytes,
  startBackend,
  startStandIns,
  type Backend,
  type StandIns,
} from './lib/processes';
import {
  BENCH_SCALED_OBJECTS,
  KubeClient,
  planObjects,
  scaledObjectStatus,
  seed,
  type SeededObject,
} from './lib/seed';
import {
  evaluateTargets,
  renderReport,
  type CountResult,
  type RouteRow,
  type TemplateRunRow,
} from './lib/report';
import { measureTemplateRuns } from './templateRun';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string' },
    clusters: { type: 'string', default: '3' },
    duration: { type: 'string' },
    latency: { type: 'string', default: '50' },
    connections: { type: 'string', default: '50' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = args.quick!;
const OBJECT_COUNTS = (args.objects ?? (quick ? '100' : '1000,10000'))
  .split(',')
  .map(s => Number(s.trim()))
  .filter(n => Number.isFinite(n) && n > 0);
const CLUSTERS = Number(args.clusters);
const DURATION = Number(args.duration ?? (quick ? 2 : 10));
const WARMUP = quick ? 1 : 3;
const LATENCY_MS = Number(args.latency);
const CONNECTIONS = Number(args.connections);
const FRESHNESS_SAMPLES = quick ? 5 : 20;
const OUT = path.resolve(
  REPO_ROOT,
  args.out ?? path.join('bench', 'results', 'latest.md'),
);

const log = (message: string) =>
  process.stderr.write(
    `[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`,
  );
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Things that did not work: the run exits 1 when there is any. */
const problems: string[] = [];
/** The current backend's log, shown when the run fails (its temp dir goes away). */
let backendLog: string | undefined;

const ROUTES: RouteSpec[] = [
  {
    label: 'catalog by-name (floor)',
    method: 'GET',
    path: `/api/catalog/entities/by-name/component/default/${BENCH_ENTITY_NAME}`,
  },
  {
    label: 'keda status',
    method: 'GET',
    path: `/api/keda/status?entityRef=${encodeURIComponent(BENCH_ENTITY_REF)}`,
  },
  {
    label: 'keda status + If-None-Match',
    method: 'GET',
    path: `/api/keda/status?entityRef=${encodeURIComponent(BENCH_ENTITY_REF)}`,
    conditional: true,
  },
  {
    label: 'k8s plugin services',
    method: 'POST',
    path: `/api/kubernetes/services/${BENCH_ENTITY_NAME}`,
    body: { entity: BENCH_ENTITY },
  },
  {
    label: 'k8s plugin custom query',
    method: 'POST',
    path: '/api/kubernetes/resources/custom/query',
    body: {
      entityRef: BENCH_ENTITY_REF,
      customResources: [
        { group: 'keda.sh', apiVersion: 'v1alpha1', plural: 'scaledobjects' },
      ],
    },
  },
];

async function call(
  backend: Backend,
  token: string,
  route: Pick<RouteSpec, 'method' | 'path' | 'body'>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${backend.baseUrl}${route.path}`, {
    method: route.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(route.body ? { 'content-type': 'application/json' } : {}),
    },
    body: route.body ? JSON.stringify(route.body) : undefined,
  });
  return { status: response.status, text: await response.text() };
}

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  backend?: Backend,
  everyMs = 500,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await Promise.race([
      check().catch(() => false),
      ...(backend ? [backend.exited] : []),
    ]);
    if (done) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Checks one answer of each route before loading it: a wrong answer fast is no result. */
async function checkRoutes(backend: Backend, token: string) {
  for (const route of ROUTES) {
    const { status, text } = await call(backend, token, route);
    if (status !== 200) {
      throw new Error(`${route.label}: HTTP ${status}: ${text.slice(0, 300)}`);
    }
    const body = JSON.parse(text);
    if (route.path.startsWith('/api/keda/status')) {
      const found = body.scaledObjects?.length ?? 0;
      if (found !== BENCH_SCALED_OBJECTS) {
        throw new Error(
          `keda status: ${found} ScaledObjects, expected ${BENCH_SCALED_OBJECTS}`,
        );
      }
    }
    if (route.path.startsWith('/api/kubernetes/')) {
      const items: any[] = body.items ?? [];
      const errors = items.flatMap(i => i.errors ?? []);
      if (items.length !== CLUSTERS || errors.length) {
        throw new Error(
          `${route.label}: ${
            items.length
          } clusters answered, errors: ${JSON.stringify(errors).slice(0, 400)}`,
        );
      }
    }
  }
}

function sumNonWatch(counts: Record<string, { nonWatch: number }>) {
  return Object.values(counts).reduce((sum, c) => sum + c.nonWatch, 0);
}

/** Adds every cluster's non-watch requests by `VERB resource` into `into`. */
function addByVerbResource(
  into: Record<string, number>,
  counts: Record<string, { byVerbResource: Record<string, number> }>,
) {
  for (const c of Object.values(counts)) {
    for (const [key, n] of Object.entries(c.byVerbResource)) {
      into[key] = (into[key] ?? 0) + n;
    }
  }
}

async function measureRoute(
  backend: Backend,
  token: string,
  standIns: StandIns,
  route: RouteSpec,
): Promise<RouteRow> {
  await load({
    baseUrl: backend.baseUrl,
    token,
    route,
    connections: 10,
    seconds: WARMUP,
  });
  // Requests still in flight when a run ends keep calling the API server:
  // let them finish before counting the next run.
  await waitForQuiet(standIns, 500, 20_000);
  const runs: LoadResult[] = [];
  let apiRequests = 0;
  const byVerbResource: Record<string, number> = {};
  for (const connections of [1, CONNECTIONS]) {
    await standIns.reset();
    const result = await load({
      baseUrl: backend.baseUrl,
      token,
      route,
      connections,
      seconds: DURATION,
    });
    const counts = await standIns.counts();
    apiRequests += sumNonWatch(counts);
    addByVerbResource(byVerbResource, counts);
    await waitForQuiet(standIns, 500, 20_000);
    runs.push(result);
    const bad = Object.entries(result.statuses).filter(
      ([code]) =>
        !(Number(code) >= 200 && Number(code) < 300) && Number(code) !== 304,
    );
    if (bad.length || result.errors || result.timeouts || !result.responses) {
      problems.push(
        `${route.label} at ${connections} client(s): ${
          result.responses
        } responses, statuses ${JSON.stringify(result.statuses)}, errors ${
          result.errors
        }, timeouts ${result.timeouts}`,
      );
    }
  }
  const [one, many] = runs;
  const responses = one.responses + many.responses;
  const notModified = (one.statuses[304] ?? 0) + (many.statuses[304] ?? 0);
  const withEtag = one.withEtag + many.withEtag;
  return {
    label: route.label,
    conditional: !!route.conditional,
    p50One: one.p50,
    p99One: one.p99,
    p50Many: many.p50,
    p99Many: many.p99,
    reqPerSecMany: many.reqPerSec,
    apiPerRead: responses ? apiRequests / responses : NaN,
    responsesOne: one.responses,
    responsesMany: many.responses,
    topApiRequests: Object.entries(byVerbResource)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([key, n]) => ({ request: key, perRead: n / responses })),
    notModifiedShare: responses ? notModified / responses : 0,
    etagShare: responses ? withEtag / responses : 0,
  };
}

async function measureAll(backend: Backend, token: string, standIns: StandIns) {
  const rows: RouteRow[] = [];
  for (const route of ROUTES) {
    log(`  ${route.label}`);
    rows.push(await measureRoute(backend, token, standIns, route));
  }
  return rows;
}

/** Patch → visible in the keda status route, polled every 5 ms. */
async function measureFreshness(
  backend: Backend,
  token: string,
  kube: KubeClient,
  target: SeededObject,
): Promise<number[]> {
  const samples: number[] = [];
  const statusPath = `/apis/keda.sh/v1alpha1/namespaces/${target.namespace}/scaledobjects/${target.name}/status`;
  const route = ROUTES[1];
  for (let i = 0; i < FRESHNESS_SAMPLES; i++) {
    const marker = `bench-fresh-${i}-${crypto.randomBytes(4).toString('hex')}`;
    const started = performance.now();
    await kube.request(target.cluster, 'PATCH', statusPath, {
      status: scaledObjectStatus(target.name, marker),
    });
    const deadline = started + 10_000;
    for (;;) {
      const { status, text } = await call(backend, token, route);
      if (status === 200 && text.includes(marker)) {
        samples.push(performance.now() - started);
        break;
      }
      if (performance.now() > deadline) {
        samples.push(Infinity);
        break;
      }
      await sleep(5);
    }
    await sleep(100);
  }
  return samples.sort((a, b) => a - b);
}

/** Waits until the backend makes no Kubernetes API request (other than watches) for `quietMs`. */
async function waitForQuiet(
  standIns: StandIns,
  quietMs: number,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = sumNonWatch(await standIns.counts());
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(250);
  }
}

async function runForCount(objectCount: number): Promise<CountResult> {
  log(`=== ${objectCount} ScaledObjects over ${CLUSTERS} clusters`);
  const dir = makeTempDir();
  const token = crypto.randomBytes(24).toString('hex');
  const clusterToken = crypto.randomBytes(16).toString('hex');
  const names = Array.from({ length: CLUSTERS }, (_, i) => `bench-${i + 1}`);
  const standIns = await startStandIns(names, clusterToken);
  const port = await freePort();
  const configFile = writeBenchConfig({
    dir,
    port,
    token,
    clusters: standIns.clusters,
    clusterToken,
  });
  log(
    `starting the backend on :${port} (log: ${path.join(dir, 'backend.log')})`,
  );
  const startedAt = Date.now();
  const backend = startBackend(
    [path.join(REPO_ROOT, 'app-config.yaml'), configFile],
    port,
    dir,
  );
  backendLog = backend.logFile;
  await waitFor(
    'the backend readiness',
    async () =>
      (
        await fetch(`${backend.baseUrl}/.backstage/health/v1/readiness`)
      ).ok,
    300_000,
    backend,
  );
  log(`backend ready after ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  await waitFor(
    'the bench entity in the catalog',
    async () => (await call(backend, token, ROUTES[0])).status === 200,
    120_000,
    backend,
  );
  await waitFor(
    'keda cluster caches synced',
    async () => {
      const { status, text } = await call(backend, token, {
        method: 'GET',
        path: '/api/keda/clusters',
      });
      const clusters: any[] = status === 200 ? JSON.parse(text).clusters : [];
      return clusters.length === CLUSTERS && clusters.every(c => c.synced);
    },
    120_000,
    backend,
  );
  await waitForQuiet(standIns, 2000, 30_000);
  await sleep(quick ? 2000 : 5000);
  const rssBefore = rssBytes(backend.pid);

  const kube = new KubeClient(clusterToken);
  const objects = planObjects(objectCount, standIns.clusters);
  const seedStart = Date.now();
  await seed(kube, objects);
  log(
    `seeded ${objects.length} ScaledObjects (+ Deployments, HPAs) in ${(
      (Date.now() - seedStart) /
      1000
    ).toFixed(1)} s`,
  );
  await waitFor(
    'the seeded objects in the keda status',
    async () => {
      const { status, text } = await call(backend, token, ROUTES[1]);
      if (status !== 200) return false;
      const body = JSON.parse(text);
      return (
        body.scaledObjects?.length === BENCH_SCALED_OBJECTS &&
        body.scaledObjects.every((so: any) =>
          JSON.stringify(so).includes('keda-hpa-'),
        )
      );
    },
    300_000,
    backend,
  );
  await waitForQuiet(standIns, 3000, 120_000);
  await sleep(quick ? 2000 : 10_000);
  const rssAfter = rssBytes(backend.pid);
  log(
    `backend RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB → ${(
      rssAfter /
      2 ** 20
    ).toFixed(0)} MB`,
  );

  await checkRoutes(backend, token);
  // The first seconds of load on a fresh backend are much slower (JIT,
  // lazily built caches): warm every route up before the first measurement,
  // so the route measured first is not the one that pays for it.
  log('warming up every route');
  for (const route of ROUTES) {
    await load({
      baseUrl: backend.baseUrl,
      token,
      route,
      connections: 10,
      seconds: WARMUP * 2,
    });
  }
  await waitForQuiet(standIns, 500, 20_000);
  log('measuring without injected latency');
  const direct = await measureAll(backend, token, standIns);
  log(`measuring with ${LATENCY_MS} ms injected Kubernetes API latency`);
  await standIns.setLatency(LATENCY_MS);
  await checkRoutes(backend, token);
  const delayed = await measureAll(backend, token, standIns);
  await standIns.setLatency(0);

  log('freshness');
  const benchObject = objects.find(o => o.entity === BENCH_ENTITY_NAME)!;
  const freshness = await measureFreshness(backend, token, kube, benchObject);
  if (freshness.some(s => !Number.isFinite(s))) {
    problems.push(
      `freshness: ${
        freshness.filter(s => !Number.isFinite(s)).length
      } change(s) not visible within 10 s`,
    );
  }
  await cleanupAll();
  return {
    objects: objectCount,
    clusters: CLUSTERS,
    direct,
    delayed,
    latencyMs: LATENCY_MS,
    freshness,
    rssBefore,
    rssAfter,
  };
}

/** bench/cacheMemory.ts in its own process (it needs --expose-gc). */
function measureCacheMemory(
  objectCount: number,
): Promise<CountResult['cache']> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--expose-gc',
        '--require',
        NODE_TRANSFORM,
        path.join(__dirname, 'cacheMemory.ts'),
        '--objects',
        String(objectCount),
        '--clusters',
        String(CLUSTERS),
      ],
      { maxBuffer: 10 * 2 ** 20, timeout: 600_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`cache memory: ${error.message} ${stderr.slice(-500)}`),
          );
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

function machineInfo(): string {
  const cpus = os.cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${os
      .loadavg()
      .map(l => l.toFixed(2))
      .join(' ')}`,
    `- node ${process.version}, ${os.platform()} ${os.release()}`,
    `- command: \`yarn bench ${process.argv.slice(2).join(' ')}\`${
      quick ? ' (quick mode)' : ''
    }; ${DURATION} s per run, ${CONNECTIONS} clients, ${LATENCY_MS} ms injected latency`,
  ].join('\n');
}

/** The end of the current backend's log, before its temp dir goes away. */
function showBackendLog() {
  if (backendLog && fs.existsSync(backendLog)) {
    const tail = fs.readFileSync(backendLog, 'utf8').split('\n').slice(-40);
    log(`end of the backend log:\n${tail.join('\n')}`);
  }
  backendLog = undefined;
}

async function main() {
  let templateRuns:
    | { first: TemplateRunRow; rerun: TemplateRunRow }
    | undefined;
  log('template run (AWS steps, first run and re-run)');
  try {
    templateRuns = await measureTemplateRuns();
    if (templateRuns.rerun.writes !== 0) {
      problems.push(
        `template re-run changed AWS (${templateRuns.rerun.writes} writes): it must converge`,
      );
    }
  } catch (e) {
    problems.push(`template run: ${(e as Error).message}`);
  }
  const results: CountResult[] = [];
  for (const count of OBJECT_COUNTS) {
    try {
      const result = await runForCount(count);
      log(`watch cache memory at ${count} objects (own process)`);
      result.cache = await measureCacheMemory(count);
      results.push(result);
    } catch (e) {
      // Report what the earlier counts measured, then fail.
      showBackendLog();
      problems.push(`${count} objects: ${(e as Error).message}`);
      await cleanupAll();
      break;
    }
  }
  // Formatted as the repository formats markdown (aligned tables), so the
  // committed results pass `yarn prettier:check`.
  const report = prettier.format(
    renderReport(
      results,
      evaluateTargets,
      machineInfo(),
      problems,
      templateRuns,
    ),
    { ...prettier.resolveConfig.sync(OUT), parser: 'markdown' },
  );
  process.stdout.write(report);
  // A run that measured nothing does not replace the last results.
  if (results.length) {
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    fs.writeFileSync(OUT, report);
    log(`written to ${path.relative(REPO_ROOT, OUT)}`);
  }
  if (problems.length) {
    log(`FAILED: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main()
  .catch(e => {
    showBackendLog();
    log(`FAILED: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
