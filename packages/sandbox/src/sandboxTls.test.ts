import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse } from 'yaml';
import { loadConfigFiles } from './portalConfig';
import { SANDBOX_FILES, startSandbox, type Sandbox } from './sandbox';

// Real servers and (for kubectl) a child process on a shared 2-core machine.
jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '../../..');
const run = promisify(execFile);

// kubectl is an independent client (Debian package `kubectl`): skipped only
// where it is not installed, or under libfaketime (a static Go binary reads
// the real clock and would reject a certificate dated by the faked one).
const kubectlAvailable =
  ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].some(p => fs.existsSync(p)) &&
  !process.env.FAKETIME;
const describeWithKubectl = kubectlAvailable ? describe : describe.skip;

/**
 * What `cli.ts start` (scripts/start.sh) runs: the repository's own
 * app-config.yaml names the cluster by an https URL, so the Kubernetes
 * stand-in serves TLS with the certificate kept in the data dir, and a
 * kubeconfig for kubectl is written beside it.
 */
describe('sandbox with the Kubernetes API over TLS', () => {
  let dataDir: string;
  let sandbox: Sandbox | undefined;
  const start = async () =>
    startSandbox({
      config: loadConfigFiles([path.join(repoRoot, 'app-config.yaml')]),
      dataDir,
      ports: { aws: 0, github: 0, kubernetes: 0 },
    });

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-tls-'));
    sandbox = await start();
  });
  afterAll(async () => {
    await sandbox?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const kubeconfigFile = () => path.join(dataDir, SANDBOX_FILES.kubeconfig);

  it('writes a kubeconfig with the https server, the CA and the accepted token', () => {
    expect(sandbox!.kubernetes.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox!.files?.kubeconfig).toBe(kubeconfigFile());
    expect(fs.statSync(kubeconfigFile()).mode & 0o777).toBe(0o600);
    const doc = parse(fs.readFileSync(kubeconfigFile(), 'utf8'));
    const cluster = doc.clusters[0].cluster;
    expect(cluster.server).toBe(sandbox!.kubernetes.url);
    expect(cluster['insecure-skip-tls-verify']).toBeUndefined();
    expect(
      Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
    ).toBe(
      fs.readFileSync(
        path.join(dataDir, SANDBOX_FILES.kubernetesCertificate),
        'utf8',
      ),
    );
    // The token the portal's config gives the cluster (one source of truth).
    expect(doc.users[0].user.token).toBe(sandbox!.facts.kubernetesTokens[0]);
    expect(doc['current-context']).toBe(sandbox!.clusters[0].name);
  });

  it('serves @kubernetes/client-node through the written kubeconfig, verifying the certificate', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFile());
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map(n => n.metadata?.name)).toEqual(
      expect.arrayContaining(['keda', 'orders', 'billing']),
    );
    const scaledObjects = await kc
      .makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({
        group: 'keda.sh',
        version: 'v1alpha1',
        plural: 'scaledobjects',
      });
    expect(scaledObjects).toMatchObject({ kind: 'ScaledObjectList' });

    // Without the CA the same server is refused: the TLS is real.
    const untrusting = new KubeConfig();
    untrusting.loadFromClusterAndUser(
      { name: 'x', server: sandbox!.kubernetes.url, skipTLSVerify: false },
      { name: 'x', token: sandbox!.kubernetes.token },
    );
    await expect(
      untrusting.makeApiClient(CoreV1Api).listNamespace(),
    ).rejects.toThrow(/self[- ]signed certificate/i);
  });

  describeWithKubectl('kubectl', () => {
    it('is served through the written kubeconfig', async () => {
      const { stdout } = await run('kubectl', ['get', 'scaledobjects', '-A'], {
        env: { ...process.env, KUBECONFIG: kubeconfigFile(), HOME: dataDir },
        timeout: 30_000,
      }).catch((e: any) => {
        throw new Error(`kubectl failed: ${e.stderr || e.message}`);
      });
      // No ScaledObjects yet: kubectl still reaches the API, authenticated.
      expect(stdout).toBe('');
      const deployments = await run(
        'kubectl',
        ['get', 'deployments', '-n', 'orders', '-o', 'name'],
        {
          env: { ...process.env, KUBECONFIG: kubeconfigFile(), HOME: dataDir },
          timeout: 30_000,
        },
      );
      expect(deployments.stdout).toContain('deployment.apps/orders-worker');
    });
  });

  it('keeps the certificate across a restart, so the kubeconfig stays valid', async () => {
    const certFile = path.join(dataDir, SANDBOX_FILES.kubernetesCertificate);
    const before = fs.readFileSync(certFile, 'utf8');
    await sandbox!.close();
    sandbox = undefined;
    sandbox = await start();
    expect(fs.readFileSync(certFile, 'utf8')).toBe(before);
    expect(sandbox.kubernetes.caCertificate).toBe(before);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigFile());
    await expect(
      kc.makeApiClient(CoreV1Api).readNamespace({ name: 'orders' }),
    ).resolves.toMatchObject({ metadata: { name: 'orders' } });
  });

  it('writes an AWS config file with a profile per sandbox account that opens the AWS stand-in', async () => {
    const awsConfig = fs.readFileSync(
      path.join(dataDir, SANDBOX_FILES.awsConfig),
      'utf8',
    );
    expect(awsConfig).toContain('[profile sandbox-111111111111]');
    const profile = awsConfig
      .split(/\n(?=\[)/)
      .find(p => p.startsWith('[profile sandbox-222222222222]'))!;
    const setting = (key: string) =>
      profile.match(new RegExp(`^${key} = (.+)$`, 'm'))![1];
    expect(setting('endpoint_url')).toBe(sandbox!.aws.url);
    const sqs = new SQSClient({
      endpoint: setting('endpoint_url'),
      region: setting('region'),
      credentials: {
        accessKeyId: setting('aws_access_key_id'),
        secretAccessKey: setting('aws_secret_access_key'),
      },
    });
    const { QueueUrls } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls?.some(u => u.endsWith('/222222222222/orders-queue'))).toBe(
      true,
    );
  });
});
