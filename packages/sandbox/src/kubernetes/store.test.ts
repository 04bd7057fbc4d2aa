import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILTIN_RESOURCES, ResourceRegistry } from './resources';
import { KubernetesObjectStore, WatchEvent } from './store';

function newStore() {
  return new KubernetesObjectStore({
    registry: new ResourceRegistry(BUILTIN_RESOURCES),
    initialNamespaces: ['default', 'payments'],
  });
}

const deployment = (name: string, replicas = 1) => ({
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'x' }] },
    },
  },
});

describe('KubernetesObjectStore', () => {
  it('bumps generation on spec changes only, resourceVersion on every change', () => {
    const store = newStore();
    const created = store.create(
      'deployments.apps',
      'payments',
      deployment('orders'),
    );
    const labelled = store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { metadata: { labels: { team: 'a' } } },
      'merge',
    );
    expect(labelled.metadata!.generation).toBe(1);
    expect(Number(labelled.metadata!.resourceVersion)).toBeGreaterThan(
      Number(created.metadata!.resourceVersion),
    );
    const scaled = store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { replicas: 4 } },
      'merge',
    );
    expect(scaled.metadata!.generation).toBe(2);
    expect(scaled.status).toMatchObject({
      replicas: 4,
      readyReplicas: 4,
      observedGeneration: 2,
    });
    const same = store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { replicas: 4 } },
      'merge',
    );
    expect(same.metadata!.resourceVersion).toBe(
      scaled.metadata!.resourceVersion,
    );
  });

  it('changes only status through the status subresource and ignores status on the main resource', () => {
    const store = newStore();
    const hpa = store.create(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      {
        metadata: { name: 'h' },
        spec: {
          maxReplicas: 3,
          scaleTargetRef: { kind: 'Deployment', name: 'orders' },
        },
      },
    );
    store.update(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'h',
      {
        ...hpa,
        spec: { ...hpa.spec, maxReplicas: 9 },
        status: { currentReplicas: 2 },
      },
      { subresource: 'status' },
    );
    let read = store.get(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'h',
    );
    expect(read.spec.maxReplicas).toBe(3);
    expect(read.status).toEqual({ currentReplicas: 2 });
    store.update('horizontalpodautoscalers.autoscaling', 'payments', 'h', {
      ...read,
      status: { currentReplicas: 7 },
    });
    read = store.get('horizontalpodautoscalers.autoscaling', 'payments', 'h');
    expect(read.status).toEqual({ currentReplicas: 2 });
  });

  it('does nothing on dryRun but still validates', () => {
    const store = newStore();
    const result = store.create(
      'deployments.apps',
      'payments',
      deployment('orders'),
      { dryRun: true },
    );
    expect(result.metadata!.uid).toBeDefined();
    expect(
      store.find('deployments.apps', 'payments', 'orders'),
    ).toBeUndefined();
    expect(() =>
      store.create('deployments.apps', 'payments', deployment('Not_Valid'), {
        dryRun: true,
      }),
    ).toThrow(expect.objectContaining({ code: 422, reason: 'Invalid' }));
  });

  it('garbage-collects dependents and the contents of a deleted namespace', () => {
    const store = newStore();
    const owner = store.create('configmaps', 'payments', {
      metadata: { name: 'owner' },
    });
    store.create('configmaps', 'payments', {
      metadata: {
        name: 'dependent',
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'owner',
            uid: owner.metadata!.uid!,
          },
        ],
      },
    });
    store.delete('configmaps', 'payments', 'owner');
    expect(store.find('configmaps', 'payments', 'dependent')).toBeUndefined();

    store.create('deployments.apps', 'payments', deployment('orders'));
    store.delete('namespaces', undefined, 'payments');
    expect(store.list('deployments.apps').items).toEqual([]);
  });

  it('sends DELETED/ADDED when a change moves an object out of/into a watched selector', () => {
    const store = newStore();
    const seen: string[] = [];
    const handle = store.watch(
      'configmaps',
      { labelSelector: 'watched=yes' },
      (e: WatchEvent) => seen.push(`${e.type}:${e.object.metadata!.name}`),
    );
    store.create('configmaps', 'payments', {
      metadata: { name: 'a', labels: { watched: 'yes' } },
    });
    store.patch(
      'configmaps',
      'payments',
      'a',
      { metadata: { labels: { watched: 'no' } } },
      'merge',
    );
    store.patch(
      'configmaps',
      'payments',
      'a',
      { metadata: { labels: { watched: 'yes' } } },
      'merge',
    );
    store.patch('configmaps', 'payments', 'a', { data: { k: 'v' } }, 'merge');
    handle.stop();
    store.delete('configmaps', 'payments', 'a');
    expect(seen).toEqual(['ADDED:a', 'DELETED:a', 'ADDED:a', 'MODIFIED:a']);
  });

  it('answers 410 Gone for a watch from a compacted revision', () => {
    const store = newStore();
    const { resourceVersion } = store.list('configmaps');
    store.create('configmaps', 'payments', { metadata: { name: 'a' } });
    store.compact();
    expect(() =>
      store.watch('configmaps', { resourceVersion }, () => {}),
    ).toThrow(expect.objectContaining({ code: 410 }));
  });

  it('requires the namespace to exist and names it in the 404', () => {
    const store = newStore();
    expect(() =>
      store.create('configmaps', 'nowhere', { metadata: { name: 'a' } }),
    ).toThrow('namespaces "nowhere" not found');
  });

  it('gives a Deployment a ReplicaSet and Running pods that follow its replicas and template', () => {
    const store = newStore();
    store.create('deployments.apps', 'payments', deployment('orders', 3));
    const podsOf = () =>
      store.list('pods', { namespace: 'payments', labelSelector: 'app=orders' })
        .items;
    const replicaSets = () =>
      store.list('replicasets.apps', { namespace: 'payments' }).items;
    expect(replicaSets()).toHaveLength(1);
    expect(podsOf()).toHaveLength(3);
    expect(podsOf()[0]).toMatchObject({
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'app', ready: true }],
      },
      metadata: {
        ownerReferences: [
          { kind: 'ReplicaSet', name: replicaSets()[0].metadata!.name },
        ],
      },
    });

    store.update(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { replicas: 1 } },
      { subresource: 'scale' },
    );
    expect(podsOf()).toHaveLength(1);
    expect(replicaSets()[0].status).toMatchObject({
      replicas: 1,
      readyReplicas: 1,
    });

    const before = replicaSets()[0].metadata!.name;
    store.patch(
      'deployments.apps',
      'payments',
      'orders',
      {
        spec: {
          template: { spec: { containers: [{ name: 'app', image: 'y' }] } },
        },
      },
      'strategic',
    );
    expect(replicaSets().map(rs => rs.metadata!.name)).not.toContain(before);
    expect(podsOf().map(p => p.spec.containers[0].image)).toEqual(['y']);

    store.delete('deployments.apps', 'payments', 'orders');
    expect(replicaSets()).toEqual([]);
    expect(podsOf()).toEqual([]);
  });

  describe('work that does not grow with the number of objects', () => {
    /** Objects visited to delete one Deployment among `count`. */
    function scannedToDeleteOneOf(count: number) {
      const store = newStore();
      for (let i = 0; i < count; i++) {
        store.create('deployments.apps', 'payments', deployment(`app-${i}`));
      }
      const before = store.workCounters().objectsScanned;
      store.delete('deployments.apps', 'payments', 'app-3');
      const scanned = store.workCounters().objectsScanned - before;
      // The ReplicaSet and its pod went with it; the others stayed.
      const left = (plural: string) =>
        store.list(plural, { namespace: 'payments' }).items.length;
      expect([left('replicasets.apps'), left('pods')]).toEqual([
        count - 1,
        count - 1,
      ]);
      return scanned;
    }

    it('deletes one of N Deployments (garbage-collecting its ReplicaSet and pod) through the owner index', () => {
      const few = scannedToDeleteOneOf(5);
      const many = scannedToDeleteOneOf(60);
      expect(many).toBe(few);
      // The ReplicaSet and the pod, as dependents: nothing else.
      expect(few).toBeLessThanOrEqual(4);
    });

    it('creates the Nth Deployment without scanning the others', () => {
      const scannedToCreate = (count: number) => {
        const store = newStore();
        for (let i = 0; i < count; i++) {
          store.create('deployments.apps', 'payments', deployment(`app-${i}`));
        }
        const before = store.workCounters().objectsScanned;
        store.create('deployments.apps', 'payments', deployment('last'));
        return store.workCounters().objectsScanned - before;
      };
      expect(scannedToCreate(60)).toBe(scannedToCreate(5));
    });

    it('lists one namespace without visiting the objects of others', () => {
      const store = newStore();
      store.create('namespaces', undefined, { metadata: { name: 'big' } });
      for (let i = 0; i < 50; i++) {
        store.create('configmaps', 'big', { metadata: { name: `c-${i}` } });
      }
      store.create('configmaps', 'payments', { metadata: { name: 'one' } });
      const before = store.workCounters().objectsScanned;
      const items = store.list('configmaps', { namespace: 'payments' }).items;
      expect(items.map(i => i.metadata!.name)).toEqual(['one']);
      expect(store.workCounters().objectsScanned - before).toBe(1);
    });
  });

  describe('persistence', () => {
    let dir: string;
    beforeEach(() => {
      jest.useFakeTimers();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-store-'));
    });
    afterEach(() => {
      jest.useRealTimers();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const persistedStore = (stateFile: string) =>
      new KubernetesObjectStore({
        registry: new ResourceRegistry(BUILTIN_RESOURCES),
        initialNamespaces: ['default'],
        stateFile,
        persistIntervalMs: 1000,
      });

    it('writes the state file at most once per interval under a burst of changes, and not at all without changes', () => {
      const stateFile = path.join(dir, 'cluster.json');
      const store = persistedStore(stateFile);
      jest.advanceTimersByTime(1000);
      const afterSeed = store.workCounters().stateWrites;
      expect(afterSeed).toBe(1);
      // 1,000 changes spread over three seconds (one every 3 ms).
      for (let i = 0; i < 1000; i++) {
        store.create('configmaps', 'default', { metadata: { name: `c-${i}` } });
        jest.advanceTimersByTime(3);
      }
      jest.advanceTimersByTime(1000);
      // One write per interval (the first soon after the quiet period).
      const writes = store.workCounters().stateWrites - afterSeed;
      expect(writes).toBeGreaterThanOrEqual(3);
      expect(writes).toBeLessThanOrEqual(4);
      const written = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
      expect(written.objects.configmaps).toHaveLength(1000);

      jest.advanceTimersByTime(60_000);
      store.flush();
      store.close();
      expect(store.workCounters().stateWrites).toBe(afterSeed + writes);
    });

    it('flushes pending changes at once and keeps them across a restart', () => {
      const stateFile = path.join(dir, 'cluster.json');
      const store = persistedStore(stateFile);
      store.create('configmaps', 'default', { metadata: { name: 'kept' } });
      store.flush();
      expect(fs.readdirSync(dir)).toEqual(['cluster.json']);
      const restored = persistedStore(stateFile);
      expect(restored.get('configmaps', 'default', 'kept')).toBeDefined();
      // Loaded state needs no rewrite.
      restored.close();
      expect(restored.workCounters().stateWrites).toBe(0);
    });
  });
});
