/*
 * Measures the Kubernetes stand-in and its KEDA loop at scale: starts N
 * stand-in clusters in-process (each with a state file and a KEDA loop),
 * creates ScaledObjects with their Deployments through the HTTP API, samples
 * the process CPU over a steady-state window, then deletes everything.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs \
 *     scripts/scale-check.ts [--count=10000] [--clusters=3] [--steady=30]
 *     [--namespaces=1] [--concurrency=32]
 *
 * No AWS endpoint is reachable (port 1), so every ScaledObject reports a
 * scaler error: the loop still does its full per-poll work.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { startKubernetesStandIn, KubernetesStandIn } from '../src/kubernetes';
import { KedaLoop, startKedaLoop } from '../src/keda';

function arg(name: string, fallback: number): number {
  const found = process.argv.find(a => a.startsWith(`--${name}=`));
  return found ? Number(found.split('=')[1]) : fallback;
}

const COUNT = arg('count', 10000);
const CLUSTERS = arg('clusters', 3);
const STEADY_SECONDS = arg('steady', 30);
const NAMESPACES = arg('namespaces', 1);
const CONCURRENCY = arg('concurrency', 32);
/** `--profile-steady=<file>`: a CPU profile of the steady-state window. */
const PROFILE_FILE = process.argv
  .find(a => a.startsWith('--profile-steady='))
  ?.split('=')[1];

/** Starts the V8 profiler; the returned function stops it and saves the profile. */
async function startProfile(file: string) {
  const session = new inspector.Session();
  session.connect();
  const post = (method: string) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, (e, result) => (e ? reject(e) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

interface Cluster {
  k8s: KubernetesStandIn;
  loop: KedaLoop;
}

async function call(
  cluster: Cluster,
  method: string,
  urlPath: string,
  body?: unknown,
) {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${cluster.k8s.url}${urlPath}`, {
        method,
        headers: {
          Authorization: `Bearer ${cluster.k8s.token}`,
          'Content-Type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      // A kept-alive socket the server closed while busy: try again.
      if (attempt < 5) continue;
      throw e;
    }
    const text = await res.text();
    // A retried write that had gone through the first time.
    const retriedDone =
      attempt > 1 && (res.status === 409 || res.status === 404);
    if (res.status >= 300 && !retriedDone) {
      throw new Error(`${method} ${urlPath}: ${res.status} ${text}`);
    }
    return;
  }
}

/**
 * Runs `work(i)` for i in [0, count) with at most CONCURRENCY in flight,
 * printing progress every tenth (so a run cut short still tells a rate).
 */
async function inParallel(count: number, work: (i: number) => Promise<void>) {
  let next = 0;
  let done = 0;
  const start = Date.now();
  const step = Math.max(1, Math.floor(count / 10));
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        await work(i);
        done += 1;
        if (done % step === 0 && done < count) {
          console.log(`  ${done}/${count} after ${Date.now() - start} ms`);
        }
      }
    }),
  );
}

const nsOf = (i: number) => `scale-${i % NAMESPACES}`;
const nameOf = (i: number) => `worker-${i}`;
const clusterOf = (clusters: Cluster[], i: number) =>
  clusters[i % clusters.length];

function deployment(i: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: nameOf(i), labels: { app: nameOf(i) } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: nameOf(i) } },
      template: {
        metadata: { labels: { app: nameOf(i) } },
        spec: { containers: [{ name: 'worker', image: 'worker:1' }] },
      },
    },
  };
}

function scaledObject(i: number) {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: nameOf(i),
      labels: { 'backstage.io/kubernetes-id': nameOf(i) },
    },
    spec: {
      scaleTargetRef: { name: nameOf(i) },
      pollingInterval: 30,
      minReplicaCount: 0,
      maxReplicaCount: 5,
      triggers: [
        {
          type: 'aws-sqs-queue',
          authenticationRef: { name: 'keda-aws' },
          metadata: {
            queueURL: `https://sqs.eu-west-1.amazonaws.com/222222222222/q-${i}`,
            queueLength: '5',
            awsRegion: 'eu-west-1',
          },
        },
      ],
    },
  };
}

