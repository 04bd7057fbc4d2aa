import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  type AuthService,
  type BackstageCredentials,
  type SchedulerService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { notificationService } from '@backstage/plugin-notifications-node';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import {
  desiredScalerRole,
  reconcileRole,
} from '@keda-self-service/plugin-keda-node';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import express from 'express';
import Router from 'express-promise-router';
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kedaPlugin } from '../plugin';
import {
  JANE,
  PAT,
  membershipUserInfo,
  policyPermissions,
  SAM,
} from './__testUtils__/policyPermissions';
import {
  EXTERNAL_ID,
  ordersRequest,
  testConfigData,
} from './__testUtils__/requests';
import { startLocalTestBackend } from '@internal/test-backend';
import { DEFAULT_KEDA_TEMPLATES } from '@keda-self-service/plugin-keda-node';

jest.setTimeout(120_000);

/*
 * The approval flow through the real keda plugin in a test backend (bound to
 * 127.0.0.1, mock core services), two
 * backend instances sharing one database. The scaffolder is a stand-in
 * plugin (pluginId `scaffolder`) that accepts `POST /v2/tasks` like the real
 * one and runs the steps of `keda-provision-request` as the task's
 * initiator: keda:request:get → scaler role reconcile against the AWS
 * stand-in (keda-node's reconcileRole, as keda:aws:scaler-role:ensure does)
 * → keda:request:progress. A failing step fails the task without a report,
 * as in the real scaffolder.
 */

const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'orders-worker', namespace: 'default' },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

interface FakeTask {
  id: string;
  initiator: string;
  body: any;
  status: 'processing' | 'completed' | 'failed';
  error?: string;
}

class ScaffolderWorld {
  tasks: FakeTask[] = [];
  schedulers: SchedulerService[] = [];
  notifications: Array<{ recipients: any; payload: any }> = [];
  /** resolves when the gate opens; tasks wait here before their first step */
  gate: Promise<void> = Promise.resolve();
  kedaBaseUrl = '';

  constructor(private readonly aws: AwsStandIn) {}

  hold(): () => void {
    let open!: () => void;
    this.gate = new Promise(r => (open = r));
    return () => open();
  }

  async run(
    task: FakeTask,
    initiator: BackstageCredentials,
    auth: AuthService,
  ) {
    await this.gate;
    const call = async (method: string, url: string, body?: object) => {
      const { token } = await auth.getPluginRequestToken({
        onBehalfOf: initiator,
        targetPluginId: 'keda',
      });
      const res = await fetch(`${this.kedaBaseUrl}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
        },
        body: body && JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${url}: ${json.error?.message}`);
      return json;
    };
    try {
      const id = task.body.values.requestId;
      // keda:request:get
      const record: KedaRequestRecord = await call('GET', `/requests/${id}`);
      // keda:aws:scaler-role:ensure
      const iam = new IAMClient({
        endpoint: this.aws.url,
        region: 'us-east-1',
        credentials: rootCredentialsFor(record.plan.scalerRole.accountId),
        maxAttempts: 1,
      });
      const result = await reconcileRole({
        iam,
        role: desiredScalerRole(record.plan),
      });
      // keda:request:progress
      await call('POST', `/requests/${id}/progress`, {
        state: 'provisioned',
        taskId: task.id,
        roleArns: { scaler: result.arn },
      });
      task.status = 'completed';
    } catch (e) {
      task.status = 'failed';
      task.error = (e as Error).message;
    }
  }

