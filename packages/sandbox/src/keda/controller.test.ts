import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  PurgeQueueCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  buildScaledObject,
  buildTriggerAuthentication,
  KedaClusterSpec,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  parseQueueUrl,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
} from '@keda-self-service/plugin-keda-common';
import { AwsStandIn, startAwsStandIn } from '../aws';
import { KubernetesStandIn, startKubernetesStandIn } from '../kubernetes';
import * as k8sClient from '@kubernetes/client-node';
import { KedaLoop, startKedaLoop } from './controller';

// Real servers and (for kubectl) child processes on a shared 2-core machine.
jest.setTimeout(60_000);

const CLUSTER_ACCOUNT = '111111111111';
const QUEUE_ACCOUNT = '222222222222';
const REGION = 'eu-west-1';
const ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/5ANDB0XC1U5TER0000000000000001';
const EXTERNAL_ID = 'keda-payments-orders-7f3a';
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${QUEUE_ACCOUNT}/orders`;
const SCALER_ROLE_ARN = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/keda-sqs-payments-orders`;

const cluster: KedaClusterSpec = {
  name: 'sandbox',
  accountId: CLUSTER_ACCOUNT,
  region: REGION,
  oidcIssuer: ISSUER,
  kedaVersion: '2.20.2',
  identity: 'irsa',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator',
  },
};
const OPERATOR_ROLE_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator`;

describe('KEDA loop against the AWS stand-in', () => {
  let aws: AwsStandIn;
  let k8s: KubernetesStandIn;
  let loop: KedaLoop | undefined;
  let clock: number;
  let iamA: IAMClient;
  let iamB: IAMClient;
  let sqsB: SQSClient;

  /** The IAM chain the plan step would provision, built by the domain core. */
  async function seedIamChain() {
    const a = aws.createAccount(CLUSTER_ACCOUNT);
    const b = aws.createAccount(QUEUE_ACCOUNT);
    iamA = new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: a,
      maxAttempts: 1,
    });
    iamB = new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: b,
      maxAttempts: 1,
    });
    sqsB = new SQSClient({
      endpoint: aws.url,
      region: REGION,
      credentials: b,
      maxAttempts: 1,
    });
    await iamA.send(
      new CreateOpenIDConnectProviderCommand({
        Url: ISSUER,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      }),
    );
    await iamA.send(
      new CreateRoleCommand({
        RoleName: 'keda-operator',
        AssumeRolePolicyDocument: JSON.stringify(
          operatorRoleTrustPolicy(cluster),
        ),
      }),
    );
    await iamA.send(
      new PutRolePolicyCommand({
        RoleName: 'keda-operator',
        PolicyName: 'assume-keda-scaler-roles',
        PolicyDocument: JSON.stringify(
          operatorRolePermissionPolicy({
            cluster,
            queueAccountIds: [QUEUE_ACCOUNT],
            scalerRolePath: '/keda/',
            scalerRoleNamePrefix: 'keda-sqs-',
          }),
        ),
      }),
    );
    await sqsB.send(new CreateQueueCommand({ QueueName: 'orders' }));
    await iamB.send(
      new CreateRoleCommand({
        RoleName: 'keda-sqs-payments-orders',
        Path: '/keda/',
        AssumeRolePolicyDocument: JSON.stringify(
          scalerRoleTrustPolicy({
            cluster,
            queueAccountId: QUEUE_ACCOUNT,
            providerMode: 'aws',
            externalId: EXTERNAL_ID,
          }),
        ),
      }),
    );
    await iamB.send(
      new PutRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyName: 'read-queue-depth',
        PolicyDocument: JSON.stringify(
          scalerRolePermissionPolicy(parseQueueUrl(QUEUE_URL)),
        ),
      }),
    );
  }

  async function sendMessages(count: number) {
    for (let start = 0; start < count; start += 10) {
      const n = Math.min(10, count - start);
      await sqsB.send(
        new SendMessageBatchCommand({
          QueueUrl: QUEUE_URL,
          Entries: Array.from({ length: n }, (_, i) => ({
            Id: `m${start + i}`,
            MessageBody: `order ${start + i}`,
          })),
        }),
      );
    }
  }

  function applyWorkload() {
    const { store } = k8s;
    store.create('namespaces', undefined, { metadata: { name: 'payments' } });
    store.create('deployments.apps', 'payments', {
      metadata: {
        name: 'orders',
        labels: { 'backstage.io/kubernetes-id': 'orders' },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'orders' } },
        template: {
          metadata: { labels: { app: 'orders' } },
          spec: { containers: [{ name: 'app', image: 'orders:1.0' }] },
        },
      },
    });
    store.create(
      'triggerauthentications.keda.sh',
      'payments',
      buildTriggerAuthentication({
        metadata: { name: 'orders-sqs', namespace: 'payments' },
        providerMode: 'aws',
        roleArn: SCALER_ROLE_ARN,
        externalId: EXTERNAL_ID,
      }),
    );
    store.create(
      'scaledobjects.keda.sh',
      'payments',
      buildScaledObject({
        metadata: {
          name: 'orders',
          namespace: 'payments',
          labels: { 'backstage.io/kubernetes-id': 'orders' },
        },
        scaleTarget: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'orders',
        },
        minReplicas: 0,
        maxReplicas: 10,
        pollingInterval: 30,
        cooldownPeriod: 300,
        triggerAuthenticationName: 'orders-sqs',
        trigger: {
          name: 'orders-queue',
          queueUrl: QUEUE_URL,
          queueLength: 5,
          activationQueueLength: 0,
          awsRegion: REGION,
          scaleOnInFlight: true,
          scaleOnDelayed: false,
        },
      }),
    );
  }

  const replicas = () =>
    k8s.store.get('deployments.apps', 'payments', 'orders').spec.replicas;
  const scaledObject = () =>
    k8s.store.get('scaledobjects.keda.sh', 'payments', 'orders');
  const condition = (type: string) =>
    scaledObject().status?.conditions?.find((c: any) => c.type === type);
  const events = (reason: string) =>
    k8s.store.list('events', {
      namespace: 'payments',
      fieldSelector: `reason=${reason}`,
    }).items;

  beforeEach(async () => {
    clock = Date.parse('2026-11-28T10:00:00Z');
    // One clock for every part: the AWS stand-in checks the expiry of the
    // tokens the KEDA loop mints against the same time the loop lives in.
    aws = await startAwsStandIn({ port: 0, clock: () => clock });
    k8s = await startKubernetesStandIn({
      port: 0,
      issuerUrl: ISSUER,
      now: () => clock,
    });
    await seedIamChain();
    applyWorkload();
    // KEDA's first poll comes after the objects were created (a ScaledObject
    // is scaled to zero only once its initial cooldown has strictly passed).
    clock += 1000;
    loop = startKedaLoop({
      store: k8s.store,
      issuer: k8s.issuer,
      awsEndpoint: aws.url,
      operatorRoleArn: OPERATOR_ROLE_ARN,
      scaleDownStabilizationSeconds: 0,
      autoStart: false,
      now: () => clock,
    });
  });

  afterEach(async () => {
    loop?.stop();
    [iamA, iamB, sqsB].forEach(c => c?.destroy());
    await k8s.close();
    await aws.close();
  });

  it('scales the Deployment with the queue depth through the cross-account role chain', async () => {
    // Empty queue, minReplicaCount 0: KEDA takes the workload to zero.
    await loop!.reconcileAll();
    expect(replicas()).toBe(0);
    expect(condition('Ready')).toMatchObject({
      status: 'True',
      reason: 'ScaledObjectReady',
    });
    expect(events('KEDAScaleTargetDeactivated')[0].message).toBe(
      'Deactivated apps/v1.Deployment payments/orders from 1 to 0',
    );
    const status = scaledObject().status;
    expect(status).toMatchObject({
      hpaName: 'keda-hpa-orders',
      externalMetricNames: ['s0-aws-sqs-orders'],
      scaleTargetKind: 'apps/v1.Deployment',
      originalReplicaCount: 1,
      health: { 's0-aws-sqs-orders': { numberOfFailures: 0, status: 'Happy' } },
    });
    expect(events('KEDAScalersStarted').map(e => e.message)).toEqual(
      expect.arrayContaining([
        'Scaler aws-sqs-queue is built',
        'Started scalers watch',
      ]),
    );
    const hpa = k8s.store.get(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'keda-hpa-orders',
    );
    expect(hpa.metadata!.labels).toMatchObject({
      'scaledobject.keda.sh/name': 'orders',
      'app.kubernetes.io/managed-by': 'keda-operator',
      'backstage.io/kubernetes-id': 'orders',
    });
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: 'External',
          external: {
            metric: {
              name: 's0-aws-sqs-orders',
              selector: {
                matchLabels: { 'scaledobject.keda.sh/name': 'orders' },
              },
            },
            target: { type: 'AverageValue', averageValue: '5' },
          },
        },
      ],
    });

    // 12 messages: KEDA activates 0 → 1, the HPA sizes to ceil(12/5) = 3.
    await sendMessages(12);
    clock += 30_000;
    await loop!.reconcileAll();
    expect(replicas()).toBe(3);
    expect(condition('Active')).toMatchObject({
      status: 'True',
      reason: 'ScalerActive',
    });
    expect(events('KEDAScaleTargetActivated')[0].message).toBe(
      'Scaled apps/v1.Deployment payments/orders from 0 to 1, triggered by s0-aws-sqs-orders',
    );
    expect(events('SuccessfulRescale')[0].message).toMatch(
      /^New size: 3; reason: external metric s0-aws-sqs-orders/,
    );

    // Next poll: the HPA sees 3 replicas, 12/3 = 4 per replica, no change.
    clock += 30_000;
    await loop!.reconcileAll();
    let hpaStatus = k8s.store.get(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'keda-hpa-orders',
    ).status;
    expect(hpaStatus).toMatchObject({
      currentReplicas: 3,
      desiredReplicas: 3,
      currentMetrics: [
        {
          external: {
            metric: { name: 's0-aws-sqs-orders' },
            current: { averageValue: '4' },
          },
        },
      ],
    });

    // 62 messages want 13 replicas; maxReplicaCount caps at 10.
    await sendMessages(50);
    clock += 30_000;
    await loop!.reconcileAll();
    expect(replicas()).toBe(10);
    hpaStatus = k8s.store.get(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'keda-hpa-orders',
    ).status;
    expect(hpaStatus.conditions).toContainEqual(
      expect.objectContaining({
        type: 'ScalingLimited',
        status: 'True',
        reason: 'TooManyReplicas',
      }),
    );

    // Drained: the HPA goes to its minimum (1) at once; KEDA to 0 after cooldown.
    await sqsB.send(new PurgeQueueCommand({ QueueUrl: QUEUE_URL }));
    clock += 30_000;
    await loop!.reconcileAll();
    expect(replicas()).toBe(1);
    expect(condition('Active')).toMatchObject({
      status: 'False',
      reason: 'ScalerCooldown',
    });
    clock += 301_000;
    await loop!.reconcileAll();
    expect(replicas()).toBe(0);

    // Deleting the ScaledObject removes its HPA.
    k8s.store.delete('scaledobjects.keda.sh', 'payments', 'orders');
    expect(
      k8s.store.find(
        'horizontalpodautoscalers.autoscaling',
        'payments',
        'keda-hpa-orders',
      ),
    ).toBeUndefined();
  });

  it('shows a broken scaler-role trust as Ready=False and KEDAScalerFailed carrying AccessDenied', async () => {
    // The trust no longer names the operator role (another role in A instead).
    await iamA.send(
      new CreateRoleCommand({
        RoleName: 'someone-else',
        AssumeRolePolicyDocument: JSON.stringify(
          operatorRoleTrustPolicy(cluster),
        ),
      }),
    );
    const broken = scalerRoleTrustPolicy({
      cluster: {
        ...cluster,
        operator: { ...cluster.operator, roleName: 'someone-else' },
      },
      queueAccountId: QUEUE_ACCOUNT,
      providerMode: 'aws',
      externalId: EXTERNAL_ID,
    });
    await iamB.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyDocument: JSON.stringify(broken),
      }),
    );
    await sendMessages(7);
    k8s.store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { replicas: 2 } },
      'merge',
    );

    await loop!.reconcileAll();
    expect(replicas()).toBe(2);
    expect(condition('Ready')).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'TriggerError',
      message: 'Triggers defined in ScaledObject are not working correctly',
    });
    const failed = events('KEDAScalerFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'Warning',
      involvedObject: {
        kind: 'ScaledObject',
        name: 'orders',
        namespace: 'payments',
      },
      reportingComponent: 'keda-operator',
    });
    expect(failed[0].message).toContain(
      'operation error SQS: GetQueueAttributes',
    );
    expect(failed[0].message).toContain(
      'operation error STS: AssumeRole, https response error StatusCode: 403',
    );
    expect(failed[0].message).toContain(
      `api error AccessDenied: User: arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/`,
    );
    expect(failed[0].message).toContain(
      `is not authorized to perform: sts:AssumeRole on resource: ${SCALER_ROLE_ARN}`,
    );

    // The next poll fails again (a new RequestID, so a second event) and
    // the health counts consecutive failures, as KEDA's fallback does.
    clock += 30_000;
    await loop!.reconcileAll();
    expect(events('KEDAScalerFailed')).toHaveLength(2);
    expect(scaledObject().status.health['s0-aws-sqs-orders']).toEqual({
      numberOfFailures: 2,
      status: 'Failing',
    });
    const hpaStatus = k8s.store.get(
      'horizontalpodautoscalers.autoscaling',
      'payments',
      'keda-hpa-orders',
    ).status;
    expect(hpaStatus.conditions).toContainEqual(
      expect.objectContaining({
        type: 'ScalingActive',
        status: 'False',
        reason: 'FailedGetExternalMetric',
      }),
    );

    // Repairing the trust heals the ScaledObject on the next poll.
    await iamB.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyDocument: JSON.stringify(
          scalerRoleTrustPolicy({
            cluster,
            queueAccountId: QUEUE_ACCOUNT,
            providerMode: 'aws',
            externalId: EXTERNAL_ID,
          }),
        ),
      }),
    );
    clock += 30_000;
    await loop!.reconcileAll();
    expect(condition('Ready')).toMatchObject({
      status: 'True',
      reason: 'ScaledObjectReady',
    });
    expect(replicas()).toBe(2);
  });

  it('pauses with paused-replicas: scales to that count, removes the HPA, and resumes', async () => {
    await sendMessages(20);
    await loop!.reconcileAll();
    expect(replicas()).toBe(4);
    k8s.store.patch(
      'scaledobjects.keda.sh',
      'payments',
      'orders',
      {
        metadata: {
          annotations: { 'autoscaling.keda.sh/paused-replicas': '2' },
        },
      },
      'merge',
    );
    clock += 30_000;
    await loop!.reconcileAll();
    expect(replicas()).toBe(2);
    expect(condition('Paused')).toMatchObject({
      status: 'True',
      reason: 'ScaledObjectPaused',
    });
    expect(scaledObject().status.pausedReplicaCount).toBe(2);
    expect(
      k8s.store.find(
        'horizontalpodautoscalers.autoscaling',
        'payments',
        'keda-hpa-orders',
      ),
    ).toBeUndefined();
    expect(events('ScaledObjectPaused')).toHaveLength(1);

    k8s.store.patch(
      'scaledobjects.keda.sh',
      'payments',
      'orders',
      {
        metadata: {
          annotations: { 'autoscaling.keda.sh/paused-replicas': null },
        },
      },
      'merge',
    );
    clock += 30_000;
    await loop!.reconcileAll();
    expect(condition('Paused')).toMatchObject({
      status: 'False',
      reason: 'ScaledObjectUnpaused',
    });
    expect(scaledObject().status.pausedReplicaCount).toBeUndefined();
    expect(
      k8s.store.find(
        'horizontalpodautoscalers.autoscaling',
        'payments',
        'keda-hpa-orders',
      ),
    ).toBeDefined();
    expect(replicas()).toBe(4);
  });

  it('reports a missing scale target and a missing TriggerAuthentication as ScaledObjectCheckFailed', async () => {
    k8s.store.delete(
      'triggerauthentications.keda.sh',
      'payments',
      'orders-sqs',
    );
    await loop!.reconcileAll();
    expect(condition('Ready')).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'ScaledObjectCheckFailed',
      message: 'Failed to ensure HPA is correctly created for ScaledObject',
    });
    expect(events('KEDAScalerFailed')[0].message).toBe(
      'error getting TriggerAuthentication orders-sqs: TriggerAuthentication.keda.sh "orders-sqs" not found; awsAccessKeyID not found',
    );

    k8s.store.delete('deployments.apps', 'payments', 'orders');
    clock += 30_000;
    await loop!.reconcileAll();
    expect(condition('Ready')).toMatchObject({
      status: 'False',
      message: "ScaledObject doesn't have correct scaleTargetRef specification",
    });
    expect(events('ScaledObjectCheckFailed')[0].message).toContain(
      "Target resource doesn't exist",
    );
  });

  it('aws-eks reads the role from the workload ServiceAccount and assumes it without ExternalId', async () => {
    await iamB.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyDocument: JSON.stringify(
          scalerRoleTrustPolicy({
            cluster,
            queueAccountId: QUEUE_ACCOUNT,
            providerMode: 'aws-eks',
          }),
        ),
      }),
    );
    k8s.store.create('serviceaccounts', 'payments', {
      metadata: { name: 'orders' },
    });
    k8s.store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { template: { spec: { serviceAccountName: 'orders' } } } },
      'merge',
    );
    k8s.store.update(
      'triggerauthentications.keda.sh',
      'payments',
      'orders-sqs',
      {
        ...k8s.store.get(
          'triggerauthentications.keda.sh',
          'payments',
          'orders-sqs',
        ),
        spec: { podIdentity: { provider: 'aws-eks' } },
      },
    );
    await sendMessages(6);
    await loop!.reconcileAll();
    // Without the annotation KEDA has no role to assume: it uses the
    // operator's own identity, which may not read the queue.
    expect(events('KEDAScalerFailed')[0].message).toContain(
      `assumed-role/keda-operator/`,
    );

    k8s.store.patch(
      'serviceaccounts',
      'payments',
      'orders',
      {
        metadata: {
          annotations: { 'eks.amazonaws.com/role-arn': SCALER_ROLE_ARN },
        },
      },
      'merge',
    );
    clock += 30_000;
    await loop!.reconcileAll();
    expect(condition('Ready')).toMatchObject({ status: 'True' });
    expect(replicas()).toBe(2);
  });

  it('tries the operator web identity on the scaler role first, as KEDA does', async () => {
    // Registering the cluster's OIDC provider in the queue account and
    // trusting the operator's service account lets web identity succeed.
    await iamB.send(
      new CreateOpenIDConnectProviderCommand({
        Url: ISSUER,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      }),
    );
    await iamB.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyDocument: JSON.stringify(
          scalerRoleTrustPolicy({
            cluster,
            queueAccountId: QUEUE_ACCOUNT,
            providerMode: 'aws',
            externalId: EXTERNAL_ID,
            trustOperatorWebIdentity: true,
          }),
        ),
      }),
    );
    await sendMessages(3);
    await loop!.reconcileAll();
    expect(replicas()).toBe(1);
    expect(loop!.identity.cachedRoles()).toEqual({
      [`${SCALER_ROLE_ARN}-${EXTERNAL_ID}-${REGION}`]: 'web-identity',
    });
  });

  it('picks up a ScaledObject applied over HTTP at once and keeps polling on its interval', async () => {
    loop!.stop();
    loop = startKedaLoop({
      store: k8s.store,
      issuer: k8s.issuer,
      awsEndpoint: aws.url,
      operatorRoleArn: OPERATOR_ROLE_ARN,
      scaleDownStabilizationSeconds: 0,
      pollingIntervalOverrideSeconds: 0.2,
    });
    const kc = new k8sClient.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'sandbox', server: k8s.url, skipTLSVerify: true }],
      users: [{ name: 'sandbox', token: k8s.token }],
      contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox' }],
      currentContext: 'sandbox',
    });
    const objects = k8sClient.KubernetesObjectApi.makeApiClient(kc);
    const existing = scaledObject();
    await objects.delete(existing as any);
    await objects.create({
      ...existing,
      metadata: {
        name: 'orders',
        namespace: 'payments',
        labels: existing.metadata!.labels,
      },
      status: undefined,
    } as any);
    const deadline = Date.now() + 15_000;
    const until = async (check: () => boolean) => {
      while (!check()) {
        if (Date.now() > deadline)
          throw new Error('the KEDA loop did not converge before the deadline');
        await new Promise(r => setTimeout(r, 20));
      }
    };
    await until(() => condition('Ready')?.status === 'True');
    expect(replicas()).toBe(0);
    await sendMessages(11);
    await until(() => replicas() === 3);
  });

  it('writes nothing (no resourceVersion, no watch event) when a poll finds nothing changed', async () => {
    await loop!.reconcileAll();
    const before = {
      scaledObject: scaledObject().metadata!.resourceVersion,
      hpa: k8s.store.get(
        'horizontalpodautoscalers.autoscaling',
        'payments',
        'keda-hpa-orders',
      ).metadata!.resourceVersion,
    };
    const seen: string[] = [];
    const watches = [
      'scaledobjects.keda.sh',
      'horizontalpodautoscalers.autoscaling',
      'deployments.apps',
    ].map(type =>
      k8s.store.watch(
        type,
        { resourceVersion: k8s.store.currentRevision() },
        event => seen.push(`${event.type} ${event.object.kind}`),
      ),
    );
    await loop!.reconcileAll();
    await loop!.reconcileAll();
    watches.forEach(w => w.stop());
    expect(seen).toEqual([]);
    expect(scaledObject().metadata!.resourceVersion).toBe(before.scaledObject);
    expect(
      k8s.store.get(
        'horizontalpodautoscalers.autoscaling',
        'payments',
        'keda-hpa-orders',
      ).metadata!.resourceVersion,
    ).toBe(before.hpa);
  });

  it('polls many ScaledObjects with at most maxConcurrentPolls in flight', async () => {
    loop!.stop();
    const count = 12;
    for (let i = 0; i < count; i++) {
      const name = `worker-${i}`;
      k8s.store.create('deployments.apps', 'payments', {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: 'worker:1' }] },
          },
        },
      });
      const so = scaledObject();
      k8s.store.create('scaledobjects.keda.sh', 'payments', {
        metadata: { name },
        spec: { ...so.spec, scaleTargetRef: { name } },
      });
    }
    loop = startKedaLoop({
      store: k8s.store,
      issuer: k8s.issuer,
      awsEndpoint: aws.url,
      operatorRoleArn: OPERATOR_ROLE_ARN,
      maxConcurrentPolls: 2,
      now: () => clock,
    });
    const polled = (i: number) =>
      k8s.store.get('scaledobjects.keda.sh', 'payments', `worker-${i}`).status
        ?.hpaName === `keda-hpa-worker-${i}`;
    const deadline = Date.now() + 30_000;
    while (!Array.from({ length: count }, (_, i) => polled(i)).every(Boolean)) {
      if (Date.now() > deadline) throw new Error('the polls did not all run');
      await new Promise(r => setTimeout(r, 20));
    }
    expect(loop.stats().polls).toBeGreaterThanOrEqual(count + 1);
    expect(loop.stats().maxInFlight).toBe(2);
  });

  it('falls back to fallback.replicas after failureThreshold failures when the scaler role loses its permission', async () => {
    k8s.store.patch(
      'scaledobjects.keda.sh',
      'payments',
      'orders',
      {
        spec: {
          minReplicaCount: 1,
          fallback: { failureThreshold: 2, replicas: 4 },
        },
      },
      'merge',
    );
    await iamB.send(
      new DeleteRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyName: 'read-queue-depth',
      }),
    );
    for (let poll = 1; poll <= 2; poll++) {
      await loop!.reconcileAll();
      expect(replicas()).toBe(1);
      clock += 30_000;
    }
    expect(condition('Fallback')).toMatchObject({
      status: 'False',
      reason: 'NoFallbackFound',
    });
    // With a fallback configured KEDA keeps Ready=True while it falls back.
    expect(condition('Ready')).toMatchObject({ status: 'True' });
    expect(events('KEDAScalerFailed')[0].message).toContain(
      `is not authorized to perform: sqs:GetQueueAttributes on resource: arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`,
    );

    await loop!.reconcileAll();
    expect(replicas()).toBe(4);
    expect(condition('Fallback')).toMatchObject({
      status: 'True',
      reason: 'FallbackExists',
    });
    expect(events('ScaledObjectFallbackActivated')).toHaveLength(1);
    expect(scaledObject().status.health['s0-aws-sqs-orders']).toEqual({
      numberOfFailures: 3,
      status: 'Failing',
    });
  });

  it('resolves a ClusterTriggerAuthentication with identityOwner workload through the ServiceAccount annotation', async () => {
    k8s.store.create('clustertriggerauthentications.keda.sh', undefined, {
      metadata: { name: 'workload-identity' },
      spec: { podIdentity: { provider: 'aws', identityOwner: 'workload' } },
    });
    const so = scaledObject();
    so.spec.triggers[0].authenticationRef = {
      name: 'workload-identity',
      kind: 'ClusterTriggerAuthentication',
    };
    k8s.store.update('scaledobjects.keda.sh', 'payments', 'orders', so);
    k8s.store.create('serviceaccounts', 'payments', {
      metadata: { name: 'orders' },
    });
    k8s.store.patch(
      'deployments.apps',
      'payments',
      'orders',
      { spec: { template: { spec: { serviceAccountName: 'orders' } } } },
      'merge',
    );
    // The scaler role's trust has no ExternalId condition for this mode.
    await iamB.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'keda-sqs-payments-orders',
        PolicyDocument: JSON.stringify(
          scalerRoleTrustPolicy({
            cluster,
            queueAccountId: QUEUE_ACCOUNT,
            providerMode: 'aws',
          }),
        ),
      }),
    );
    await sendMessages(9);
    await loop!.reconcileAll();
    expect(condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'ScaledObjectCheckFailed',
    });
    expect(events('KEDAScalerFailed')[0].message).toBe(
      "error getting service account: 'orders', error: annotation 'eks.amazonaws.com/role-arn' not found on the service account",
    );

    k8s.store.patch(
      'serviceaccounts',
      'payments',
      'orders',
      {
        metadata: {
          annotations: { 'eks.amazonaws.com/role-arn': SCALER_ROLE_ARN },
        },
      },
      'merge',
    );
    clock += 30_000;
    await loop!.reconcileAll();
    expect(condition('Ready')).toMatchObject({ status: 'True' });
    expect(replicas()).toBe(2);
    expect(scaledObject().status.authenticationsTypes).toBe(
      'workload-identity',
    );
  });
});
