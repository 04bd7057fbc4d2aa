import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApplyError,
  ManifestApplier,
  ObjectReference,
  TRACKING_ANNOTATION,
} from './applier';
import { GitOpsLoop, MergeEvent } from './gitOpsLoop';
import { KubernetesManifest, objectKey } from './manifests';
import { RepositoryReader } from './repositoryReader';

/** Revisions are plain names here; the loop treats them as opaque. */
class FakeRepository implements RepositoryReader {
  revisions = new Map<string, Record<string, string>>();
  head = '';
  reads: string[] = [];

  commit(revision: string, files: Record<string, string>) {
    this.revisions.set(revision, files);
    this.head = revision;
  }
  async defaultBranch() {
    return 'main';
  }
  async branchHead() {
    return this.head;
  }
  async snapshot(_owner: string, _repo: string, revision: string) {
    this.reads.push(revision);
    const files = this.revisions.get(revision);
    if (!files) throw new Error(`No commit found for ref '${revision}'`);
    return new Map(Object.entries(files));
  }
}

/** A cluster as a map; rejects objects whose name starts with "invalid". */
class FakeCluster implements ManifestApplier {
  objects = new Map<string, KubernetesManifest>();
  calls: string[] = [];

  async apply(object: KubernetesManifest, trackingId: string) {
    const key = objectKey(object);
    this.calls.push(`apply ${key}`);
    if (object.metadata.name.startsWith('invalid')) {
      throw new ApplyError(
        `admission webhook "vscaledobject.kb.io" denied the request: MinReplicaCount=5 must be less than MaxReplicaCount=2`,
        422,
        'Invalid',
      );
    }
    const existing = this.objects.get(key);
    const stored = {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: {
          ...object.metadata.annotations,
          [TRACKING_ANNOTATION]: trackingId,
        },
      },
    };
    this.objects.set(key, stored);
    if (!existing) return 'created' as const;
    return JSON.stringify(existing) === JSON.stringify(stored)
      ? ('unchanged' as const)
      : ('configured' as const);
  }

  async delete(ref: ObjectReference, trackingId: string) {
    const key = objectKey(ref);
    this.calls.push(`delete ${key}`);
    const live = this.objects.get(key);
    if (!live) return 'absent' as const;
    if (live.metadata.annotations?.[TRACKING_ANNOTATION] !== trackingId)
      return 'not-owned' as const;
    this.objects.delete(key);
    return 'deleted' as const;
  }
}

const configMap = (name: string, data = 'v1') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: ${data}\n`;
const scaledObject = (name: string) =>
  `apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: ${name}\n  namespace: shop\nspec:\n  scaleTargetRef: { name: orders }\n`;
const deployment = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: shop\n`;
const triggerAuthentication = (name: string) =>
  `apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: ${name}\n  namespace: shop\n`;

const mergeEvent = (overrides: Partial<MergeEvent> = {}): MergeEvent => ({
  owner: 'platform',
  repo: 'gitops',
  pullNumber: 1,
  baseRef: 'main',
  defaultBranch: 'main',
  mergeCommitSha: 'r1',
  mergedBy: 'alice',
  ...overrides,
});

