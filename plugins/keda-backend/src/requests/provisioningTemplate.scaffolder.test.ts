import {
  CreateOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  type SchedulerService,
} from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { notificationService } from '@backstage/plugin-notifications-node';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import {
  OPERATOR_PERMISSION_POLICY_NAME,
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  STS_AUDIENCE,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  desiredOperatorRole,
  readKedaConfig,
  reconcileRole,
} from '@keda-self-service/plugin-keda-node';
import scaffolderModuleKeda from '@keda-self-service/plugin-scaffolder-backend-module-keda';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import { kedaPlugin } from '../plugin';
import { startLocalTestBackend } from '@internal/test-backend';
import {
  BOB,
  JANE,
  PAT,
  membershipUserInfo,
  policyPermissions,
} from './__testUtils__/policyPermissions';
import {
  EXTERNAL_ID,
  ordersRequest,
  testConfigData,
} from './__testUtils__/requests';

jest.setTimeout(180_000);

/*
 * Approval through the REAL scaffolder backend: the keda plugin starts
 * templates/keda-provision-request as the approver, the scaffolder runs the
 * keda module's actions (keda:request:get → keda:aws:scaler-role:ensure →
 * keda:request:progress; the PR step is skipped, this request has no PR)
 * under the portal's permission policy, the role lands in the AWS stand-in
 * (reached through AWS_ENDPOINT_URL and aws.accounts, as a portal reaches
 * AWS), and the request ends provisioned with the role's ARN.
 */

const TEMPLATE_FILE = path.resolve(
  __dirname,
  '../../../../templates/keda-provision-request/template.yaml',
);

function templateEntity(): Entity {
  const entity = yaml.parse(fs.readFileSync(TEMPLATE_FILE, 'utf8'));
  entity.metadata.namespace = 'default';
  entity.metadata.annotations = {
    'backstage.io/managed-by-location': `file:${TEMPLATE_FILE}`,
    'backstage.io/managed-by-origin-location': `file:${TEMPLATE_FILE}`,
  };
  return entity;
}

const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'orders-worker', namespace: 'default' },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

