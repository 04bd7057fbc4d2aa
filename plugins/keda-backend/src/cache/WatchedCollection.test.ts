import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockServices } from '@backstage/backend-test-utils';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import {
  startKubernetesStandIn,
  type KubernetesStandIn,
} from '@internal/sandbox';
import {
  startCountingProxy,
  type CountingProxy,
} from '../__testUtils__/countingProxy';
import {
  DEFAULT_BACKOFF,
  WatchedCollection,
  type WatchTimeoutOptions,
} from './WatchedCollection';

jest.setTimeout(30_000);

const TOKEN = 'watched-collection-test-token';

async function eventually<T>(
  check: () => T | Promise<T>,
  deadlineMs = 10_000,
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

let standIn: KubernetesStandIn;
let proxy: CountingProxy;
let credentialsFail = false;
let collection: WatchedCollection<KubernetesObject>;

/** A KubeConfig whose credential provider can be made to throw, like an EKS token that cannot be minted. */
function kubeConfig(url: string) {
  const kc = new KubeConfig();
  kc.addAuthenticator({
    isAuthProvider: user => user.authProvider?.name === 'flaky',
    applyAuthentication: async (_user, opts) => {
      if (credentialsFail)
        throw new Error('cannot mint an EKS token: STS unreachable');
      opts.headers = { ...opts.headers, Authorization: `Bearer ${TOKEN}` };
    },
  });
  kc.loadFromClusterAndUser(
    { name: 'c', server: url, skipTLSVerify: true },
    { name: 'u', authProvider: { name: 'flaky', config: {} } },
  );
  return kc;
}

function createTriggerAuthentication(name: string) {
  standIn.store.create('triggerauthentications', 'default', {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name },
    spec: {
      podIdentity: {
        provider: 'aws',
        roleArn: 'arn:aws:iam::222222222222:role/keda/r',
      },
    },
  });
}

beforeEach(async () => {
  credentialsFail = false;
  standIn = await startKubernetesStandIn({ port: 0, tokens: [TOKEN] });
  proxy = await startCountingProxy(standIn.url);
  collection = new WatchedCollection(
    kubeConfig(proxy.url),
    { group: 'keda.sh', version: 'v1alpha1', plural: 'triggerauthentications' },
    mockServices.logger.mock(),
    { initialMs: 20, maxMs: 200 },
  );
});

afterEach(async () => {
  await collection.stop();
  await proxy.close();
  await standIn.close();
});

