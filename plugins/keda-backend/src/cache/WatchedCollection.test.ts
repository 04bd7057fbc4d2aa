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
import { WatchedCollection } from './WatchedCollection';

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