describe('approval → keda-provision-request on the real scaffolder', () => {
  let aws: AwsStandIn;
  let backend: Awaited<ReturnType<typeof startLocalTestBackend>>;
  let scheduler: SchedulerService | undefined;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  const iam = (account: string) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(account),
    });

  beforeAll(async () => {
    aws = await startAwsStandIn({ port: 0, logger: () => {} });
    aws.createAccount('111111111111');
    aws.createAccount('222222222222');
    const config = {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl: 'http://127.0.0.1',
        listen: { host: '127.0.0.1', port: 0 },
      },
      aws: {
        accounts: ['111111111111', '222222222222'].map(accountId => ({
          accountId,
          ...rootCredentialsFor(accountId),
        })),
      },
      keda: {
        ...testConfigData.keda,
        // As in app-config.yaml: the OIDC issuer comes from eks:DescribeCluster.
        clusters: testConfigData.keda.clusters.map(
          ({ oidcIssuer: _, ...cluster }) => cluster,
        ),
      },
    };

    // Onboarding first: the OIDC provider and the operator role the scaler
    // role trusts (keda-cluster-onboarding does this in a portal).
    const keda = readKedaConfig(new ConfigReader(config));
    const spec = {
      ...clusterSpecOf(keda.clusters[0]),
      oidcIssuer: testConfigData.keda.clusters[0].oidcIssuer,
    };
    aws.createEksCluster({
      accountId: spec.accountId,
      region: spec.region,
      name: spec.name,
      oidcIssuer: spec.oidcIssuer,
    });
    await iam('111111111111').send(
      new CreateOpenIDConnectProviderCommand({
        Url: spec.oidcIssuer,
        ClientIDList: [STS_AUDIENCE],
        ThumbprintList: [],
      }),
    );
    await reconcileRole({
      iam: iam('111111111111'),
      role: desiredOperatorRole(spec, {
        name: spec.operator.roleName,
        path: spec.operator.rolePath ?? '/',
        arn: operatorRoleArn(spec),
        accountId: spec.accountId,
        trustPolicy: operatorRoleTrustPolicy(spec),
        permissionPolicy: operatorRolePermissionPolicy({
          cluster: spec,
          queueAccountIds: keda.guardrails.allowedQueueAccounts,
          scalerRolePath: keda.roles.path,
          scalerRoleNamePrefix: keda.roles.namePrefix,
        }),
        permissionPolicyName: OPERATOR_PERMISSION_POLICY_NAME,
      }),
    });

    process.env.AWS_ENDPOINT_URL = aws.url;
    backend = await startLocalTestBackend({
      config,
      features: [
        kedaPlugin,
        createBackendPlugin({
          pluginId: 'probe',
          register(env) {
            env.registerInit({
              deps: { s: coreServices.scheduler },
              async init({ s }) {
                scheduler = s;
              },
            });
          },
        }),
        scaffolderPlugin,
        scaffolderModuleKeda,
        catalogServiceMock.factory({ entities: [ORDERS, templateEntity()] }),
        createServiceFactory({
          service: coreServices.permissions,
          deps: {},
          factory: () => policyPermissions(),
        }),
        createServiceFactory({
          service: coreServices.userInfo,
          deps: {},
          factory: () => membershipUserInfo() as any,
        }),
        createServiceFactory({
          service: notificationService,
          deps: {},
          factory: () => ({ send: async () => {} }),
        }),
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await aws?.close();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  });

  const call = async (
    user: string,
    method: string,
    url: string,
    body?: object,
  ) => {
    const res = await fetch(`${backend.baseUrl}/api${url}`, {
      method,
      headers: {
        authorization: mockCredentials.user.header(user),
        'content-type': 'application/json',
      },
      body: body && JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  async function taskEnded(taskId: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const task = await call(PAT, 'GET', `/scaffolder/v2/tasks/${taskId}`);
      if (['completed', 'failed', 'cancelled'].includes(task.body.status)) {
        return task;
      }
      if (Date.now() > deadline)
        throw new Error(`task still ${task.body.status}`);
      await new Promise(r => setTimeout(r, 100));
    }
  }

  async function settled(id: string): Promise<KedaRequestRecord> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { body } = await call(JANE, 'GET', `/keda/requests/${id}`);
      if (body.state === 'provisioned' || body.state === 'failed') return body;
      if (Date.now() > deadline) {
        throw new Error(`request still ${body.state}: ${JSON.stringify(body)}`);
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }

  it('provisions the scaler role in a scaffolder task owned by the approver', async () => {
    const created = await call(JANE, 'POST', '/keda/requests', {
      request: ordersRequest(),
      externalId: EXTERNAL_ID,
    });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe('pending');
    // Discovered with eks:DescribeCluster, not configured.
    expect(created.body.plan.cluster.oidcIssuer).toBe(
      testConfigData.keda.clusters[0].oidcIssuer,
    );

    const approved = await call(
      PAT,
      'POST',
      `/keda/requests/${created.body.id}/approve`,
    );
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('provisioning');
    const taskId = approved.body.provisioning.taskId;

    const done = await settled(created.body.id);
    expect(done.provisioning?.error).toBeUndefined();
    expect(done.state).toBe('provisioned');
    expect(done.provisioning?.roleArns?.scaler).toBe(
      created.body.plan.scalerRole.arn,
    );
    // One role per workload identity: a readable name plus a hash of it.
    expect(created.body.plan.scalerRole.name).toMatch(
      /^keda-sqs-prod-eu-shop-.*orders-worker-[0-9a-f]{8}$/,
    );
    // The template passes the role chain's verification on to the record.
    const verification = done.provisioning?.verification;
    expect(verification?.checks.map(c => c.check)).toContain(
      'simulate-scaler-permissions',
    );
    expect(verification?.ok).toBe(
      verification?.checks.every(c => c.outcome !== 'fail'),
    );
    // keda:request:progress reported as the task's initiator, the approver.
    expect(done.decisions.at(-1)).toMatchObject({
      actor: PAT,
      decision: 'provisioned',
    });

    // The report is the last keda step; the task completes right after it.
    const task = await taskEnded(taskId);
    expect(task.body.status).toBe('completed');
    expect(task.body.spec.user.ref).toBe(PAT);
    expect(task.body.spec.templateInfo.entityRef).toBe(
      'template:default/keda-provision-request',
    );

    const role = await iam('222222222222').send(
      new GetRoleCommand({ RoleName: created.body.plan.scalerRole.name }),
    );
    const tags = Object.fromEntries(
      (role.Role?.Tags ?? []).map(t => [t.Key, t.Value]),
    );
    expect(Object.values(tags)).toContain(created.body.id);
  });

  it('starts exactly one task, and only for an approver', async () => {
    const created = await call(JANE, 'POST', '/keda/requests', {
      request: ordersRequest({
        workload: { kind: 'Deployment', name: 'other-worker' },
      }),
      externalId: EXTERNAL_ID,
    });
    const tasksFor = async (id: string) =>
      (await call(PAT, 'GET', '/scaffolder/v2/tasks')).body.tasks.filter(
        (t: any) => t.spec.parameters?.requestId === id,
      );
    const denied = await call(
      BOB,
      'POST',
      `/keda/requests/${created.body.id}/approve`,
    );
    expect(denied.status).toBe(403);
    expect(await tasksFor(created.body.id)).toEqual([]);
    const approved = await call(
      PAT,
      'POST',
      `/keda/requests/${created.body.id}/approve`,
    );
    expect(approved.status).toBe(200);
    const again = await call(
      PAT,
      'POST',
      `/keda/requests/${created.body.id}/approve`,
    );
    expect(again.status).toBe(409);
    expect((await tasksFor(created.body.id)).map((t: any) => t.id)).toEqual([
      approved.body.provisioning.taskId,
    ]);
    expect((await settled(created.body.id)).state).toBe('provisioned');
  });

  it('records the error of a failed task (read back from the scaffolder) and offers a retry', async () => {
    // No aws.accounts entry for 333333333333: the ensure step fails.
    const created = await call(JANE, 'POST', '/keda/requests', {
      request: ordersRequest({
        workload: { kind: 'Deployment', name: 'billing-worker' },
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/333333333333/billing',
        maxReplicas: 5,
      }),
      externalId: EXTERNAL_ID,
    });
    const approved = await call(
      PAT,
      'POST',
      `/keda/requests/${created.body.id}/approve`,
    );
    const taskId = approved.body.provisioning.taskId;
    expect((await taskEnded(taskId)).body.status).toBe('failed');
    expect(
      (await call(PAT, 'GET', `/keda/requests/${created.body.id}`)).body.state,
    ).toBe('provisioning');

    await scheduler!.triggerTask('keda-requests-provisioning-tasks');
    const failed = await settled(created.body.id);
    expect(failed.state).toBe('failed');
    // The step's own message, as the scaffolder's completion event has it.
    expect(failed.provisioning?.error).toMatch(
      /Could not load credentials from any providers/,
    );
    expect(failed.decisions.at(-1)?.comment).toContain(`task ${taskId} failed`);
    const retry = await call(
      PAT,
      'POST',
      `/keda/requests/${created.body.id}/retry`,
    );
    expect(retry.status).toBe(200);
    expect(retry.body.provisioning.taskId).not.toBe(taskId);
  });
});