describe('WatchedCollection', () => {
  it('lists, then follows adds, updates and deletes through the watch', async () => {
    createTriggerAuthentication('before-start');
    const changes: string[] = [];
    collection.onChange((obj, change) =>
      changes.push(`${change}:${obj.metadata?.name}`),
    );
    collection.start();
    await eventually(() =>
      expect(collection.getState()).toMatchObject({
        synced: true,
        stale: false,
      }),
    );
    expect(collection.list().map(o => o.metadata?.name)).toEqual([
      'before-start',
    ]);

    createTriggerAuthentication('after-start');
    standIn.store.patch(
      'triggerauthentications',
      'default',
      'before-start',
      { metadata: { labels: { a: 'b' } } },
      'merge',
    );
    standIn.store.delete('triggerauthentications', 'default', 'after-start');
    await eventually(() =>
      expect(changes).toEqual([
        'add:before-start',
        'add:after-start',
        'update:before-start',
        'delete:after-start',
      ]),
    );
    expect(collection.get('before-start', 'default')?.metadata?.labels).toEqual(
      { a: 'b' },
    );
  });

  it('reports credentials that fail when a watch is re-established as stale (not a silent stop), and recovers', async () => {
    collection.start();
    await eventually(() =>
      expect(collection.getState()).toMatchObject({
        synced: true,
        stale: false,
      }),
    );

    // The watch must be connected first, or it would simply connect later
    // with the old credentials.
    await eventually(() =>
      expect(proxy.requests.some(r => r.watch)).toBe(true),
    );
    credentialsFail = true;
    // The server ends the watch normally; client-node re-watches at once.
    proxy.endWatches();
    await eventually(() =>
      expect(collection.getState()).toMatchObject({
        stale: true,
        error: expect.stringContaining('cannot mint an EKS token'),
      }),
    );

    createTriggerAuthentication('while-down');
    credentialsFail = false;
    await eventually(() => {
      expect(collection.getState()).toMatchObject({
        stale: false,
        error: undefined,
      });
      expect(collection.get('while-down', 'default')).toBeDefined();
    });
  });

  it('trims every cached object with the given function', async () => {
    await collection.stop();
    collection = new WatchedCollection(
      kubeConfig(proxy.url),
      {
        group: 'keda.sh',
        version: 'v1alpha1',
        plural: 'triggerauthentications',
      },
      mockServices.logger.mock(),
      { initialMs: 20, maxMs: 200 },
      obj => {
        delete (obj as any).spec;
      },
    );
    createTriggerAuthentication('listed');
    collection.start();
    await eventually(() => expect(collection.getState().synced).toBe(true));
    createTriggerAuthentication('watched');
    await eventually(() =>
      expect(collection.get('watched', 'default')).toBeDefined(),
    );
    expect(collection.list().map(o => Object.keys(o).sort())).toEqual([
      ['apiVersion', 'kind', 'metadata'],
      ['apiVersion', 'kind', 'metadata'],
    ]);
  });

  it("drops kubectl's last-applied copy of the object, keeping other annotations", async () => {
    standIn.store.create('triggerauthentications', 'default', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: {
        name: 'applied',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}',
          'keda.backstage.io/request-id': 'r-1',
        },
      },
      spec: { podIdentity: { provider: 'aws' } },
    });
    collection.start();
    await eventually(() =>
      expect(collection.get('applied', 'default')).toBeDefined(),
    );
    expect(collection.get('applied', 'default')?.metadata?.annotations).toEqual(
      { 'keda.backstage.io/request-id': 'r-1' },
    );
  });

  it('detects a watch that went silent (half-open connection) after the watch timeout and reconnects', async () => {
    await collection.stop();
    collection = new WatchedCollection(
      kubeConfig(proxy.url),
      {
        group: 'keda.sh',
        version: 'v1alpha1',
        plural: 'triggerauthentications',
      },
      mockServices.logger.mock(),
      { initialMs: 20, maxMs: 200 },
      undefined,
      { timeoutSeconds: 1, graceMs: 500 },
    );
    collection.start();
    // Freeze only once the watch's response is flowing through the proxy.
    await eventually(() => expect(proxy.freezeWatches()).toBe(1));
    createTriggerAuthentication('while-silent');
    // The frozen watch never delivers it; only a new watch (after the
    // client gave up on the silent one) or a re-list can.
    await eventually(() =>
      expect(collection.get('while-silent', 'default')).toBeDefined(),
    );
    expect(proxy.requests.filter(r => r.watch).length).toBeGreaterThan(1);
    expect(collection.getState()).toMatchObject({ synced: true });
  });

  it('asks the server to end each watch and follows changes across those ends', async () => {
    await collection.stop();
    collection = new WatchedCollection(
      kubeConfig(proxy.url),
      {
        group: 'keda.sh',
        version: 'v1alpha1',
        plural: 'triggerauthentications',
      },
      mockServices.logger.mock(),
      { initialMs: 20, maxMs: 200 },
      undefined,
      { timeoutSeconds: 1, graceMs: 5_000 },
    );
    collection.start();
    // Two server-side ends later, a new object still arrives, without a re-list.
    await eventually(() =>
      expect(proxy.requests.filter(r => r.watch).length).toBeGreaterThanOrEqual(
        3,
      ),
    );
    createTriggerAuthentication('after-two-ends');
    await eventually(() =>
      expect(collection.get('after-two-ends', 'default')).toBeDefined(),
    );
    expect(proxy.requests.filter(r => !r.watch).length).toBe(1);
    expect(collection.getState()).toMatchObject({ synced: true, stale: false });
  });

  it('marks a resource the server does not serve', async () => {
    const missing = new WatchedCollection(
      kubeConfig(proxy.url),
      {
        group: 'apps',
        version: 'v1',
        plural: 'statefulsets',
        namespace: 'default',
      },
      mockServices.logger.mock(),
      { initialMs: 20, maxMs: 200 },
    );
    try {
      missing.start();
      await eventually(() =>
        expect(missing.getState()).toMatchObject({
          notServed: true,
          synced: false,
        }),
      );
    } finally {
      await missing.stop();
    }
  });
});

