import {
  DeletePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  operatorRoleArn,
  plan,
  type KedaClusterSpec,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  KedaAwsClientFactory,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import {
  ensurePodIdentityNode,
  rootCredentialsFor,
  startAwsStandIn,
  startKedaLoop,
  startKubernetesStandIn,
  type AwsStandIn,
  type KedaLoop,
  type KubernetesStandIn,
} from '@internal/sandbox';
import yaml from 'yaml';
import { KedaPlanner } from '../lib/planner';
import {
  CLUSTER_ACCOUNT,
  fakePreflight,
  kedaConfigData,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaOperatorRoleEnsureAction } from './operatorRoleEnsure';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';

jest.setTimeout(90_000);

/*
 * The EKS Pod Identity journey against the stand-ins, configured only through
 * AWS_ENDPOINT_URL and aws.accounts: onboarding of a pod-identity cluster
 * (agent add-on checked, operator role, pod identity association; a re-run
 * converges) → an autoscaling request's scaler role → the sandbox's KEDA
 * loop, as the operator pod, gets its credentials through the node's Pod
 * Identity agent (EKS Auth AssumeRoleForPodIdentity), assumes the scaler role
 * with the transitive session tags and scales the Deployment on the queue.
 */

const REGION = 'eu-west-1';
const ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/P0D1DENT1TY00000000000000000001';
const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';
const QUEUE_URL = ordersRequest.queueUrl;

describe('EKS Pod Identity journey against the stand-ins', () => {
  let aws: AwsStandIn;
  let k8s: KubernetesStandIn;
  let loop: KedaLoop | undefined;
  let clock: number;
  const clients: Array<{ destroy(): void }> = [];
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  const keda = (() => {
    const data = kedaConfigData({ oidcIssuer: null });
    data.clusters = data.clusters.map(c => ({
      ...c,
      identity: 'pod-identity',
    }));
    return data;
  })();
  const config = new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    keda,
    aws: {
      accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
        accountId,
        ...rootCredentialsFor(accountId),
      })),
    },
  });
  const spec = clusterSpecOf(
    readKedaConfig(config).clusters[0],
  ) as KedaClusterSpec;

  const actions = () => {
    const factory = KedaAwsClientFactory.fromConfig(config, { maxAttempts: 1 });
    const planner = new KedaPlanner({
      config,
      aws: factory,
      requests: fakePreflight().api,
    });
    return {
      onboard: createKedaOperatorRoleEnsureAction({
        planner,
        aws: factory,
        permissions: fixedPermissions(AuthorizeResult.ALLOW).service,
      }),
      scalerRole: createKedaScalerRoleEnsureAction({
        planner,
        aws: factory,
        permissions: fixedPermissions(AuthorizeResult.DENY).service,
      }),
    };
  };
  const eks = () => {
    const client = new EKSClient({
      endpoint: aws.url,
      region: REGION,
      credentials: rootCredentialsFor(CLUSTER_ACCOUNT),
    });
    clients.push(client);
    return client;
  };

  /** What the GitOps loop applies once the request's pull request merges. */
  function applyPlannedManifests() {
    const planned = plan({
      request: ordersRequest,
      cluster: spec,
      roles: readKedaConfig(config).roles,
      guardrails: readKedaConfig(config).guardrails,
      externalId: EXTERNAL_ID,
    });
    const resources: Record<string, string> = {
      ScaledObject: 'scaledobjects.keda.sh',
      TriggerAuthentication: 'triggerauthentications.keda.sh',
      ServiceAccount: 'serviceaccounts',
    };
    for (const file of planned.manifests) {
      for (const doc of yaml.parseAllDocuments(file.content)) {
        const obj = doc.toJS();
        const resource = obj && resources[obj.kind];
        if (resource) k8s.store.create(resource, obj.metadata.namespace, obj);
      }
    }
  }

  beforeEach(async () => {
    clock = Date.parse('2026-12-01T10:00:00Z');
    aws = await startAwsStandIn({ port: 0, clock: () => clock });
    aws.createAccount(CLUSTER_ACCOUNT);
    aws.createAccount(QUEUE_ACCOUNT);
    k8s = await startKubernetesStandIn({
      port: 0,
      issuerUrl: ISSUER,
      now: () => clock,
    });
    aws.createEksCluster({
      accountId: CLUSTER_ACCOUNT,
      region: REGION,
      name: spec.name,
      oidcIssuer: ISSUER,
      addons: ['eks-pod-identity-agent'],
    });
    aws.setIssuerKeys(k8s.issuer.issuerUrl, k8s.issuer.jwks());
    process.env.AWS_ENDPOINT_URL = aws.url;

    const sqs = new SQSClient({
      endpoint: aws.url,
      region: REGION,
      credentials: rootCredentialsFor(QUEUE_ACCOUNT),
    });
    clients.push(sqs);
    await sqs.send(new CreateQueueCommand({ QueueName: 'orders-queue' }));
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: `m${i}`,
          MessageBody: `order ${i}`,
        })),
      }),
    );
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: QUEUE_URL,
        Entries: [0, 1].map(i => ({ Id: `n${i}`, MessageBody: `late ${i}` })),
      }),
    );
    k8s.store.create('namespaces', undefined, { metadata: { name: 'orders' } });
    k8s.store.create('deployments.apps', 'orders', {
      metadata: { name: 'orders-worker' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'orders-worker' } },
        template: {
          metadata: { labels: { app: 'orders-worker' } },
          spec: { containers: [{ name: 'worker', image: 'orders:1.0' }] },
        },
      },
    });
  });

  afterEach(async () => {
    loop?.stop();
    loop = undefined;
    clients.splice(0).forEach(c => c.destroy());
    await k8s.close();
    await aws.close();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  });

  const startLoop = async () => {
    clock += 1000;
    loop = startKedaLoop({
      store: k8s.store,
      issuer: k8s.issuer,
      awsEndpoint: aws.url,
      operatorRoleArn: operatorRoleArn(spec),
      scaleDownStabilizationSeconds: 0,
      autoStart: false,
      now: () => clock,
      podIdentityAgent: {
        clusterName: spec.name,
        region: REGION,
        nodeCredentials: await ensurePodIdentityNode(aws, spec),
      },
    });
    return loop;
  };
  const readyCondition = () =>
    k8s.store
      .get('scaledobjects.keda.sh', 'orders', 'orders-worker')
      .status?.conditions?.find((c: any) => c.type === 'Ready');

  it('onboards, provisions the scaler role and scales through the pod identity association', async () => {
    const { onboard, scalerRole } = actions();
    const first = await runAction(onboard, { cluster: spec.name });
    expect(first.outputs).toMatchObject({
      roleArn: operatorRoleArn(spec),
      created: true,
      podIdentityAssociationId: expect.stringMatching(/^a-[a-z0-9]{17}$/),
    });
    expect(first.outputs.changes).toContain('eks:CreatePodIdentityAssociation');
    // re-running onboarding converges: same association, nothing changed
    const again = await runAction(onboard, { cluster: spec.name });
    expect(again.outputs).toMatchObject({
      created: false,
      changes: [],
      podIdentityAssociationId: first.outputs.podIdentityAssociationId,
      podIdentityAssociationArn: first.outputs.podIdentityAssociationArn,
    });

    await runAction(scalerRole, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
      autoApproved: true,
    });
    applyPlannedManifests();

    const kedaLoop = await startLoop();
    await kedaLoop.reconcileAll();
    expect(readyCondition()).toMatchObject({ status: 'True' });
    // 12 messages, 5 per replica: 3 replicas
    expect(
      k8s.store.get('deployments.apps', 'orders', 'orders-worker').spec
        .replicas,
    ).toBe(3);
    expect(kedaLoop.identity.podIdentitySession()).toMatchObject({
      associationId: first.outputs.podIdentityAssociationId,
      assumedRoleArn: expect.stringMatching(
        new RegExp(`assumed-role/${spec.operator.roleName}/eks-${spec.name}-`),
      ),
    });
    // the operator never used IRSA: no web identity call at all
    expect(
      aws.requestLog().filter(r => r.operation === 'AssumeRoleWithWebIdentity'),
    ).toEqual([]);
    expect(
      aws
        .requestLog()
        .filter(r => r.operation === 'AssumeRoleForPodIdentity')
        .map(r => r.status),
    ).toEqual([200]);
  });

  it('stops scaling, with the EKS Auth error in the ScaledObject, once the association is gone', async () => {
    const { onboard, scalerRole } = actions();
    const { outputs } = await runAction(onboard, { cluster: spec.name });
    await runAction(scalerRole, {
      request: ordersRequest,
      externalId: EXTERNAL_ID,
      autoApproved: true,
    });
    applyPlannedManifests();
    await eks().send(
      new DeletePodIdentityAssociationCommand({
        clusterName: spec.name,
        associationId: outputs.podIdentityAssociationId,
      }),
    );
    const kedaLoop = await startLoop();
    await kedaLoop.reconcileAll();
    expect(readyCondition()).toMatchObject({ status: 'False' });
    expect(
      JSON.stringify(k8s.store.list('events', { namespace: 'orders' }).items),
    ).toContain('AssumeRoleForPodIdentity');
  });

  it('refuses onboarding without the Pod Identity agent, before creating anything', async () => {
    aws.deleteEksAddon({
      accountId: CLUSTER_ACCOUNT,
      region: REGION,
      clusterName: spec.name,
      addonName: 'eks-pod-identity-agent',
    });
    const { onboard } = actions();
    await expect(runAction(onboard, { cluster: spec.name })).rejects.toThrow(
      /has no eks-pod-identity-agent add-on/,
    );
    expect(
      aws
        .requestLog()
        .filter(
          r =>
            r.service !== 'sqs' && /^(Create|Put|Update|Tag)/.test(r.operation),
        ),
    ).toEqual([]);
  });
});
