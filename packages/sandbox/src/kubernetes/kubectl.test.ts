import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeKubeconfig } from './kubeconfig';
import { startKubernetesStandIn, KubernetesStandIn } from './server';

// Real servers and (for kubectl) child processes on a shared 2-core machine.
jest.setTimeout(90_000);

const run = promisify(execFile);

function kubectlAvailable(): boolean {
  return ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].some(p =>
    fs.existsSync(p),
  );
}

// kubectl is an independent client (Debian package `kubectl`); where it is
// not installed these tests are skipped rather than faked. Under libfaketime
// (the test command's moved-clock run) they are skipped too: kubectl is a
// static Go binary that reads the real clock, so it would reject the serving
// certificate the faked clock dated in the future.
const describeWithKubectl =
  kubectlAvailable() && !process.env.FAKETIME ? describe : describe.skip;

describeWithKubectl('kubectl against the stand-in', () => {
  let standIn: KubernetesStandIn;
  let dir: string;
  let kubeconfig: string;

  const kubectl = async (...args: string[]) => {
    try {
      const { stdout } = await run('kubectl', args, {
        env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir },
        timeout: 30000,
      });
      return stdout;
    } catch (e: any) {
      throw new Error(
        `kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`,
      );
    }
  };

  beforeAll(async () => {
    // kubectl sends bearer tokens only over TLS.
    standIn = await startKubernetesStandIn({
      port: 0,
      tokens: ['kubectl-token'],
      tls: true,
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-'));
    kubeconfig = writeKubeconfig(path.join(dir, 'config'), {
      server: standIn.url,
      token: 'kubectl-token',
      caCertificate: standIn.caCertificate,
    });
  });
  afterAll(async () => {
    await standIn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gets, applies, scales and deletes', async () => {
    expect(await kubectl('get', 'namespaces', '-o', 'name')).toContain(
      'namespace/default',
    );
    const manifest = path.join(dir, 'orders.yaml');
    fs.writeFileSync(
      manifest,
      `apiVersion: v1
kind: Namespace
metadata:
  name: payments
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: payments
spec:
  replicas: 1
  selector:
    matchLabels: {app: orders}
  template:
    metadata:
      labels: {app: orders}
    spec:
      containers:
      - name: app
        image: nginx:1.27
---
apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: sqs
  namespace: payments
spec:
  podIdentity:
    provider: aws
    roleArn: arn:aws:iam::222222222222:role/keda/orders
`,
    );
    const applied = await kubectl('apply', '--validate=false', '-f', manifest);
    expect(applied).toContain('deployment.apps/orders created');
    expect(applied).toContain('triggerauthentication.keda.sh/sqs created');
    // A second apply with a changed image is a client-side strategic patch.
    fs.writeFileSync(
      manifest,
      fs.readFileSync(manifest, 'utf8').replace('nginx:1.27', 'nginx:1.28'),
    );
    expect(
      await kubectl('apply', '--validate=false', '-f', manifest),
    ).toContain('deployment.apps/orders configured');
    const image = await kubectl(
      'get',
      'deploy',
      'orders',
      '-n',
      'payments',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    );
    expect(image).toBe('nginx:1.28');

    await kubectl(
      'scale',
      'deployment/orders',
      '-n',
      'payments',
      '--replicas=4',
    );
    const table = await kubectl('get', 'deployments', '-n', 'payments');
    expect(table).toMatch(/orders\s+4\/4/);
    expect(await kubectl('get', 'ta', '-n', 'payments')).toMatch(/sqs\s+aws/);

    // ScaledObjects: CRD printer columns, describe with events, and the
    // KEDA webhook's denial as kubectl prints it.
    const scaledObject = (name: string) => `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: ${name}
  namespace: payments
spec:
  scaleTargetRef: {name: orders}
  minReplicaCount: 0
  maxReplicaCount: 5
  triggers:
  - type: aws-sqs-queue
    authenticationRef: {name: sqs}
    metadata:
      queueURL: https://sqs.eu-west-1.amazonaws.com/222222222222/orders
      awsRegion: eu-west-1
`;
    const soFile = path.join(dir, 'so.yaml');
    fs.writeFileSync(soFile, scaledObject('orders'));
    await kubectl('apply', '--validate=false', '-f', soFile);
    const soTable = await kubectl('get', 'so', '-n', 'payments');
    expect(soTable).toMatch(
      /NAME\s+SCALETARGETKIND\s+SCALETARGETNAME\s+MIN\s+MAX/,
    );
    expect(soTable).toMatch(/orders\s+orders\s+0\s+5/);
    const so = standIn.store.get('scaledobjects.keda.sh', 'payments', 'orders');
    standIn.store.create('events', 'payments', {
      metadata: { name: 'orders.17a' },
      involvedObject: {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        name: 'orders',
        namespace: 'payments',
        uid: so.metadata!.uid,
      },
      type: 'Normal',
      reason: 'KEDAScalersStarted',
      message: 'Started scalers watch',
      source: { component: 'keda-operator' },
      count: 1,
    });
    expect(await kubectl('describe', 'so', 'orders', '-n', 'payments')).toMatch(
      /Events:[\s\S]*KEDAScalersStarted\s+\S+\s+keda-operator\s+Started scalers watch/,
    );
    fs.writeFileSync(soFile, scaledObject('orders-again'));
    await expect(
      kubectl('apply', '--validate=false', '-f', soFile),
    ).rejects.toThrow(
      `admission webhook "vscaledobject.kb.io" denied the request: the workload 'orders' of type 'apps/v1.Deployment' is already managed by the ScaledObject 'orders'`,
    );

    await kubectl('delete', 'deployment', 'orders', '-n', 'payments');
    expect(
      standIn.store.find('deployments.apps', 'payments', 'orders'),
    ).toBeUndefined();
  });
});