  plugin() {
    // eslint-disable-next-line consistent-this, @typescript-eslint/no-this-alias
    const world = this;
    return createBackendPlugin({
      pluginId: 'scaffolder',
      register(env) {
        env.registerInit({
          deps: {
            httpRouter: coreServices.httpRouter,
            httpAuth: coreServices.httpAuth,
            auth: coreServices.auth,
            scheduler: coreServices.scheduler,
          },
          async init({ httpRouter, httpAuth, auth, scheduler }) {
            world.schedulers.push(scheduler);
            const router = Router();
            router.use(express.json());
            router.post('/v2/tasks', async (req, res) => {
              const credentials = await httpAuth.credentials(req, {
                allow: ['user'],
              });
              const task: FakeTask = {
                id: `task-${world.tasks.length + 1}`,
                initiator: credentials.principal.userEntityRef,
                body: req.body,
                status: 'processing',
              };
              world.tasks.push(task);
              res.status(201).json({ id: task.id });
              void world.run(task, credentials, auth);
            });
            router.get('/v2/tasks/:id', async (req, res) => {
              await httpAuth.credentials(req);
              const task = world.tasks.find(t => t.id === req.params.id);
              if (task) res.json({ id: task.id, status: task.status });
              else res.status(404).json({});
            });
            router.get('/v2/tasks/:id/events', async (req, res) => {
              await httpAuth.credentials(req);
              const task = world.tasks.find(t => t.id === req.params.id);
              res.json(
                task?.status === 'failed'
                  ? [
                      {
                        type: 'completion',
                        body: {
                          message: `Run failed with Error: ${task.error}`,
                          error: { message: task.error },
                        },
                      },
                    ]
                  : [],
              );
            });
            httpRouter.use(router);
          },
        });
      },
    });
  }
}

