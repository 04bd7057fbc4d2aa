/*
 * The GitOps journey end to end over HTTP: pull requests on the GitHub
 * stand-in, merged through its REST API, applied by the loop to the
 * Kubernetes stand-in (with KEDA's CRDs and admission) through
 * @kubernetes/client-node, checked with an independent client-node reader.
 */
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { Octokit } from '@octokit/rest';
import { GitHubStandIn, startGitHubStandIn } from '../github';
import { KubernetesStandIn, startKubernetesStandIn } from '../kubernetes';
import { LAST_APPLIED_ANNOTATION, TRACKING_ANNOTATION } from './applier';
import { GitOpsLoop, createGitOpsLoop } from './gitOpsLoop';
import { serveGitOpsStatus } from './statusPage';

const TOKEN = 'gitops-test-token';
const OWNER = 'platform';
const REPO = 'gitops';
const DIR = 'clusters/sandbox/shop/orders-worker';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const files = {
  namespace: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n`,
  configMap: (queueUrl: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: orders-worker-settings\ndata:\n  QUEUE_URL: ${queueUrl}\n`,
  deployment: (labels: Record<string, string>) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-worker
  labels: ${JSON.stringify(labels)}
spec:
  selector:
    matchLabels: { app: orders-worker }
  template:
    metadata:
      labels: { app: orders-worker }
    spec:
      containers:
        - name: worker
          image: public.ecr.aws/docker/library/busybox:1.37
`,
  triggerAuthentication: `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: orders-worker-aws
spec:
  podIdentity:
    provider: aws
    roleArn: arn:aws:iam::222222222222:role/keda/keda-sqs-orders-worker
`,
  scaledObject: (min: number, max: number) => `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: orders-worker
spec:
  scaleTargetRef:
    name: orders-worker
  minReplicaCount: ${min}
  maxReplicaCount: ${max}
  triggers:
    - type: aws-sqs-queue
      authenticationRef:
        name: orders-worker-aws
      metadata:
        queueURL: https://sqs.eu-west-1.amazonaws.com/222222222222/orders
        queueLength: "5"
        awsRegion: eu-west-1
`,
  kustomization: (resources: string[]) =>
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n${resources
      .map(r => `  - ${r}\n`)
      .join('')}`,
};

