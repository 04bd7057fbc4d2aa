import * as k8s from '@kubernetes/client-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startKubernetesStandIn, KubernetesStandIn } from './server';

// Real servers and (for kubectl) child processes on a shared 2-core machine.
jest.setTimeout(30_000);

const TOKEN = 'sandbox-test-token';

function kubeConfigFor(url: string, token = TOKEN): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    // client-node 1.x refuses plain http unless skipTLSVerify is set.
    clusters: [{ name: 'sandbox', server: url, skipTLSVerify: true }],
    users: [{ name: 'sandbox', token }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox' }],
    currentContext: 'sandbox',
  });
  return kc;
}

function deployment(name: string, replicas = 1, labels = { app: name }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
    },
  };
}

/** Polls until `check` returns true or the deadline passes. */
async function eventually(check: () => boolean, deadlineMs = 5000) {
  const until = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > until)
      throw new Error('condition not met before deadline');
    await new Promise(r => setTimeout(r, 10));
  }
}

async function statusOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (e: any) {
    return {
      code: e.code,
      body: typeof e.body === 'string' ? JSON.parse(e.body) : e.body,
    };
  }
  throw new Error('expected the request to fail');
}

describe('Kubernetes API stand-in', () => {
  let standIn: KubernetesStandIn;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    standIn = await startKubernetesStandIn({
      port: 0,
      tokens: [TOKEN],
      readOnlyTokens: ['viewer-token'],
      namespaces: ['default', 'keda', 'payments'],
    });
    kc = kubeConfigFor(standIn.url);
  });
  afterAll(() => standIn.close());
  beforeEach(() => standIn.reset());

  describe('auth', () => {
    it('answers 401 with a Status for a missing or wrong bearer token', async () => {
      const attempts: Array<Record<string, string>> = [
        {},
        { Authorization: 'Bearer wrong' },
      ];
      for (const headers of attempts) {
        const res = await fetch(`${standIn.url}/api/v1/namespaces`, {
          headers,
        });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({
          kind: 'Status',
          reason: 'Unauthorized',
          code: 401,
        });
      }
    });

    it('lets a read-only token list but answers 403 Forbidden to its writes', async () => {
      const viewer = kubeConfigFor(standIn.url, 'viewer-token').makeApiClient(
        k8s.CoreV1Api,
      );
      await expect(viewer.listNamespace()).resolves.toBeDefined();
      const failure = await statusOf(
        viewer.createNamespace({ body: { metadata: { name: 'nope' } } }),
      );
      expect(failure.code).toBe(403);
      expect(failure.body.reason).toBe('Forbidden');
    });
  });

  describe('discovery', () => {
    it('serves /version, /api, /apis and the group resource lists', async () => {
      const headers = { Authorization: `Bearer ${TOKEN}` };
      const get = async (p: string) =>
        (await fetch(`${standIn.url}${p}`, { headers })).json();
      expect((await get('/version')).major).toBe('1');
      expect((await get('/api')).versions).toEqual(['v1']);
      const groups = (await get('/apis')).groups.map((g: any) => g.name);
      expect(groups).toEqual(
        expect.arrayContaining(['apps', 'autoscaling', 'keda.sh']),
      );
      const keda = await get('/apis/keda.sh/v1alpha1');
      expect(keda.resources.map((r: any) => r.name)).toEqual(
        expect.arrayContaining([
          'scaledobjects',
          'scaledobjects/status',
          'triggerauthentications',
          'clustertriggerauthentications',
        ]),
      );
      const apps = await get('/apis/apps/v1');
      expect(
        apps.resources.find((r: any) => r.name === 'deployments/scale'),
      ).toMatchObject({
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
      });
    });
  });

  describe('typed clients', () => {
    it('creates, reads, scales and deletes a Deployment through AppsV1Api', async () => {
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const created = await apps.createNamespacedDeployment({
        namespace: 'payments',
        body: deployment('orders', 2),
      });
      expect(created.metadata?.uid).toBeTruthy();
      expect(created.metadata?.generation).toBe(1);
      expect(created.status?.readyReplicas).toBe(2);

      const scale = await apps.patchNamespacedDeploymentScale(
        {
          name: 'orders',
          namespace: 'payments',
          body: { spec: { replicas: 5 } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      expect(scale.spec?.replicas).toBe(5);
      const read = await apps.readNamespacedDeployment({
        name: 'orders',
        namespace: 'payments',
      });
      expect(read.spec?.replicas).toBe(5);
      expect(read.status?.availableReplicas).toBe(5);
      expect(read.metadata?.generation).toBe(2);

      await apps.deleteNamespacedDeployment({
        name: 'orders',
        namespace: 'payments',
      });
      const failure = await statusOf(
        apps.readNamespacedDeployment({
          name: 'orders',
          namespace: 'payments',
        }),
      );
      expect(failure.code).toBe(404);
      expect(failure.body).toMatchObject({
        kind: 'Status',
        reason: 'NotFound',
        message: 'deployments.apps "orders" not found',
      });
    });

    it('rejects a stale resourceVersion on update with 409 Conflict', async () => {
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const created = await apps.createNamespacedDeployment({
        namespace: 'payments',
        body: deployment('orders'),
      });
      await apps.replaceNamespacedDeployment({
        name: 'orders',
        namespace: 'payments',
        body: { ...created, spec: { ...created.spec!, replicas: 3 } },
      });
      const failure = await statusOf(
        apps.replaceNamespacedDeployment({
          name: 'orders',
          namespace: 'payments',
          body: { ...created, spec: { ...created.spec!, replicas: 4 } },
        }),
      );
      expect(failure.code).toBe(409);
      expect(failure.body.reason).toBe('Conflict');
      expect(failure.body.message).toContain('the object has been modified');
    });

    it('answers 409 AlreadyExists and 404 for a missing namespace', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedServiceAccount({
        namespace: 'payments',
        body: { metadata: { name: 'orders' } },
      });
      const again = await statusOf(
        core.createNamespacedServiceAccount({
          namespace: 'payments',
          body: { metadata: { name: 'orders' } },
        }),
      );
      expect(again.body).toMatchObject({ code: 409, reason: 'AlreadyExists' });
      const missing = await statusOf(
        core.createNamespacedServiceAccount({
          namespace: 'nowhere',
          body: { metadata: { name: 'orders' } },
        }),
      );
      expect(missing.body).toMatchObject({
        code: 404,
        message: 'namespaces "nowhere" not found',
      });
    });

    it('filters lists by label selector forms and field selector', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const labels: Record<string, Record<string, string>> = {
        a: { tier: 'web', env: 'prod' },
        b: { tier: 'worker', env: 'prod' },
        c: { tier: 'web' },
      };
      for (const [name, l] of Object.entries(labels)) {
        await core.createNamespacedConfigMap({
          namespace: 'payments',
          body: { metadata: { name, labels: l } },
        });
      }
      const names = async (labelSelector?: string, fieldSelector?: string) =>
        (
          await core.listNamespacedConfigMap({
            namespace: 'payments',
            labelSelector,
            fieldSelector,
          })
        ).items.map(i => i.metadata?.name);
      expect(await names('tier=web')).toEqual(['a', 'c']);
      expect(await names('tier in (web,worker),env')).toEqual(['a', 'b']);
      expect(await names('tier notin (worker)')).toEqual(['a', 'c']);
      expect(await names('!env')).toEqual(['c']);
      expect(await names('env!=prod')).toEqual(['c']);
      expect(await names(undefined, 'metadata.name=b')).toEqual(['b']);
      expect(await names(undefined, 'metadata.namespace=default')).toEqual([]);
    });

    it('keeps status apart from spec through the /status subresource', async () => {
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.createNamespacedCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace: 'payments',
        plural: 'triggerauthentications',
        body: {
          apiVersion: 'keda.sh/v1alpha1',
          kind: 'TriggerAuthentication',
          metadata: { name: 'sqs' },
          spec: { podIdentity: { provider: 'aws' } },
          status: { scaledobjects: 'ignored-on-create' },
        },
      });
      const afterCreate: any = await custom.getNamespacedCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace: 'payments',
        plural: 'triggerauthentications',
        name: 'sqs',
      });
      expect(afterCreate.status).toBeUndefined();
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: 'keda.sh',
          version: 'v1alpha1',
          namespace: 'payments',
          plural: 'triggerauthentications',
          name: 'sqs',
          body: {
            status: { scaledobjects: 'orders' },
            spec: { podIdentity: { provider: 'none' } },
          },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      const afterStatus: any = await custom.getNamespacedCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace: 'payments',
        plural: 'triggerauthentications',
        name: 'sqs',
      });
      expect(afterStatus.status).toEqual({ scaledobjects: 'orders' });
      expect(afterStatus.spec.podIdentity.provider).toBe('aws');
      expect(afterStatus.metadata.generation).toBe(1);
    });
  });

  describe('KEDA custom resources', () => {
    const scaledObject = (
      name: string,
      target: string,
      extra: object = {},
    ) => ({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name, namespace: 'payments' },
      spec: {
        scaleTargetRef: { name: target },
        minReplicaCount: 0,
        maxReplicaCount: 5,
        triggers: [
          {
            type: 'aws-sqs-queue',
            authenticationRef: { name: 'sqs' },
            metadata: {
              queueURL:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
              queueLength: '5',
              awsRegion: 'eu-west-1',
            },
          },
        ],
        ...extra,
      },
    });

    it('validates ScaledObjects against the CRD schema (422 Invalid naming the field)', async () => {
      const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
      const bad = scaledObject('orders', 'orders') as any;
      delete bad.spec.triggers[0].type;
      bad.spec.maxReplicaCount = 'five';
      const failure = await statusOf(objects.create(bad));
      expect(failure.code).toBe(422);
      expect(failure.body.reason).toBe('Invalid');
      expect(failure.body.message).toContain(
        'ScaledObject.keda.sh "orders" is invalid',
      );
      const fields = failure.body.details.causes.map((c: any) => c.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'spec.triggers[0].type',
          'spec.maxReplicaCount',
        ]),
      );
    });

    it("applies KEDA's admission rules like its webhook", async () => {
      const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
      await objects.create(scaledObject('orders', 'orders'));
      const second = await statusOf(
        objects.create(scaledObject('orders-2', 'orders')),
      );
      expect(second.code).toBe(403);
      expect(second.body.message).toBe(
        `admission webhook "vscaledobject.kb.io" denied the request: the workload 'orders' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'orders'`,
      );
      const longName = 'x'.repeat(64);
      const tooLong = await statusOf(
        objects.create(scaledObject(longName, 'other')),
      );
      expect(tooLong.body.message).toContain(
        `is 64 characters long; must be no more than 63`,
      );
      const bounds = await statusOf(
        objects.create(scaledObject('bounds', 'third', { minReplicaCount: 6 })),
      );
      expect(bounds.body.message).toContain(
        'MinReplicaCount=6 must be less than MaxReplicaCount=5',
      );

      const ta = (podIdentity: object) => ({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'TriggerAuthentication',
        metadata: { name: 'sqs', namespace: 'payments' },
        spec: { podIdentity },
      });
      const externalId = await statusOf(
        objects.create(ta({ provider: 'aws', externalID: 'abc123' })),
      );
      expect(externalId.body.message).toContain(
        'externalID of PodIdentity requires roleArn to be set',
      );
      const workload = await statusOf(
        objects.create(
          ta({
            provider: 'aws',
            identityOwner: 'workload',
            roleArn: 'arn:aws:iam::222222222222:role/x',
          }),
        ),
      );
      expect(workload.body.message).toContain(
        "roleArn of PodIdentity can't be set if KEDA isn't identityOwner",
      );
    });

    it('reads, patches (merge, json, server-side apply) and deletes through KubernetesObjectApi', async () => {
      const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
      await objects.create(scaledObject('orders', 'orders'));
      await objects.patch(
        {
          ...scaledObject('orders', 'orders'),
          spec: { maxReplicaCount: 9 },
        } as any,
        undefined,
        undefined,
        undefined,
        undefined,
        k8s.PatchStrategy.MergePatch,
      );
      let read: any = await objects.read({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'orders', namespace: 'payments' },
      });
      expect(read.spec.maxReplicaCount).toBe(9);
      expect(read.spec.triggers).toHaveLength(1);
      expect(read.metadata.generation).toBe(2);

      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.patchNamespacedCustomObject(
        {
          group: 'keda.sh',
          version: 'v1alpha1',
          namespace: 'payments',
          plural: 'scaledobjects',
          name: 'orders',
          body: [{ op: 'replace', path: '/spec/minReplicaCount', value: 1 }],
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
      const applied = scaledObject('applied', 'applied-target', {
        pollingInterval: 10,
      });
      await objects.patch(
        applied as any,
        undefined,
        undefined,
        'gitops',
        true,
        k8s.PatchStrategy.ServerSideApply,
      );
      read = await objects.read({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'applied', namespace: 'payments' },
      });
      expect(read.spec.pollingInterval).toBe(10);
      const list = await custom.listNamespacedCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        namespace: 'payments',
        plural: 'scaledobjects',
      });
      expect(
        (list as any).items.map((i: any) => [
          i.metadata.name,
          i.spec.minReplicaCount,
        ]),
      ).toEqual([
        ['applied', 0],
        ['orders', 1],
      ]);
      await objects.delete({
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'orders', namespace: 'payments' },
      });
      expect(
        standIn.store.find('scaledobjects.keda.sh', 'payments', 'orders'),
      ).toBeUndefined();
    });
  });

  describe('watch and informers', () => {
    it('feeds an informer ADDED, MODIFIED and DELETED, and recovers after 410 Gone', async () => {
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      const seen: string[] = [];
      const informer = k8s.makeInformer(
        kc,
        '/apis/apps/v1/namespaces/payments/deployments',
        () => apps.listNamespacedDeployment({ namespace: 'payments' }),
      );
      informer.on('add', d =>
        seen.push(`add:${d.metadata?.name}:${d.spec?.replicas}`),
      );
      informer.on('update', d =>
        seen.push(`update:${d.metadata?.name}:${d.spec?.replicas}`),
      );
      informer.on('delete', d => seen.push(`delete:${d.metadata?.name}`));
      const errors: unknown[] = [];
      // stop() aborts the client's own request; that AbortError is not a failure.
      informer.on(
        'error',
        (e: any) => e?.name !== 'AbortError' && errors.push(e),
      );
      await informer.start();
      try {
        await apps.createNamespacedDeployment({
          namespace: 'payments',
          body: deployment('orders', 1),
        });
        await eventually(() => seen.includes('add:orders:1'));
        await apps.patchNamespacedDeploymentScale(
          {
            name: 'orders',
            namespace: 'payments',
            body: { spec: { replicas: 3 } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        await eventually(() => seen.includes('update:orders:3'));
        await apps.deleteNamespacedDeployment({
          name: 'orders',
          namespace: 'payments',
        });
        await eventually(() => seen.includes('delete:orders'));

        // Make the informer's resourceVersion too old: drop history, close
        // the stream, change things meanwhile. It must re-list on 410.
        await informer.stop();
        standIn.store.create(
          'deployments.apps',
          'payments',
          deployment('billing', 2),
        );
        standIn.store.compact();
        await informer.start();
        await eventually(() => seen.includes('add:billing:2'));
        expect(errors).toEqual([]);
      } finally {
        await informer.stop();
      }
    });

    it('streams Table rows for kubectl get -w', async () => {
      const { resourceVersion } = standIn.store.list('configmaps');
      standIn.store.create('configmaps', 'payments', {
        metadata: { name: 'watched' },
      });
      const res = await fetch(
        `${standIn.url}/api/v1/namespaces/payments/configmaps?watch=true&resourceVersion=${resourceVersion}&timeoutSeconds=1`,
        {
          headers: {
            Authorization: `Bearer ${TOKEN}`,
            Accept:
              'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
          },
        },
      );
      const [event] = (await res.text())
        .trim()
        .split('\n')
        .map(l => JSON.parse(l));
      expect(event).toMatchObject({
        type: 'ADDED',
        object: {
          kind: 'Table',
          apiVersion: 'meta.k8s.io/v1',
          rows: [
            {
              cells: ['watched', expect.any(String)],
              object: { kind: 'PartialObjectMetadata' },
            },
          ],
        },
      });
    });

    it('reports a too-old resourceVersion as an ERROR event with code 410', async () => {
      standIn.store.create('configmaps', 'payments', {
        metadata: { name: 'a' },
      });
      standIn.store.compact();
      const res = await fetch(
        `${standIn.url}/api/v1/namespaces/payments/configmaps?watch=true&resourceVersion=1`,
        { headers: { Authorization: `Bearer ${TOKEN}` } },
      );
      const lines = (await res.text())
        .trim()
        .split('\n')
        .map(l => JSON.parse(l));
      expect(lines).toEqual([
        {
          type: 'ERROR',
          object: expect.objectContaining({
            kind: 'Status',
            code: 410,
            reason: 'Expired',
          }),
        },
      ]);
    });

    it('resumes a watch from a resourceVersion, sends bookmarks and honours timeoutSeconds', async () => {
      const { resourceVersion } = standIn.store.list('configmaps');
      standIn.store.create('configmaps', 'payments', {
        metadata: { name: 'first', labels: { a: '1' } },
      });
      standIn.store.create('configmaps', 'payments', {
        metadata: { name: 'other', labels: { a: '2' } },
      });
      const res = await fetch(
        `${standIn.url}/api/v1/namespaces/payments/configmaps?watch=true&resourceVersion=${resourceVersion}&labelSelector=a%3D1&allowWatchBookmarks=true&timeoutSeconds=1`,
        { headers: { Authorization: `Bearer ${TOKEN}` } },
      );
      const events = (await res.text())
        .trim()
        .split('\n')
        .map(l => JSON.parse(l));
      expect(events[0]).toMatchObject({
        type: 'ADDED',
        object: { metadata: { name: 'first' } },
      });
      expect(events.filter(e => e.type === 'ADDED')).toHaveLength(1);
    });
  });

  describe('Kubernetes plugin object types', () => {
    it('serves statefulsets, jobs, ingresses … only with kubernetesPluginObjectTypes', async () => {
      const headers = { Authorization: `Bearer ${TOKEN}` };
      const statefulSets = '/apis/apps/v1/namespaces/default/statefulsets';
      expect(
        (await fetch(`${standIn.url}${statefulSets}`, { headers })).status,
      ).toBe(404);
      const wide = await startKubernetesStandIn({
        port: 0,
        tokens: [TOKEN],
        kubernetesPluginObjectTypes: true,
      });
      try {
        for (const p of [
          statefulSets,
          '/apis/batch/v1/namespaces/default/cronjobs',
          '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
          '/api/v1/namespaces/default/services',
        ]) {
          const res = await fetch(`${wide.url}${p}`, { headers });
          expect(res.status).toBe(200);
          expect((await res.json()).items).toEqual([]);
        }
      } finally {
        await wide.close();
      }
    });
  });

  describe('tls', () => {
    it('serves HTTPS with a self-signed certificate that client-node trusts as CA', async () => {
      const secure = await startKubernetesStandIn({
        port: 0,
        tokens: [TOKEN],
        tls: true,
      });
      try {
        expect(secure.url).toMatch(/^https:/);
        const secureKc = new k8s.KubeConfig();
        secureKc.loadFromOptions({
          clusters: [
            {
              name: 's',
              server: secure.url,
              caData: Buffer.from(secure.caCertificate!).toString('base64'),
            },
          ],
          users: [{ name: 's', token: TOKEN }],
          contexts: [{ name: 's', cluster: 's', user: 's' }],
          currentContext: 's',
        });
        const list = await secureKc
          .makeApiClient(k8s.CoreV1Api)
          .listNamespace();
        expect(list.items.length).toBeGreaterThan(0);
      } finally {
        await secure.close();
      }
    });
  });

  describe('request counter (/_sandbox/requests)', () => {
    const api = (method: string, urlPath: string, body?: unknown) =>
      fetch(`${standIn.url}${urlPath}`, {
        method,
        headers: {
          Authorization: `Bearer ${TOKEN}`,
          'Content-Type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('counts API requests by verb and resource, and resets on DELETE', async () => {
      const reset = await fetch(`${standIn.url}/_sandbox/requests`, {
        method: 'DELETE',
      });
      expect(await reset.json()).toMatchObject({ total: 0, byVerb: {} });
      const cms = '/api/v1/namespaces/default/configmaps';
      await api('POST', cms, { metadata: { name: 'a' } });
      await api('POST', cms, { metadata: { name: 'b' } });
      await api('GET', cms);
      await api('GET', `${cms}/a`);
      await api('PATCH', `${cms}/a`, { data: { x: '1' } });
      await api('PUT', `${cms}/b`, { metadata: { name: 'b' }, data: {} });
      await api('DELETE', `${cms}/a`);
      await api(
        'GET',
        '/apis/apps/v1/namespaces/default/deployments/none/scale',
      );
      // Discovery and admin requests are not API resource requests.
      await api('GET', '/api/v1');

      const res = await fetch(`${standIn.url}/_sandbox/requests`);
      const counts = await res.json();
      expect(counts).toEqual({
        since: expect.any(String),
        total: 8,
        byVerb: { create: 2, list: 1, get: 2, patch: 1, update: 1, delete: 1 },
        byResource: {
          configmaps: {
            create: 2,
            list: 1,
            get: 1,
            patch: 1,
            update: 1,
            delete: 1,
          },
          'deployments.apps/scale': { get: 1 },
        },
      });
      expect(standIn.requestCounts()).toEqual(counts);
      standIn.resetRequestCounts();
      expect(standIn.requestCounts().total).toBe(0);
    });
  });

  describe('persistence', () => {
    it('restores objects and the resourceVersion counter from the state file', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-state-'));
      const stateFile = path.join(dir, 'cluster.json');
      const first = await startKubernetesStandIn({
        port: 0,
        tokens: [TOKEN],
        stateFile,
      });
      const created = first.store.create(
        'deployments.apps',
        'default',
        deployment('orders', 4),
      );
      await first.close();
      const second = await startKubernetesStandIn({
        port: 0,
        tokens: [TOKEN],
        stateFile,
      });
      try {
        const restored = second.store.get(
          'deployments.apps',
          'default',
          'orders',
        );
        expect(restored.metadata?.uid).toBe(created.metadata?.uid);
        expect(restored.spec.replicas).toBe(4);
        const next = second.store.create('configmaps', 'default', {
          metadata: { name: 'x' },
        });
        expect(Number(next.metadata?.resourceVersion)).toBeGreaterThan(
          Number(created.metadata?.resourceVersion),
        );
      } finally {
        await second.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