async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${what}: ${JSON.stringify(value)}`,
      );
    }
    await new Promise(r => setTimeout(r, 50));
  }
}

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const shared: Array<[string]> = [
  ['SQLite file'],
  ...(databases.supports('POSTGRES_15') ? [['POSTGRES_15'] as [string]] : []),
];

describe.each(shared)('approval flow on %s, two backend instances', dbName => {
  let aws: AwsStandIn;
  let dir: string;
  let connect: () => Knex;
  const open: Knex[] = [];

  beforeAll(async () => {
    aws = await startAwsStandIn({ port: 0 });
    const rootA = aws.createAccount('111111111111');
    aws.createAccount('222222222222');
    // The scaler role trusts the operator role, which must exist first.
    await new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootA,
    }).send(
      new CreateRoleCommand({
        RoleName: 'keda-operator-prod-eu',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111111111111:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    if (dbName === 'POSTGRES_15') {
      const first = await databases.init('POSTGRES_15');
      const config = (first.client as any).config;
      connect = () => knexFactory({ ...config });
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-flow-'));
      connect = () =>
        knexFactory({
          client: 'better-sqlite3',
          connection: { filename: path.join(dir, 'keda.sqlite') },
          useNullAsDefault: true,
        });
    }
  });

  afterAll(async () => {
    await Promise.all(open.map(k => k.destroy()));
    await aws.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function backend(world: ScaffolderWorld, allowSelfApproval = false) {
    const knex = connect();
    open.push(knex);
    const instance = await startLocalTestBackend({
      config: {
        ...testConfigData,
        keda: {
          ...testConfigData.keda,
          approvals: { ...testConfigData.keda.approvals, allowSelfApproval },
        },
      },
      features: [
        kedaPlugin,
        world.plugin(),
        mockServices.database.factory({ knex }),
        catalogServiceMock.factory({ entities: [ORDERS] }),
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
          factory: () => ({
            send: async (n: any) => {
              world.notifications.push(n);
            },
          }),
        }),
      ],
    });
    const api = (user: string) => ({
      get: async (url: string) => {
        const res = await fetch(`${instance.baseUrl}/api/keda${url}`, {
          headers: { authorization: mockCredentials.user.header(user) },
        });
        return { status: res.status, body: await res.json() };
      },
      post: async (url: string, body: object = {}) => {
        const res = await fetch(`${instance.baseUrl}/api/keda${url}`, {
          method: 'POST',
          headers: {
            authorization: mockCredentials.user.header(user),
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      },
    });
    return { instance, api, baseUrl: `${instance.baseUrl}/api/keda` };
  }

  const createRequest = async (
    api: (user: string) => { post: (u: string, b?: object) => Promise<any> },
    overrides: Parameters<typeof ordersRequest>[0] = {},
  ): Promise<KedaRequestRecord> => {
    const res = await api(JANE).post('/requests', {
      request: ordersRequest(overrides),
      externalId: EXTERNAL_ID,
      pullRequest: {
        url: 'https://github.com/acme/gitops/pull/7',
        number: 7,
        repoUrl: 'github.com?owner=acme&repo=gitops',
      },
    });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('request → approve → provisioning task as the approver → provisioned with role ARNs', async () => {
    const world = new ScaffolderWorld(aws);
    const a = await backend(world);
    world.kedaBaseUrl = a.baseUrl;
    try {
      const record = await createRequest(a.api);
      expect(record.state).toBe('pending');
      expect(world.notifications[0].recipients.entityRef).toEqual([
        'group:default/platform-team',
      ]);

      const approved = await a.api(PAT).post(`/requests/${record.id}/approve`, {
        comment: 'ok for prod',
      });
      expect(approved.status).toBe(200);
      expect(world.tasks).toHaveLength(1);
      expect(world.tasks[0]).toMatchObject({
        initiator: PAT,
        body: {
          templateRef: DEFAULT_KEDA_TEMPLATES.provisioning,
          values: { requestId: record.id },
        },
      });
      expect(approved.body.provisioning.taskUrl).toBe('/create/tasks/task-1');

      const done = await until(
        async () => (await a.api(JANE).get(`/requests/${record.id}`)).body,
        r => r.state !== 'provisioning' && r.state !== 'approved',
        'the provisioning task',
      );
      expect(done.state).toBe('provisioned');
      expect(done.provisioning.roleArns.scaler).toBe(
        record.plan.scalerRole.arn,
      );
      expect(record.plan.scalerRole.arn).toMatch(
        /^arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-.*orders-worker-[0-9a-f]{8}$/,
      );
      // The task reported as the approver it ran for.
      expect(done.decisions.map((d: any) => [d.actor, d.decision])).toEqual([
        [JANE, 'created'],
        [PAT, 'approved'],
        [PAT, 'provisioning'],
        [PAT, 'provisioned'],
      ]);
      const role = await new IAMClient({
        endpoint: aws.url,
        region: 'us-east-1',
        credentials: rootCredentialsFor('222222222222'),
      }).send(new GetRoleCommand({ RoleName: record.plan.scalerRole.name }));
      const trust = JSON.parse(
        decodeURIComponent(role.Role!.AssumeRolePolicyDocument!),
      );
      expect(JSON.stringify(trust)).toContain(
        'arn:aws:iam::111111111111:role/keda-operator',
      );
      expect(JSON.stringify(trust)).toContain(EXTERNAL_ID);
      expect(
        world.notifications.map(n => [n.recipients.entityRef, n.payload.title]),
      ).toEqual([
        [
          ['group:default/platform-team'],
          expect.stringMatching(/awaits approval/),
        ],
        [[JANE], expect.stringMatching(/approved/)],
        [[JANE], expect.stringMatching(/provisioned/)],
      ]);
    } finally {
      await a.instance.stop();
    }
  });

  it('two approvers on two instances at once: one decision, one task, one 409', async () => {
    const world = new ScaffolderWorld(aws);
    const release = world.hold();
    const a = await backend(world);
    const b = await backend(world);
    world.kedaBaseUrl = a.baseUrl;
    try {
      const record = await createRequest(a.api, {
        workload: { kind: 'Deployment', name: 'race-worker' },
      });
      const [fromA, fromB] = await Promise.all([
        a.api(PAT).post(`/requests/${record.id}/approve`),
        b.api(SAM).post(`/requests/${record.id}/approve`),
      ]);
      expect([fromA.status, fromB.status].sort()).toEqual([200, 409]);
      const loser = fromA.status === 409 ? fromA : fromB;
      expect(loser.body.error.name).toBe('ConflictError');
      expect(world.tasks).toHaveLength(1);
      release();
      const done = await until(
        async () => (await b.api(JANE).get(`/requests/${record.id}`)).body,
        r => r.state === 'provisioned' || r.state === 'failed',
        'the provisioning task',
      );
      expect(done.state).toBe('provisioned');
      expect(
        done.decisions.filter((d: any) => d.decision === 'approved'),
      ).toHaveLength(1);
    } finally {
      await a.instance.stop();
      await b.instance.stop();
    }
  });

  it('rejection: no task, the requester is told why', async () => {
    const world = new ScaffolderWorld(aws);
    const a = await backend(world);
    try {
      const record = await createRequest(a.api, {
        workload: { kind: 'Deployment', name: 'rejected-worker' },
      });
      const res = await a.api(PAT).post(`/requests/${record.id}/reject`, {
        comment: 'use the shared queue',
      });
      expect(res.body.state).toBe('rejected');
      expect(world.tasks).toHaveLength(0);
      expect(world.notifications.at(-1)).toMatchObject({
        recipients: { entityRef: [JANE] },
        payload: { description: `${PAT}: use the shared queue` },
      });
      const again = await a.api(SAM).post(`/requests/${record.id}/approve`);
      expect(again.status).toBe(409);
    } finally {
      await a.instance.stop();
    }
  });

  it('a failed task is recorded with its error, and a retry provisions', async () => {
    const world = new ScaffolderWorld(aws);
    const a = await backend(world);
    world.kedaBaseUrl = a.baseUrl;
    try {
      // Account 333333333333 does not exist yet in the AWS stand-in.
      const record = await createRequest(a.api, {
        workload: { kind: 'Deployment', name: 'billing-worker' },
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/333333333333/billing',
        maxReplicas: 5,
      });
      expect(record.state).toBe('pending');
      await a.api(PAT).post(`/requests/${record.id}/approve`);
      await until(
        async () => world.tasks[0].status,
        s => s !== 'processing',
        'the task to end',
      );
      expect(world.tasks[0].status).toBe('failed');
      // The scheduled job notices the task ended without a report.
      await world.schedulers[0].triggerTask('keda-requests-provisioning-tasks');
      const failed = await until(
        async () => (await a.api(PAT).get(`/requests/${record.id}`)).body,
        r => r.state === 'failed',
        'the failure to be recorded',
      );
      // The task's own failure message, as the step reported it.
      expect(failed.provisioning.error).toMatch(
        /iam:GetRole .* in account 333333333333.*InvalidClientTokenId/,
      );
      expect(failed.decisions.at(-1)).toMatchObject({
        actor: 'policy',
        decision: 'failed',
        comment: expect.stringContaining('task task-1 failed'),
      });
      expect(world.notifications.at(-1)).toMatchObject({
        recipients: { entityRef: [JANE, 'group:default/platform-team'] },
        payload: { severity: 'high' },
      });

      aws.createAccount('333333333333');
      const retried = await a.api(PAT).post(`/requests/${record.id}/retry`);
      expect(retried.status).toBe(200);
      expect(world.tasks).toHaveLength(2);
      const done = await until(
        async () => (await a.api(PAT).get(`/requests/${record.id}`)).body,
        r => r.state === 'provisioned' || r.state === 'failed',
        'the retried task',
      );
      expect(done.state).toBe('provisioned');
      expect(done.provisioning.error).toBeUndefined();
      expect(done.decisions.map((d: any) => d.decision)).toEqual([
        'created',
        'approved',
        'provisioning',
        'failed',
        'retried',
        'provisioning',
        'provisioned',
      ]);
    } finally {
      await a.instance.stop();
    }
  });

  it('survives a backend restart between approval and the task report', async () => {
    const world = new ScaffolderWorld(aws);
    const release = world.hold();
    const first = await backend(world);
    const record = await createRequest(first.api, {
      workload: { kind: 'Deployment', name: 'restart-worker' },
    });
    await first.api(PAT).post(`/requests/${record.id}/approve`);
    await first.instance.stop();

    const second = await backend(world);
    world.kedaBaseUrl = second.baseUrl;
    try {
      const after = (await second.api(JANE).get(`/requests/${record.id}`)).body;
      expect(after.state).toBe('provisioning');
      expect(after.provisioning.taskId).toBe('task-1');
      expect(after.decisions.map((d: any) => d.decision)).toEqual([
        'created',
        'approved',
        'provisioning',
      ]);
      release();
      const done = await until(
        async () => (await second.api(JANE).get(`/requests/${record.id}`)).body,
        r => r.state === 'provisioned' || r.state === 'failed',
        'the task report after the restart',
      );
      expect(done.state).toBe('provisioned');
    } finally {
      await second.instance.stop();
    }
  });
});