describe('GitOps loop between the GitHub and Kubernetes stand-ins', () => {
  let github: GitHubStandIn;
  let kubernetes: KubernetesStandIn;
  let loop: GitOpsLoop;
  let octokit: Octokit;
  let cluster: KubernetesObjectApi;

  beforeAll(async () => {
    kubernetes = await startKubernetesStandIn({ port: 0 });
    github = await startGitHubStandIn({
      port: 0,
      tokens: { [TOKEN]: 'backstage-scaffolder' },
      onMerge: async event => {
        await loop.handleMerge(event);
      },
    });
    loop = createGitOpsLoop({
      applications: [
        {
          name: 'sandbox',
          owner: OWNER,
          repo: REPO,
          paths: ['clusters/sandbox'],
        },
      ],
      github: { apiBaseUrl: github.apiBaseUrl, token: TOKEN },
      kubernetes: { url: kubernetes.url, token: kubernetes.token },
      logger: { info: () => {}, warn: () => {} },
    });
    github.createRepo(OWNER, REPO, {
      files: { 'README.md': '# Cluster state\n' },
    });
    octokit = new Octokit({
      baseUrl: github.apiBaseUrl,
      auth: TOKEN,
      log: quiet,
    });

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: kubernetes.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: kubernetes.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    cluster = KubernetesObjectApi.makeApiClient(kubeConfig);
  });

  afterAll(async () => {
    await github?.close();
    await kubernetes?.close();
  });

  /** Opens and merges a pull request changing `changes` (null deletes). */
  async function mergeChange(
    branch: string,
    changes: Record<string, string | null>,
  ) {
    const { data: main } = await octokit.repos.getCommit({
      owner: OWNER,
      repo: REPO,
      ref: 'main',
    });
    const { data: tree } = await octokit.git.createTree({
      owner: OWNER,
      repo: REPO,
      base_tree: main.commit.tree.sha,
      tree: Object.entries(changes).map(([path, content]) =>
        content === null
          ? { path, mode: '100644' as const, sha: null }
          : { path, mode: '100644' as const, content },
      ),
    });
    const { data: commit } = await octokit.git.createCommit({
      owner: OWNER,
      repo: REPO,
      message: branch,
      tree: tree.sha,
      parents: [main.sha],
    });
    await octokit.git.createRef({
      owner: OWNER,
      repo: REPO,
      ref: `refs/heads/${branch}`,
      sha: commit.sha,
    });
    const { data: pull } = await octokit.pulls.create({
      owner: OWNER,
      repo: REPO,
      head: branch,
      base: 'main',
      title: branch,
    });
    const { data: merge } = await octokit.pulls.merge({
      owner: OWNER,
      repo: REPO,
      pull_number: pull.number,
    });
    return { pull, mergeSha: merge.sha };
  }

  async function read(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ) {
    try {
      return await cluster.read({
        apiVersion,
        kind,
        metadata: { name, namespace },
      });
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  it('applies the manifests of a merged pull request, in order, with tracking annotations', async () => {
    const { mergeSha } = await mergeChange('keda/orders-worker', {
      [`${DIR}/kustomization.yaml`]: files.kustomization([
        'namespace.yaml',
        'configmap.yaml',
        'deployment.yaml',
        'triggerauthentication.yaml',
        'scaledobject.yaml',
      ]),
      [`${DIR}/namespace.yaml`]: files.namespace,
      [`${DIR}/configmap.yaml`]: files.configMap(
        'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      ),
      [`${DIR}/deployment.yaml`]: files.deployment({
        app: 'orders-worker',
        team: 'orders',
      }),
      [`${DIR}/triggerauthentication.yaml`]: files.triggerAuthentication,
      [`${DIR}/scaledobject.yaml`]: files.scaledObject(1, 10),
      [`${DIR}/iam-plan.json`]: '{"scalerRole": {}}',
    });

    const status = loop.status('sandbox');
    expect(status.lastSync).toMatchObject({
      phase: 'Succeeded',
      revision: mergeSha,
      errors: [],
    });
    expect(status.lastSync!.resources.map(r => [r.kind, r.action])).toEqual([
      ['Namespace', 'created'],
      ['ConfigMap', 'created'],
      ['Deployment', 'created'],
      ['TriggerAuthentication', 'created'],
      ['ScaledObject', 'created'],
    ]);

    const scaledObject = await read(
      'keda.sh/v1alpha1',
      'ScaledObject',
      'orders-worker',
      'shop',
    );
    expect((scaledObject as any)?.spec).toMatchObject({
      minReplicaCount: 1,
      maxReplicaCount: 10,
    });
    expect(scaledObject?.metadata?.annotations?.[TRACKING_ANNOTATION]).toBe(
      'sandbox:keda.sh/ScaledObject:shop/orders-worker',
    );
    expect(
      await read(
        'keda.sh/v1alpha1',
        'TriggerAuthentication',
        'orders-worker-aws',
        'shop',
      ),
    ).toBeDefined();
    expect(
      await read('apps/v1', 'Deployment', 'orders-worker', 'shop'),
    ).toBeDefined();
    expect(
      await read('v1', 'ConfigMap', 'orders-worker-settings', 'shop'),
    ).toBeDefined();

    const { data: combined } = await octokit.repos.getCombinedStatusForRef({
      owner: OWNER,
      repo: REPO,
      ref: mergeSha,
    });
    expect(combined.statuses.map(s => [s.context, s.state])).toEqual([
      ['gitops/sandbox', 'success'],
    ]);
  });

  it('changes nothing when synced again at the same revision', async () => {
    const result = await loop.sync('sandbox');
    expect(result.phase).toBe('Succeeded');
    expect(new Set(result.resources.map(r => r.action))).toEqual(
      new Set(['unchanged']),
    );
    // A manual sync reports on the commit too, like the merge's sync did.
    const { data: statuses } = await octokit.repos.listCommitStatusesForRef({
      owner: OWNER,
      repo: REPO,
      ref: result.revision!,
    });
    expect(statuses.map(s => [s.context, s.state, s.description])).toEqual([
      ['gitops/sandbox', 'success', 'Synced: 5 unchanged'],
      ['gitops/sandbox', 'success', 'Synced: 5 created'],
    ]);
  });

  it('patches changed objects, removing fields git dropped', async () => {
    await mergeChange('keda/orders-worker-labels', {
      [`${DIR}/deployment.yaml`]: files.deployment({ app: 'orders-worker' }),
      [`${DIR}/configmap.yaml`]: files.configMap(
        'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-v2',
      ),
    });
    const deployment = await read(
      'apps/v1',
      'Deployment',
      'orders-worker',
      'shop',
    );
    expect(deployment?.metadata?.labels).toEqual({ app: 'orders-worker' });
    expect(
      JSON.parse(deployment!.metadata!.annotations![LAST_APPLIED_ANNOTATION])
        .metadata.labels,
    ).toEqual({ app: 'orders-worker' });
    const configMap = await read(
      'v1',
      'ConfigMap',
      'orders-worker-settings',
      'shop',
    );
    expect((configMap as any)?.data?.QUEUE_URL).toBe(
      'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-v2',
    );
    expect(
      loop
        .status('sandbox')
        .lastSync!.resources.filter(r => r.action === 'configured')
        .map(r => r.kind),
    ).toEqual(['ConfigMap', 'Deployment']);
  });

  it('prunes an object whose file a later pull request deletes', async () => {
    await mergeChange('keda/drop-configmap', {
      [`${DIR}/configmap.yaml`]: null,
      [`${DIR}/kustomization.yaml`]: files.kustomization([
        'namespace.yaml',
        'deployment.yaml',
        'triggerauthentication.yaml',
        'scaledobject.yaml',
      ]),
    });
    const lastSync = loop.status('sandbox').lastSync!;
    expect(lastSync.phase).toBe('Succeeded');
    expect(
      lastSync.resources
        .filter(r => r.action === 'pruned')
        .map(r => `${r.kind} ${r.namespace}/${r.name}`),
    ).toEqual(['ConfigMap shop/orders-worker-settings']);
    expect(
      await read('v1', 'ConfigMap', 'orders-worker-settings', 'shop'),
    ).toBeUndefined();
    expect(
      await read('keda.sh/v1alpha1', 'ScaledObject', 'orders-worker', 'shop'),
    ).toBeDefined();
  });

  it('records the KEDA admission rejection of an invalid ScaledObject and shows it on the pull request and status pages', async () => {
    const { pull, mergeSha } = await mergeChange('keda/bad-bounds', {
      [`${DIR}/scaledobject.yaml`]: files.scaledObject(5, 2),
    });
    const lastSync = loop.status('sandbox').lastSync!;
    expect(lastSync).toMatchObject({
      phase: 'Failed',
      revision: mergeSha,
      trigger: { kind: 'merge', pullNumber: pull.number },
    });
    expect(lastSync.errors).toHaveLength(1);
    expect(lastSync.errors[0]).toMatch(
      /^clusters\/sandbox\/shop\/orders-worker\/scaledobject.yaml: ScaledObject shop\/orders-worker was rejected \(HTTP \d+\): .*MinReplicaCount=5 must be less than MaxReplicaCount=2/,
    );
    // The earlier, valid version stays in the cluster, and stays managed.
    const live = await read(
      'keda.sh/v1alpha1',
      'ScaledObject',
      'orders-worker',
      'shop',
    );
    expect((live as any)?.spec).toMatchObject({
      minReplicaCount: 1,
      maxReplicaCount: 10,
    });
    expect(loop.status('sandbox').managed.map(m => m.key)).toContain(
      'keda.sh/ScaledObject:shop/orders-worker',
    );

    const { data: comments } = await octokit.issues.listComments({
      owner: OWNER,
      repo: REPO,
      issue_number: pull.number,
    });
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toContain(
      'MinReplicaCount=5 must be less than MaxReplicaCount=2',
    );
    const { data: combined } = await octokit.repos.getCombinedStatusForRef({
      owner: OWNER,
      repo: REPO,
      ref: mergeSha,
    });
    expect(combined.state).toBe('failure');

    const pullPage = await (await fetch(pull.html_url)).text();
    expect(pullPage).toContain('gitops/sandbox');
    expect(pullPage).toContain(
      'MinReplicaCount=5 must be less than MaxReplicaCount=2',
    );

    const statusServer = await serveGitOpsStatus(loop, { port: 0 });
    try {
      const html = await (await fetch(statusServer.url)).text();
      expect(html).toContain('Failed');
      expect(html).toContain(
        'MinReplicaCount=5 must be less than MaxReplicaCount=2',
      );
      const json = await (
        await fetch(`${statusServer.url}/applications/sandbox`)
      ).json();
      expect(json.lastSync.errors).toEqual(lastSync.errors);
      const manual = await fetch(
        `${statusServer.url}/applications/sandbox/sync`,
        { method: 'POST', headers: { accept: 'application/json' } },
      );
      expect((await manual.json()).trigger).toEqual({ kind: 'manual' });
      expect(
        (await fetch(`${statusServer.url}/applications/nope`)).status,
      ).toBe(404);
    } finally {
      await statusServer.close();
    }
  });
});
