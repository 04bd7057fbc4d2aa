import path from 'node:path';
import {
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Octokit } from '@octokit/rest';
import {
  plan,
  policyJson,
  type KedaPlan,
} from '@keda-self-service/plugin-keda-common';
import { loadConfigFiles } from './portalConfig';
import { startSandbox, type Sandbox } from './sandbox';
import { DEMO, parseRepoUrl } from './seed';
import { rootCredentialsFor } from './aws';

const repoRoot = path.resolve(__dirname, '../../..');

async function eventually<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (accept(last)) return last;
    await new Promise(r => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting for ${what}; last value: ${JSON.stringify(last)}`,
  );
}

/**
 * The whole journey on the stand-ins, seeded from the repository's own
 * app-config.yaml, with only the real clients: the portal assumes its
 * provisioner role in the queue account and creates the planned scaler
 * role; the manifests go to the GitOps repository as a pull request; the
 * merge applies them to the cluster; KEDA reads the queue through the role
 * chain and scales the Deployment with the queue depth.
 */
describe('sandbox journey', () => {
  let sandbox: Sandbox;
  let keda: KedaPlan;

  beforeAll(async () => {
    sandbox = await startSandbox({
      config: loadConfigFiles([path.join(repoRoot, 'app-config.yaml')]),
      ports: { aws: 0, github: 0, kubernetes: 0 },
      pollingIntervalOverrideSeconds: 1,
      cooldownPeriodOverrideSeconds: 1,
    });
    const { keda: kedaConfig } = sandbox.facts;
    keda = plan({
      request: {
        entityRef: 'component:default/orders-worker',
        cluster: sandbox.clusters[0].name,
        namespace: 'orders',
        workload: { kind: 'Deployment', name: 'orders-worker' },
        kubernetesId: 'orders-worker',
        queueUrl: `https://sqs.${DEMO.queueRegion}.amazonaws.com/${DEMO.queueAccountId}/orders-queue`,
        minReplicas: 1,
        maxReplicas: 4,
        queueLength: 5,
      },
      cluster: sandbox.clusters[0],
      roles: kedaConfig.roles,
      guardrails: kedaConfig.guardrails,
      requester: 'user:default/dana',
    });
  }, 60_000);

  afterAll(() => sandbox?.close());

  it('is seeded from app-config.yaml: the portal may assume its provisioner role in the queue account', async () => {
    const { portalKeys, provisionerRoles } = sandbox.facts;
    const inB = provisionerRoles.find(
      r => r.accountId === DEMO.queueAccountId,
    )!;
    const sts = new STSClient({
      endpoint: sandbox.aws.url,
      region: 'eu-west-1',
      credentials: portalKeys!,
    });
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${inB.accountId}:role/${inB.roleName}`,
        RoleSessionName: 'backstage',
      }),
    );
    expect(assumed.AssumedRoleUser?.Arn).toContain(
      `assumed-role/${inB.roleName}/backstage`,
    );
  });

  it('scales the workload with the queue depth once the merged manifests are applied', async () => {
    // 1. IAM, as the portal: assume the provisioner role in the queue account.
    const { portalKeys, provisionerRoles } = sandbox.facts;
    const inB = provisionerRoles.find(
      r => r.accountId === keda.scalerRole.accountId,
    )!;
    const sts = new STSClient({
      endpoint: sandbox.aws.url,
      region: 'eu-west-1',
      credentials: portalKeys!,
    });
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${inB.accountId}:role/${inB.roleName}`,
        RoleSessionName: 'backstage',
      }),
    );
    const iam = new IAMClient({
      endpoint: sandbox.aws.url,
      region: 'us-east-1',
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken,
      },
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: keda.scalerRole.name,
        Path: keda.scalerRole.path,
        AssumeRolePolicyDocument: policyJson(keda.scalerRole.trustPolicy),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: keda.scalerRole.name,
        PolicyName: keda.scalerRole.permissionPolicyName,
        PolicyDocument: policyJson(keda.scalerRole.permissionPolicy),
      }),
    );

    // 2. The pull request with the manifests, then the merge.
    const { owner, repo } = parseRepoUrl(sandbox.clusters[0].gitops!.repoUrl);
    const octokit = new Octokit({
      baseUrl: sandbox.github.apiBaseUrl,
      auth: sandbox.facts.githubToken,
    });
    const main = await octokit.git.getRef({ owner, repo, ref: 'heads/main' });
    const head = await octokit.git.getCommit({
      owner,
      repo,
      commit_sha: main.data.object.sha,
    });
    const tree = await octokit.git.createTree({
      owner,
      repo,
      base_tree: head.data.tree.sha,
      tree: keda.manifests.map(f => ({
        path: f.path,
        mode: '100644' as const,
        type: 'blob' as const,
        content: f.content,
      })),
    });
    const commit = await octokit.git.createCommit({
      owner,
      repo,
      message: 'KEDA for orders-worker',
      tree: tree.data.sha,
      parents: [main.data.object.sha],
    });
    await octokit.git.createRef({
      owner,
      repo,
      ref: 'refs/heads/keda/orders-worker',
      sha: commit.data.sha,
    });
    const pr = await octokit.pulls.create({
      owner,
      repo,
      head: 'keda/orders-worker',
      base: 'main',
      title: 'KEDA for orders-worker',
    });
    await octokit.pulls.merge({ owner, repo, pull_number: pr.data.number });

    const store = sandbox.kubernetes.store;
    await eventually(
      () =>
        store.find('scaledobjects.keda.sh', 'orders', keda.names.scaledObject),
      so => Boolean(so),
      'the GitOps loop to apply the ScaledObject',
    );

    // 3. Queue depth 23 at 5 messages per replica → 5 replicas wanted, capped at 4.
    const sqs = new SQSClient({
      endpoint: sandbox.aws.url,
      region: DEMO.queueRegion,
      credentials: rootCredentialsFor(DEMO.queueAccountId),
    });
    for (let i = 0; i < 23; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: keda.queue.url,
          Entries: Array.from({ length: Math.min(10, 23 - i) }, (_, j) => ({
            Id: String(j),
            MessageBody: `m${i + j}`,
          })),
        }),
      );
    }
    const deployment = await eventually(
      () => store.get('deployments.apps', 'orders', 'orders-worker'),
      d => d.spec?.replicas === 4,
      'orders-worker to scale to maxReplicas',
    );
    expect(deployment.spec.replicas).toBe(4);
    const so = store.get(
      'scaledobjects.keda.sh',
      'orders',
      keda.names.scaledObject,
    );
    expect(so.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Ready', status: 'True' }),
      ]),
    );

    // 4. A broken trust (the operator is no longer trusted) shows up like it
    // does with KEDA: once the scaler is rebuilt (KEDA caches the assumed
    // role's credentials until then), here by re-creating the ScaledObject.
    const rootIam = new IAMClient({
      endpoint: sandbox.aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(keda.scalerRole.accountId),
    });
    await rootIam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: keda.scalerRole.name,
        PolicyDocument: policyJson({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                AWS: `arn:aws:iam::${keda.scalerRole.accountId}:root`,
              },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    const applied = store.get(
      'scaledobjects.keda.sh',
      'orders',
      keda.names.scaledObject,
    );
    store.delete('scaledobjects.keda.sh', 'orders', keda.names.scaledObject);
    store.create('scaledobjects.keda.sh', 'orders', {
      apiVersion: applied.apiVersion,
      kind: applied.kind,
      metadata: {
        name: applied.metadata!.name,
        namespace: 'orders',
        labels: applied.metadata!.labels,
      },
      spec: applied.spec,
    });
    const broken = await eventually(
      () =>
        store.get('scaledobjects.keda.sh', 'orders', keda.names.scaledObject),
      o =>
        o.status?.conditions?.some(
          (x: any) => x.type === 'Ready' && x.status === 'False',
        ),
      'Ready=False after the trust policy broke',
    );
    // KEDA's condition says the triggers fail; the AWS error is in the event.
    const ready = broken.status.conditions.find((x: any) => x.type === 'Ready');
    expect(ready.message).toMatch(/not working correctly/);
    const events = store.list('events', { namespace: 'orders' }).items;
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: 'KEDAScalerFailed',
          message: expect.stringContaining('AccessDenied'),
        }),
      ]),
    );
  }, 120_000);
});