describe('WatchedCollection against API server outages (the stand-in’s /_sandbox/outages)', () => {
  let direct: WatchedCollection<KubernetesObject>;

  async function outage(body: unknown) {
    const res = await fetch(`${standIn.url}/_sandbox/outages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  }

  async function startDirect(
    timeouts: Partial<WatchTimeoutOptions>,
  ): Promise<void> {
    // Bookmarks often, so a healthy watch is never silent for idleMs.
    await standIn.close();
    standIn = await startKubernetesStandIn({
      port: 0,
      tokens: [TOKEN],
      bookmarkIntervalMs: 100,
    });
    direct = new WatchedCollection(
      kubeConfig(standIn.url),
      {
        group: 'keda.sh',
        version: 'v1alpha1',
        plural: 'triggerauthentications',
      },
      mockServices.logger.mock(),
      { initialMs: 20, maxMs: 200 },
      undefined,
      timeouts,
    );
    createTriggerAuthentication('before');
    direct.start();
    await eventually(() =>
      expect(direct.getState()).toMatchObject({ synced: true, stale: false }),
    );
    await eventually(() => expect(standIn.outages().open.watches).toBe(1));
  }

  afterEach(async () => {
    await direct?.stop();
  });

  it.each([false, true])(
    'a server that accepts and never answers (half-open, headers: %s) turns it stale within the timeouts, and it catches up after',
    async headers => {
      await startDirect({ idleMs: 500, requestTimeoutMs: 500 });
      await outage({ outage: 'half-open', durationMs: 4_000, headers });
      createTriggerAuthentication('while-silent');
      // The silent watch is given up and the re-list that checks the
      // server times out: stale, not a quiet watch forever.
      await eventually(
        () =>
          expect(direct.getState()).toMatchObject({
            stale: true,
            error: expect.any(String),
          }),
        // While the outage lasts.
        3_800,
      );
      expect(direct.get('while-silent', 'default')).toBeUndefined();
      expect(direct.list().map(o => o.metadata?.name)).toEqual(['before']);
      expect(direct.metrics()).toMatchObject({ silentWatches: 1 });
      await eventually(() => {
        expect(direct.getState()).toMatchObject({ stale: false });
        expect(direct.get('while-silent', 'default')).toBeDefined();
      });
      // The held requests were given up by the client, nothing left open.
      await eventually(() =>
        expect(standIn.outages().open).toMatchObject({ silent: 0, watches: 1 }),
      );
      expect(direct.metrics()).toMatchObject({ openWatches: 1 });
    },
  );

  it("moves lastSyncTime with the watch's events and bookmarks, without re-listing", async () => {
    await startDirect({});
    const listed = Date.parse(String(direct.getState().lastSyncTime));
    // Bookmarks every 100 ms: a quiet, healthy watch stays current.
    await eventually(() =>
      expect(
        Date.parse(String(direct.getState().lastSyncTime)),
      ).toBeGreaterThan(listed + 150),
    );
    createTriggerAuthentication('later');
    await eventually(() =>
      expect(direct.get('later', 'default')).toBeDefined(),
    );
    expect(direct.metrics().lists).toBe(1);
  });

  it('re-lists on 410 Gone at a resume: what was deleted meanwhile goes, what was created comes', async () => {
    await startDirect({});
    createTriggerAuthentication('to-delete');
    await eventually(() =>
      expect(direct.get('to-delete', 'default')).toBeDefined(),
    );
    const lists = direct.metrics().lists;
    await outage({ outage: 'drop' });
    standIn.store.delete('triggerauthentications', 'default', 'to-delete');
    createTriggerAuthentication('created');
    await outage({ outage: 'gone' });
    await eventually(() => {
      expect(
        direct
          .list()
          .map(o => o.metadata?.name)
          .sort(),
      ).toEqual(['before', 'created']);
      expect(direct.getState()).toMatchObject({ stale: false });
    });
    expect(standIn.outages().counters.goneAnswered).toBeGreaterThanOrEqual(1);
    expect(direct.metrics().lists).toBeGreaterThan(lists);
  });

  it('stop() also ends a watch that was still waiting for its response (nothing keeps watching after stop)', async () => {
    await startDirect({});
    // A proxy that holds watch requests back for a while before passing them on.
    let holdMs = 0;
    const target = new URL(standIn.url);
    const slow = http.createServer((req, res) => {
      const forward = () => {
        const upstream = http.request(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          response => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            res.flushHeaders();
            response.pipe(res);
            // A cut upstream is a cut downstream.
            response.on('close', () => {
              if (!response.complete) res.destroy();
            });
          },
        );
        upstream.on('error', () => res.destroy());
        res.on('close', () => upstream.destroy());
        req.pipe(upstream);
      };
      if (req.url?.includes('watch=true') && holdMs)
        setTimeout(forward, holdMs);
      else forward();
    });
    await new Promise<void>(r => slow.listen(0, '127.0.0.1', r));
    try {
      await direct.stop();
      await eventually(() => expect(standIn.outages().open.watches).toBe(0));
      direct = new WatchedCollection(
        kubeConfig(`http://127.0.0.1:${(slow.address() as AddressInfo).port}`),
        {
          group: 'keda.sh',
          version: 'v1alpha1',
          plural: 'triggerauthentications',
        },
        mockServices.logger.mock(),
        { initialMs: 20, maxMs: 200 },
      );
      direct.start();
      await eventually(() => expect(standIn.outages().open.watches).toBe(1));
      holdMs = 1_000;
      await outage({ outage: 'drop' });
      // The reconnecting watch is held at the proxy: stop now.
      await eventually(() => expect(direct.metrics().watches).toBe(2));
      await direct.stop();
      // Once its response arrives, the stopped collection gives it up.
      const watchesSeen =
        standIn.outages().counters.watches.triggerauthentications;
      await eventually(() =>
        expect(
          standIn.outages().counters.watches.triggerauthentications,
        ).toBeGreaterThan(watchesSeen),
      );
      await eventually(() => {
        expect(standIn.outages().open.watches).toBe(0);
        expect(direct.metrics().openWatches).toBe(0);
      });
    } finally {
      slow.closeAllConnections();
      await new Promise(r => slow.close(r));
    }
  });

  it('keeps the reconnect backoff capped so a recovery fits in 5 s of the server’s return (#16)', () => {
    // At most maxMs until the next attempt once the server is back, plus
    // the list and the watch: the cap must leave room for both.
    expect(DEFAULT_BACKOFF.maxMs).toBeLessThanOrEqual(3_000);
  });

  it('reconnects after the server was down and catches up', async () => {
    await startDirect({});
    await outage({ outage: 'down', durationMs: 1_000 });
    createTriggerAuthentication('while-down');
    await eventually(() =>
      expect(direct.getState()).toMatchObject({ stale: true }),
    );
    await eventually(() => {
      expect(direct.getState()).toMatchObject({ stale: false });
      expect(direct.get('while-down', 'default')).toBeDefined();
    });
    expect(direct.metrics()).toMatchObject({
      openWatches: 1,
      retryPending: false,
    });
  });
});