describe('GitOpsLoop', () => {
  let repository: FakeRepository;
  let cluster: FakeCluster;
  let loop: GitOpsLoop;

  beforeEach(() => {
    repository = new FakeRepository();
    cluster = new FakeCluster();
    loop = new GitOpsLoop({
      applications: [
        {
          name: 'dev',
          owner: 'platform',
          repo: 'gitops',
          paths: ['clusters/dev'],
          destinationNamespace: 'apps',
        },
      ],
      github: { reader: repository },
      kubernetes: { applier: cluster },
      logger: { info: () => {}, warn: () => {} },
    });
  });

  it('applies the merged revision in dependency order and defaults the namespace', async () => {
    repository.commit('r1', {
      'clusters/dev/orders/kustomization.yaml':
        'resources: [so.yaml, ta.yaml, deploy.yaml, cm.yaml]\n',
      'clusters/dev/orders/so.yaml': scaledObject('orders'),
      'clusters/dev/orders/ta.yaml': triggerAuthentication('orders-aws'),
      'clusters/dev/orders/deploy.yaml': deployment('orders'),
      'clusters/dev/orders/cm.yaml': configMap('settings'),
    });
    const [result] = await loop.handleMerge(mergeEvent());
    expect(result).toMatchObject({
      application: 'dev',
      revision: 'r1',
      branch: 'main',
      phase: 'Succeeded',
      errors: [],
      trigger: { kind: 'merge', pullNumber: 1, mergedBy: 'alice' },
    });
    expect(cluster.calls).toEqual([
      'apply /ConfigMap:apps/settings',
      'apply apps/Deployment:shop/orders',
      'apply keda.sh/TriggerAuthentication:shop/orders-aws',
      'apply keda.sh/ScaledObject:shop/orders',
    ]);
    expect(result.resources.map(r => r.action)).toEqual([
      'created',
      'created',
      'created',
      'created',
    ]);
    expect(loop.status('dev').managed).toHaveLength(4);
  });

  it('reports configured and unchanged objects on later syncs', async () => {
    repository.commit('r1', {
      'clusters/dev/a.yaml': configMap('a'),
      'clusters/dev/b.yaml': configMap('b'),
    });
    await loop.sync('dev');
    repository.commit('r2', {
      'clusters/dev/a.yaml': configMap('a', 'v2'),
      'clusters/dev/b.yaml': configMap('b'),
    });
    const result = await loop.sync('dev');
    expect(result.revision).toBe('r2');
    expect(result.resources.map(r => [r.name, r.action])).toEqual([
      ['a', 'configured'],
      ['b', 'unchanged'],
    ]);
  });

  it('prunes objects that git no longer declares, and only those it applied', async () => {
    repository.commit('r1', {
      'clusters/dev/a.yaml': configMap('a'),
      'clusters/dev/b.yaml': configMap('b'),
    });
    await loop.sync('dev');
    // Someone else took over "b" (different tracking id): not ours to delete.
    const b = cluster.objects.get('/ConfigMap:apps/b')!;
    b.metadata.annotations![TRACKING_ANNOTATION] =
      'another-app:/ConfigMap:apps/b';
    repository.commit('r2', {});
    const result = await loop.sync('dev');
    expect(result.phase).toBe('Succeeded');
    expect(result.resources.map(r => [r.name, r.action])).toEqual([
      ['b', 'prune-skipped'],
      ['a', 'pruned'],
    ]);
    expect([...cluster.objects.keys()]).toEqual(['/ConfigMap:apps/b']);
    expect(loop.status('dev').managed).toEqual([]);
  });

  it('records what the API server rejected, applies the rest and keeps tracking earlier versions', async () => {
    repository.commit('r1', {
      'clusters/dev/ok.yaml': configMap('ok'),
      'clusters/dev/so.yaml': scaledObject('invalid-orders'),
    });
    const [result] = await loop.handleMerge(mergeEvent());
    expect(result.phase).toBe('Failed');
    expect(result.errors).toEqual([
      'clusters/dev/so.yaml: ScaledObject shop/invalid-orders was rejected (HTTP 422): admission webhook "vscaledobject.kb.io" denied the request: MinReplicaCount=5 must be less than MaxReplicaCount=2',
    ]);
    expect(
      result.resources.find(r => r.name === 'invalid-orders'),
    ).toMatchObject({ action: 'failed', source: 'clusters/dev/so.yaml' });
    expect(cluster.objects.has('/ConfigMap:apps/ok')).toBe(true);
    expect(loop.status('dev').lastSync).toBe(result);
    expect(loop.status('dev').managed.map(m => m.key)).toEqual([
      '/ConfigMap:apps/ok',
    ]);
  });

  it('neither applies nor prunes when the manifests do not render', async () => {
    repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
    await loop.sync('dev');
    cluster.calls = [];
    repository.commit('r2', {
      'clusters/dev/kustomization.yaml': 'resources: [missing.yaml]\n',
    });
    const result = await loop.sync('dev');
    expect(result.phase).toBe('Failed');
    expect(result.errors).toEqual([
      "clusters/dev/kustomization.yaml: resource 'missing.yaml' does not exist at clusters/dev/missing.yaml",
    ]);
    expect(cluster.calls).toEqual([]);
    expect(loop.status('dev').managed.map(m => m.key)).toEqual([
      '/ConfigMap:apps/a',
    ]);
  });

  it('records a repository read failure as a sync error', async () => {
    const result = await loop.sync('dev', { revision: 'does-not-exist' });
    expect(result.phase).toBe('Failed');
    expect(result.errors[0]).toBe(
      "Could not read platform/gitops@does-not-exist: No commit found for ref 'does-not-exist'",
    );
  });

  it('ignores merges into other repositories and other branches', async () => {
    repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
    expect(await loop.handleMerge(mergeEvent({ repo: 'other' }))).toEqual([]);
    expect(await loop.handleMerge(mergeEvent({ baseRef: 'feature' }))).toEqual(
      [],
    );
    expect(repository.reads).toEqual([]);
  });

  it('runs syncs of one application one after another', async () => {
    repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
    repository.commit('r2', {});
    const [first, second] = await Promise.all([
      loop.sync('dev', { revision: 'r1' }),
      loop.sync('dev', { revision: 'r2' }),
    ]);
    expect(first.resources.map(r => r.action)).toEqual(['created']);
    // The second sync saw what the first applied, so it prunes it.
    expect(second.resources.map(r => r.action)).toEqual(['pruned']);
    expect(loop.status('dev').history.map(h => h.revision)).toEqual([
      'r2',
      'r1',
    ]);
  });

  it('keeps history and managed objects across restarts with a state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitops-state-'));
    try {
      const options = {
        applications: [
          {
            name: 'dev',
            owner: 'platform',
            repo: 'gitops',
            paths: ['clusters/dev'],
          },
        ],
        github: { reader: repository },
        kubernetes: { applier: cluster },
        stateFile: join(dir, 'gitops.json'),
        logger: { info: () => {}, warn: () => {} },
      };
      repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
      await new GitOpsLoop(options).sync('dev');
      repository.commit('r2', {});
      const restarted = new GitOpsLoop(options);
      expect(restarted.status('dev').lastSync?.revision).toBe('r1');
      const result = await restarted.sync('dev');
      expect(result.resources.map(r => [r.name, r.action])).toEqual([
        ['a', 'pruned'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refreshes applications whose branch head moved, once per head', async () => {
    repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
    const first = await loop.refresh();
    expect(first.map(r => [r.revision, r.trigger.kind])).toEqual([
      ['r1', 'refresh'],
    ]);
    expect(await loop.refresh()).toEqual([]);
    repository.commit('r2', { 'clusters/dev/a.yaml': configMap('a', 'v2') });
    const [second] = await loop.refresh();
    expect(second.resources.map(r => r.action)).toEqual(['configured']);
    expect(repository.reads).toEqual(['r1', 'r2']);
  });

  it('runs one refresh at a time', async () => {
    repository.commit('r1', { 'clusters/dev/a.yaml': configMap('a') });
    const [a, b] = await Promise.all([loop.refresh(), loop.refresh()]);
    expect(a).toBe(b);
    expect(repository.reads).toEqual(['r1']);
  });

  it('rejects configuration mistakes with the fix', () => {
    const base = {
      github: { reader: repository },
      kubernetes: { applier: cluster },
    };
    expect(
      () =>
        new GitOpsLoop({
          ...base,
          applications: [{ name: 'a', owner: 'o', repo: 'r', paths: [] }],
        }),
    ).toThrow("GitOps application 'a' has no paths; set paths");
    expect(
      () =>
        new GitOpsLoop({
          ...base,
          applications: [
            { name: 'a', owner: 'o', repo: 'r', paths: ['x'] },
            { name: 'a', owner: 'o', repo: 'r', paths: ['y'] },
          ],
        }),
    ).toThrow("GitOps application 'a' is configured twice");
    expect(() => loop.status('nope')).toThrow(
      "No GitOps application named 'nope'; configured: dev",
    );
  });
});