function cpuMs(from: NodeJS.CpuUsage) {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

async function timed<T>(label: string, work: () => Promise<T>) {
  const start = Date.now();
  const cpu = process.cpuUsage();
  await work();
  const ms = Date.now() - start;
  console.log(
    `${label}: ${(ms / 1000).toFixed(1)} s wall, ${(cpuMs(cpu) / 1000).toFixed(
      1,
    )} s CPU`,
  );
  return ms;
}

function stateFileSizes(dir: string) {
  return fs
    .readdirSync(dir)
    .filter(f => f.endsWith('.json'))
    .map(
      f => `${f} ${(fs.statSync(path.join(dir, f)).size / 1e6).toFixed(1)} MB`,
    )
    .join(', ');
}

async function main() {
  // The AWS SDK warns about queued sockets once per unreachable-endpoint burst.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('node-http-handler')) warn(...args);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-check-'));
  console.log(
    `${COUNT} ScaledObjects + Deployments over ${CLUSTERS} clusters, ${NAMESPACES} namespace(s) each, state in ${dir}`,
  );
  const clusters: Cluster[] = [];
  for (let c = 0; c < CLUSTERS; c++) {
    const k8s = await startKubernetesStandIn({
      port: 0,
      stateFile: path.join(dir, `cluster-${c}.json`),
      namespaces: [
        'default',
        'keda',
        ...Array.from({ length: NAMESPACES }, (_, n) => `scale-${n}`),
      ],
    });
    for (let n = 0; n < NAMESPACES; n++) {
      k8s.store.create('triggerauthentications.keda.sh', `scale-${n}`, {
        metadata: { name: 'keda-aws' },
        spec: { podIdentity: { provider: 'aws' } },
      });
    }
    const loop = startKedaLoop({
      store: k8s.store,
      issuer: k8s.issuer,
      awsEndpoint: 'http://127.0.0.1:1',
      operatorRoleArn: 'arn:aws:iam::111111111111:role/keda-operator',
    });
    clusters.push({ k8s, loop });
  }

  await timed(`create ${COUNT}`, () =>
    inParallel(COUNT, async i => {
      const cluster = clusterOf(clusters, i);
      await call(
        cluster,
        'POST',
        `/apis/apps/v1/namespaces/${nsOf(i)}/deployments`,
        deployment(i),
      );
      await call(
        cluster,
        'POST',
        `/apis/keda.sh/v1alpha1/namespaces/${nsOf(i)}/scaledobjects`,
        scaledObject(i),
      );
    }),
  );

  // Let the first polls (scheduled at creation) finish before measuring.
  await new Promise(r => setTimeout(r, 5000));
  const stopProfile = PROFILE_FILE
    ? await startProfile(PROFILE_FILE)
    : undefined;
  const cpu = process.cpuUsage();
  const start = Date.now();
  await new Promise(r => setTimeout(r, STEADY_SECONDS * 1000));
  await stopProfile?.();
  const share = cpuMs(cpu) / (Date.now() - start);
  console.log(
    `steady state over ${STEADY_SECONDS} s: ${(share * 100).toFixed(
      1,
    )}% of one core (whole process, ${CLUSTERS} clusters)`,
  );
  console.log(`state files: ${stateFileSizes(dir)}`);
  for (const [c, cluster] of clusters.entries()) {
    // Absent before the request counter existed (comparison runs).
    const counts = (cluster.k8s as any).requestCounts?.();
    const loopStats = (cluster.loop as any).stats?.();
    const work = (cluster.k8s.store as any).workCounters?.();
    console.log(
      `cluster ${c}: requests ${JSON.stringify(counts?.byVerb)}, ` +
        `KEDA loop ${JSON.stringify(loopStats)}, store ${JSON.stringify(work)}`,
    );
  }

  await timed(`delete ${COUNT}`, () =>
    inParallel(COUNT, async i => {
      const cluster = clusterOf(clusters, i);
      await call(
        cluster,
        'DELETE',
        `/apis/keda.sh/v1alpha1/namespaces/${nsOf(i)}/scaledobjects/${nameOf(
          i,
        )}`,
      );
      await call(
        cluster,
        'DELETE',
        `/apis/apps/v1/namespaces/${nsOf(i)}/deployments/${nameOf(i)}`,
      );
    }),
  );
  const left = clusters.map(
    c =>
      c.k8s.store.list('pods').items.length +
      c.k8s.store.list('horizontalpodautoscalers.autoscaling').items.length,
  );
  console.log(`pods + HPAs left after delete: ${left.join(', ')}`);

  for (const cluster of clusters) {
    cluster.loop.stop();
    await cluster.k8s.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
