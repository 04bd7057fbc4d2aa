/*
 * The bench's Kubernetes side, run as a child process of bench/run.ts so the
 * stand-ins and proxies do not share an event loop with the load generator:
 * N Kubernetes API stand-ins (@internal/sandbox), each behind a small HTTP
 * proxy that counts the requests the backend makes (watch and non-watch
 * apart) and can delay every request by a fixed latency.
 *
 * Protocol (process IPC): the parent sends
 *   { id, type: 'start', clusters, token }   → { id, clusters: [{ name, url, directUrl }] }
 *   { id, type: 'counts' }                   → { id, counts: { [cluster]: Counts } }
 *   { id, type: 'reset' }                    → { id }
 *   { id, type: 'latency', ms }              → { id }
 *   { id, type: 'stop' }                     → { id }, then exits
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  startKubernetesStandIn,
  type KubernetesStandIn,
} from '@internal/sandbox';

export interface Counts {
  /** Requests that are not watches (list, get, create, patch, …). */
  nonWatch: number;
  /** Watch requests (`?watch=true`), i.e. watch (re)starts. */
  watch: number;
  /** Non-watch requests by `VERB resource`, e.g. `GET pods`. */
  byVerbResource: Record<string, number>;
}

interface CountingProxy {
  url: string;
  /** Mutable: `reset` replaces the counts. */
  state: { counts: Counts };
  close(): Promise<void>;
}

const emptyCounts = (): Counts => ({
  nonWatch: 0,
  watch: 0,
  byVerbResource: {},
});

let latencyMs = 0;

/** `/api/v1/namespaces/x/pods` → `pods`; `/apis/keda.sh/v1alpha1/scaledobjects` → `scaledobjects`. */
function resourceOf(pathname: string): string {
  const parts = pathname.split('/').filter(Boolean);
  const start = parts[0] === 'api' ? 2 : 3;
  const rest = parts.slice(start);
  if (rest[0] === 'namespaces' && rest.length >= 3) return rest[2];
  return rest[0] ?? pathname;
}

async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const state = { counts: emptyCounts() };
  const sockets = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const watch = url.searchParams.get('watch') === 'true';
    if (watch) state.counts.watch += 1;
    else {
      state.counts.nonWatch += 1;
      const key = `${req.method} ${resourceOf(url.pathname)}`;
      state.counts.byVerbResource[key] =
        (state.counts.byVerbResource[key] ?? 0) + 1;
    }
    const forwardNow = () => {
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
          agent: watch ? false : agent,
        },
        response => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          // Watches send headers before any event: pass them on at once.
          res.flushHeaders();
          response.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      res.on('close', () => forward.destroy());
      req.pipe(forward);
    };
    // The injected latency: a fixed delay before the request reaches the
    // API server, as a far-away cluster would add (watch events themselves
    // are not delayed, only the request that opens the watch).
    if (latencyMs > 0) setTimeout(forwardNow, latencyMs);
    else forwardNow();
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      sockets.forEach(s => s.destroy());
      await new Promise<void>(resolve => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

const clusters: Array<{
  name: string;
  standIn: KubernetesStandIn;
  proxy: CountingProxy;
}> = [];

async function start(names: string[], token: string) {
  for (const name of names) {
    const standIn = await startKubernetesStandIn({
      port: 0,
      tokens: [token],
      // The Kubernetes plugin lists services, ingresses, jobs, … too.
      kubernetesPluginObjectTypes: true,
      // No ReplicaSets/pods per Deployment: the bench seeds Deployment
      // status itself and keeps the stand-ins' memory to the seeded objects.
      simulatePods: false,
      // Seeding 10k objects makes many changes; keep enough for resumes.
      historyLimit: 100_000,
    });
    const proxy = await startCountingProxy(standIn.url);
    clusters.push({ name, standIn, proxy });
  }
  return clusters.map(c => ({
    name: c.name,
    url: c.proxy.url,
    directUrl: c.standIn.url,
  }));
}

async function stop() {
  for (const c of clusters) {
    await c.proxy.close().catch(() => undefined);
    await c.standIn.close().catch(() => undefined);
  }
}

process.on('message', async (message: any) => {
  const reply = (body: object) => process.send?.({ id: message.id, ...body });
  try {
    switch (message.type) {
      case 'start':
        reply({ clusters: await start(message.clusters, message.token) });
        break;
      case 'counts':
        reply({
          counts: Object.fromEntries(
            clusters.map(c => [c.name, c.proxy.state.counts]),
          ),
        });
        break;
      case 'reset':
        for (const c of clusters) c.proxy.state.counts = emptyCounts();
        reply({});
        break;
      case 'latency':
        latencyMs = Number(message.ms) || 0;
        reply({});
        break;
      case 'stop':
        await stop();
        reply({});
        process.exit(0);
        break;
      default:
        reply({ error: `unknown message type ${message.type}` });
    }
  } catch (e) {
    reply({ error: (e as Error).stack ?? String(e) });
  }
});

// The parent went away (Ctrl-C, crash): do not linger.
process.on('disconnect', () => {
  stop().finally(() => process.exit(0));
});
