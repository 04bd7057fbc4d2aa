import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import request from 'supertest';
import { BOB, JANE, PAT, SAM } from './__testUtils__/policyPermissions';
import {
  APPROVER_GROUP,
  EXTERNAL_ID,
  ordersRequest,
} from './__testUtils__/requests';
import { startRequestsApp } from './__testUtils__/requestsApp';
import { APPROVED_WITHOUT_TASK_TIMEOUT_MS } from './KedaRequestService';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function harness(
  options: { allowSelfApproval?: boolean; now?: () => number } = {},
) {
  const {
    app,
    store,
    service,
    launcher,
    launches,
    notifications,
    signals,
    auditEvents,
  } = await startRequestsApp(databases, options);

  const as = (user: string) => ({
    get: (url: string) =>
      request(app)
        .get(url)
        .set('authorization', mockCredentials.user.header(user)),
    post: (url: string, body: object = {}) =>
      request(app)
        .post(url)
        .set('authorization', mockCredentials.user.header(user))
        .send(body),
  });

  /** A request by `requester` (needs approval unless maxReplicas ≤ 10). */
  const create = async (
    requester = JANE,
    overrides: Parameters<typeof ordersRequest>[0] = {},
  ): Promise<KedaRequestRecord> => {
    const res = await as(requester).post('/requests', {
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

  return {
    app,
    as,
    create,
    store,
    service,
    launcher,
    launches,
    notifications,
    signals,
    auditEvents,
  };
}

describe('request API', () => {
  describe('create', () => {
    it('recomputes the plan and ignores one sent by the client', async () => {
      const { as } = await harness();
      const res = await as(JANE).post('/requests', {
        request: ordersRequest(),
        externalId: EXTERNAL_ID,
        plan: { scalerRole: { arn: 'arn:aws:iam::222222222222:role/admin' } },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        requester: JANE,
        owner: 'group:default/team-orders',
        state: 'pending',
        autoApproved: false,
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
        decisions: [{ actor: JANE, decision: 'created' }],
      });
      expect(res.body.plan.scalerRole.arn).toMatch(
        /^arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-.*orders-worker-[0-9a-f]{8}$/,
      );
      expect(res.body.plan.scalerRole.externalId).toBe(EXTERNAL_ID);
      // The record id is stamped into the plan's manifests.
      expect(res.body.plan.request.requestId).toBe(res.body.id);
      expect(res.body.approvalReasons.join(' ')).toMatch(/maxReplicas 20/);
    });

    it('auto-approves inside the guardrails and still records the decision', async () => {
      const { as, notifications } = await harness();
      const res = await as(JANE).post('/requests', {
        request: ordersRequest({ maxReplicas: 5 }),
        externalId: EXTERNAL_ID,
        taskId: 'requester-task',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        state: 'provisioning',
        autoApproved: true,
        approvalReasons: [],
        provisioning: {
          taskId: 'requester-task',
          taskUrl: '/create/tasks/requester-task',
        },
      });
      expect(res.body.decisions.map((d: any) => [d.actor, d.decision])).toEqual(
        [
          [JANE, 'created'],
          ['policy', 'auto-approved'],
        ],
      );
      expect(notifications.send).not.toHaveBeenCalled();
    });

    it('answers a re-run of the same task with the existing record', async () => {
      const { as, store } = await harness();
      const body = {
        request: ordersRequest(),
        externalId: EXTERNAL_ID,
        taskId: 'task-abc',
      };
      const first = await as(JANE).post('/requests', body);
      const second = await as(JANE).post('/requests', body);
      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      expect(await store.list()).toHaveLength(1);
    });

    it('names every guardrail a request breaks', async () => {
      const { as } = await harness();
      const res = await as(JANE).post('/requests', {
        request: ordersRequest({
          maxReplicas: 60,
          queueUrl: 'https://sqs.eu-west-1.amazonaws.com/999999999999/orders',
        }),
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(
        /request\.maxReplicas: maxReplicas 60/,
      );
      expect(res.body.error.message).toMatch(
        /request\.queueUrl: Queue account 999999999999/,
      );
    });

    it('rejects an unknown cluster and an entity the caller cannot see', async () => {
      const { as } = await harness();
      const cluster = await as(JANE).post('/requests', {
        request: ordersRequest({ cluster: 'nowhere' }),
      });
      expect(cluster.status).toBe(400);
      expect(cluster.body.error.message).toMatch(
        /request\.cluster: "nowhere" is not a configured cluster; choose one of prod-eu/,
      );
      const entity = await as(JANE).post('/requests', {
        request: ordersRequest({ entityRef: 'component:default/secret' }),
      });
      expect(entity.status).toBe(400);
      expect(entity.body.error.message).toMatch(/was not found in the catalog/);
    });

    it('notifies the approvers of a request that needs approval', async () => {
      const { create, notifications, auditEvents } = await harness();
      const record = await create();
      expect(notifications.send).toHaveBeenCalledWith({
        recipients: {
          type: 'entity',
          entityRef: [APPROVER_GROUP],
          excludeEntityRef: JANE,
        },
        payload: expect.objectContaining({
          title: expect.stringContaining('awaits approval'),
          link: `/keda/requests/${record.id}`,
        }),
      });
      expect(auditEvents).toEqual([
        { eventId: 'request-create', outcome: 'success' },
      ]);
    });
  });

  type Harness = Awaited<ReturnType<typeof harness>>;

  describe('permission matrix (the portal policy)', () => {
    // Each cell: a fresh request by JANE in the state the operation needs.
    type Op =
      | 'create'
      | 'read'
      | 'approve'
      | 'reject'
      | 'withdraw'
      | 'provision'
      | 'retry'
      | 'decommission';
    const matrix: Record<Op, Record<string, number>> = {
      // BOB is in team-billing: orders-worker belongs to team-orders.
      create: { [JANE]: 201, [BOB]: 403, [PAT]: 201 },
      read: { [JANE]: 200, [BOB]: 200, [PAT]: 200 },
      approve: { [JANE]: 403, [BOB]: 403, [PAT]: 200 },
      reject: { [JANE]: 403, [BOB]: 403, [PAT]: 200 },
      withdraw: { [JANE]: 200, [BOB]: 403, [PAT]: 403 },
      provision: { [JANE]: 403, [BOB]: 403, [PAT]: 200 },
      retry: { [JANE]: 403, [BOB]: 403, [PAT]: 200 },
      decommission: { [JANE]: 200, [BOB]: 403, [PAT]: 200 },
    };
    const cells = Object.entries(matrix).flatMap(([op, row]) =>
      Object.entries(row).map(
        ([user, status]) => [op as Op, user, status] as const,
      ),
    );

    /** Performs `op` as `user` on a fresh request of JANE's; returns the response. */
    const perform: Record<
      Op,
      (h: Harness, user: string) => Promise<request.Response>
    > = {
      create: (h, user) =>
        h.as(user).post('/requests', {
          request: ordersRequest(),
          externalId: EXTERNAL_ID,
        }),
      read: async (h, user) => {
        const record = await h.create();
        const list = await h.as(user).get('/requests');
        expect(list.body.items.map((r: any) => r.id)).toEqual([record.id]);
        return h.as(user).get(`/requests/${record.id}`);
      },
      approve: async (h, user) => {
        const record = await h.create();
        return h.as(user).post(`/requests/${record.id}/approve`, {
          comment: 'fine',
        });
      },
      reject: async (h, user) => {
        const record = await h.create();
        return h.as(user).post(`/requests/${record.id}/reject`, {
          comment: 'use the shared queue',
        });
      },
      withdraw: async (h, user) => {
        const record = await h.create();
        return h.as(user).post(`/requests/${record.id}/withdraw`);
      },
      provision: async (h, user) => {
        const record = await h.create();
        const approved = await h.as(PAT).post(`/requests/${record.id}/approve`);
        expect(approved.body.state).toBe('provisioning');
        return h.as(user).post(`/requests/${record.id}/progress`, {
          state: 'provisioned',
          taskId: 'task-1',
          roleArns: { scaler: record.plan.scalerRole.arn },
        });
      },
      retry: async (h, user) => {
        const record = await h.create();
        await h.as(PAT).post(`/requests/${record.id}/approve`);
        const failed = await h.as(PAT).post(`/requests/${record.id}/progress`, {
          state: 'failed',
          taskId: 'task-1',
          error: 'AccessDenied: iam:CreateRole',
        });
        expect(failed.body.state).toBe('failed');
        return h.as(user).post(`/requests/${record.id}/retry`);
      },
      decommission: async (h, user) => {
        const record = await h.create();
        await h.as(PAT).post(`/requests/${record.id}/approve`);
        const done = await h.as(PAT).post(`/requests/${record.id}/progress`, {
          state: 'provisioned',
          taskId: 'task-1',
        });
        expect(done.body.state).toBe('provisioned');
        return h.as(user).post(`/requests/${record.id}/decommission`, {
          comment: 'queue retired',
        });
      },
    };
    // Provisioning tasks started: by the setup's approval, plus one when the
    // cell's own approve or retry is allowed.
    const setupLaunches: Record<Op, number> = {
      create: 0,
      read: 0,
      approve: 0,
      reject: 0,
      withdraw: 0,
      provision: 1,
      retry: 1,
      decommission: 1,
    };

    it.each(cells)('%s as %s → %i', async (op, user, expected) => {
      const h = await harness();
      const res = await perform[op](h, user);
      expect(res.status).toBe(expected);
      expect(res.body.error?.name ?? 'ok').toBe(
        expected === 403 ? 'NotAllowedError' : 'ok',
      );
      const allowedLaunch =
        (op === 'approve' || op === 'retry') && expected === 200 ? 1 : 0;
      expect(h.launcher.start).toHaveBeenCalledTimes(
        setupLaunches[op] + allowedLaunch,
      );
      const requesters = (await h.store.list()).map(r => r.requester);
      const recordedBy = expected === 201 ? [user] : [];
      expect(requesters).toEqual(op === 'create' ? recordedBy : [JANE]);
    });

    it('lets the requester report provisioning of their own auto-approved request only', async () => {
      const h = await harness();
      const auto = await h.create(JANE, { maxReplicas: 5 });
      const bob = await h.as(BOB).post(`/requests/${auto.id}/progress`, {
        state: 'provisioned',
      });
      expect(bob.status).toBe(403);
      const jane = await h.as(JANE).post(`/requests/${auto.id}/progress`, {
        state: 'provisioned',
        roleArns: { scaler: auto.plan.scalerRole.arn },
      });
      expect(jane.status).toBe(200);
      expect(jane.body.state).toBe('provisioned');
    });

    it('stores the verification a progress report carries and returns it with the request', async () => {
      const h = await harness();
      const record = await h.create();
      await h.as(PAT).post(`/requests/${record.id}/approve`);
      const verification = {
        ok: false,
        checks: [
          {
            check: 'simulate-scaler-permissions',
            subject: record.plan.scalerRole.arn,
            outcome: 'fail',
            detail: 'sqs:GetQueueAttributes implicitDeny',
          },
          {
            check: 'access-analyzer-validate-policy',
            subject: 'scaler permissions policy',
            outcome: 'warning',
            detail: 'could not run: missing access-analyzer:ValidatePolicy',
          },
        ],
      };
      const tooMany = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'failed',
        taskId: 'task-1',
        error: 'role chain verification failed',
        verification: {
          ok: true,
          checks: Array.from({ length: 51 }, () => ({
            ...verification.checks[1],
          })),
        },
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.message).toContain(
        'verification.checks: at most 50 checks',
      );
      const inconsistent = await h
        .as(PAT)
        .post(`/requests/${record.id}/progress`, {
          state: 'failed',
          taskId: 'task-1',
          error: 'role chain verification failed',
          verification: { ...verification, ok: true },
        });
      expect(inconsistent.status).toBe(400);
      expect(inconsistent.body.error.message).toContain('verification.ok');
      expect((await h.store.get(record.id))?.state).toBe('provisioning');

      const failed = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'failed',
        taskId: 'task-1',
        error: 'role chain verification failed',
        verification,
      });
      expect(failed.status).toBe(200);
      const read = await h.as(PAT).get(`/requests/${record.id}`);
      expect(read.body.provisioning.verification).toEqual(verification);

      // the retry's run reports provisioned without one: the old one goes
      await h.as(PAT).post(`/requests/${record.id}/retry`);
      const done = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'provisioned',
        taskId: 'task-2',
      });
      expect(done.body.state).toBe('provisioned');
      expect(done.body.provisioning.verification).toBeUndefined();
    });

    it('does not let a platform engineer approve their own request unless configured', async () => {
      const strict = await harness();
      const own = await strict.create(PAT);
      const res = await strict.as(PAT).post(`/requests/${own.id}/approve`);
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(
        /keda.approvals.allowSelfApproval/,
      );
      expect(
        (await strict.as(SAM).post(`/requests/${own.id}/approve`)).status,
      ).toBe(200);

      const relaxed = await harness({ allowSelfApproval: true });
      const mine = await relaxed.create(PAT);
      expect(
        (await relaxed.as(PAT).post(`/requests/${mine.id}/approve`)).status,
      ).toBe(200);
    });

    it('offers approve to another approver only while self-approval is off', async () => {
      const actionsOf = async (h: Harness, user: string, id: string) => {
        const one = await h.as(user).get(`/requests/${id}`);
        const list = await h.as(user).get('/requests');
        const listed = list.body.items.find((r: any) => r.id === id);
        // the list and the single read agree
        expect(listed.allowedActions).toEqual(one.body.allowedActions);
        return one.body.allowedActions;
      };
      const strict = await harness();
      const own = await strict.create(PAT);
      expect(await actionsOf(strict, PAT, own.id)).toEqual([
        'reject',
        'withdraw',
      ]);
      expect(await actionsOf(strict, SAM, own.id)).toEqual([
        'approve',
        'reject',
      ]);
      expect(await actionsOf(strict, BOB, own.id)).toEqual([]);

      const relaxed = await harness({ allowSelfApproval: true });
      const mine = await relaxed.create(PAT);
      expect(await actionsOf(relaxed, PAT, mine.id)).toEqual([
        'approve',
        'reject',
        'withdraw',
      ]);
    });

    // The actions a read offers are exactly the decisions the routes accept:
    // one rule serves both (checked against the matrix above).
    const decisionOps = [
      'approve',
      'reject',
      'withdraw',
      'retry',
      'decommission',
    ] as const;
    /** Brings a fresh request of JANE's to the state `op` applies to. */
    const stateFor: Record<
      (typeof decisionOps)[number],
      (h: Harness) => Promise<string>
    > = {
      approve: async h => (await h.create()).id,
      reject: async h => (await h.create()).id,
      withdraw: async h => (await h.create()).id,
      retry: async h => {
        const { id } = await h.create();
        await h.as(PAT).post(`/requests/${id}/approve`);
        await h.as(PAT).post(`/requests/${id}/progress`, {
          state: 'failed',
          taskId: 'task-1',
          error: 'AccessDenied: iam:CreateRole',
        });
        return id;
      },
      decommission: async h => {
        const { id } = await h.create();
        await h.as(PAT).post(`/requests/${id}/approve`);
        await h.as(PAT).post(`/requests/${id}/progress`, {
          state: 'provisioned',
          taskId: 'task-1',
        });
        return id;
      },
    };
    const decisionCells = decisionOps.flatMap(op =>
      Object.entries(matrix[op]).map(
        ([user, status]) => [op, user, status === 200] as const,
      ),
    );
    it.each(decisionCells)(
      'offers %s to %s exactly when the route allows it (%s)',
      async (op, user, allowed) => {
        const h = await harness();
        const id = await stateFor[op](h);
        const read = await h.as(user).get(`/requests/${id}`);
        expect(read.status).toBe(200);
        expect(read.body.allowedActions.includes(op)).toBe(allowed);
        const body = op === 'reject' ? { comment: 'use the shared queue' } : {};
        const res = await h.as(user).post(`/requests/${id}/${op}`, body);
        expect(res.status).toBe(allowed ? 200 : 403);
        // An allowed decision answers with the caller's actions in the new
        // state (where the same decision is no longer open); a refusal
        // answers with an error.
        expect(res.body.allowedActions?.includes(op) ?? 'refused').toBe(
          allowed ? false : 'refused',
        );
      },
    );
  });

  describe('decisions', () => {
    it('starts provisioning as the approver and links the task', async () => {
      const h = await harness();
      const record = await h.create();
      const res = await h.as(PAT).post(`/requests/${record.id}/approve`, {
        comment: 'within budget',
      });
      expect(res.status).toBe(200);
      expect(h.launches).toEqual([{ requestId: record.id, onBehalfOf: PAT }]);
      expect(res.body).toMatchObject({
        state: 'provisioning',
        provisioning: { taskId: 'task-1', taskUrl: '/create/tasks/task-1' },
      });
      expect(
        res.body.decisions.map((d: any) => [d.actor, d.decision, d.comment]),
      ).toEqual([
        [JANE, 'created', undefined],
        [PAT, 'approved', 'within budget'],
        [PAT, 'provisioning', 'scaffolder task task-1'],
      ]);
      expect(h.notifications.send).toHaveBeenLastCalledWith(
        expect.objectContaining({
          recipients: { type: 'entity', entityRef: [JANE] },
        }),
      );
      expect(h.auditEvents.map(e => e.eventId)).toEqual([
        'request-create',
        'request-approve',
      ]);
    });

    it('answers the second of two approvals with a conflict', async () => {
      const h = await harness();
      const record = await h.create();
      const [a, b] = await Promise.all([
        h.as(PAT).post(`/requests/${record.id}/approve`),
        h.as(SAM).post(`/requests/${record.id}/approve`),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(loser.body.error.name).toBe('ConflictError');
      expect(loser.body.error.message).toMatch(
        /approved by user:default\/(pat|sam)\.platform/,
      );
      expect(h.launcher.start).toHaveBeenCalledTimes(1);
    });

    it('lets only one of approve and withdraw win', async () => {
      const h = await harness();
      const record = await h.create();
      const [approve, withdraw] = await Promise.all([
        h.as(PAT).post(`/requests/${record.id}/approve`),
        h.as(JANE).post(`/requests/${record.id}/withdraw`),
      ]);
      expect([approve.status, withdraw.status].sort()).toEqual([200, 409]);
      const final = await h.as(JANE).get(`/requests/${record.id}`);
      expect(['provisioning', 'withdrawn']).toContain(final.body.state);
      expect(h.launcher.start).toHaveBeenCalledTimes(
        approve.status === 200 ? 1 : 0,
      );
    });

    it('requires a reason to reject and tells the requester', async () => {
      const h = await harness();
      const record = await h.create();
      const bare = await h.as(PAT).post(`/requests/${record.id}/reject`, {});
      expect(bare.status).toBe(400);
      expect(bare.body.error.message).toMatch(/comment is required/);
      const res = await h.as(PAT).post(`/requests/${record.id}/reject`, {
        comment: 'use the shared queue',
      });
      expect(res.body.state).toBe('rejected');
      expect(h.notifications.send).toHaveBeenLastCalledWith(
        expect.objectContaining({
          recipients: { type: 'entity', entityRef: [JANE] },
          payload: expect.objectContaining({
            description: `${PAT}: use the shared queue`,
          }),
        }),
      );
      const late = await h.as(PAT).post(`/requests/${record.id}/approve`);
      expect(late.status).toBe(409);
      expect(h.auditEvents).toEqual([
        { eventId: 'request-create', outcome: 'success' },
        { eventId: 'request-reject', outcome: 'success' },
        { eventId: 'request-approve', outcome: 'fail' },
      ]);
    });

    it('records a provisioning task that could not start, and retries it', async () => {
      const h = await harness();
      h.launcher.start.mockRejectedValueOnce(new Error('scaffolder is down'));
      const record = await h.create();
      const res = await h.as(PAT).post(`/requests/${record.id}/approve`);
      expect(res.status).toBe(200);
      expect(res.body.state).toBe('failed');
      expect(res.body.provisioning.error).toMatch(/scaffolder is down/);
      const retry = await h.as(PAT).post(`/requests/${record.id}/retry`);
      expect(h.launcher.start).toHaveBeenCalledTimes(2);
      expect(retry.body).toMatchObject({
        state: 'provisioning',
        provisioning: { taskId: 'task-1' },
      });
      expect(retry.body.decisions.map((d: any) => d.decision)).toEqual([
        'created',
        'approved',
        'failed',
        'retried',
        'provisioning',
      ]);
      expect(retry.body.provisioning.error).toBeUndefined();
    });

    it('fails an approval whose task was lost, after a grace period, so it can be retried', async () => {
      let clock = Date.now();
      const h = await harness({ now: () => clock });
      const record = await h.create();
      // The backend stopped between the decision and starting the task.
      await h.store.transition({
        id: record.id,
        from: ['pending'],
        to: 'approved',
        decision: { actor: PAT, decision: 'approved' },
      });
      expect(await h.service.reconcileProvisioningTasks()).toBe(0);
      clock += APPROVED_WITHOUT_TASK_TIMEOUT_MS + 1000;
      expect(await h.service.reconcileProvisioningTasks()).toBe(1);
      const failed = await h.as(PAT).get(`/requests/${record.id}`);
      expect(failed.body.state).toBe('failed');
      expect(failed.body.provisioning.error).toMatch(/never started or linked/);
      const retry = await h.as(PAT).post(`/requests/${record.id}/retry`);
      expect(retry.body.state).toBe('provisioning');
    });

    it('refuses role ARNs other than the planned ones', async () => {
      const h = await harness();
      const record = await h.create();
      await h.as(PAT).post(`/requests/${record.id}/approve`);
      const res = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'provisioned',
        taskId: 'task-1',
        roleArns: { scaler: 'arn:aws:iam::222222222222:role/admin' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/roleArns.scaler: reported/);
    });

    it('ignores a late report from a task a retry replaced', async () => {
      const h = await harness();
      const record = await h.create();
      await h.as(PAT).post(`/requests/${record.id}/approve`);
      await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'failed',
        taskId: 'task-1',
        error: 'throttled',
      });
      await h.as(PAT).post(`/requests/${record.id}/retry`);
      const late = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'failed',
        taskId: 'task-1',
        error: 'throttled again',
      });
      expect(late.status).toBe(409);
      const ok = await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'provisioned',
        taskId: 'task-2',
      });
      expect(ok.body.state).toBe('provisioned');
      expect(ok.body.provisioning.roleArns.scaler).toBe(
        record.plan.scalerRole.arn,
      );
      expect(
        h.auditEvents.filter(e => e.eventId === 'request-provision'),
      ).toEqual([
        { eventId: 'request-provision', outcome: 'success' }, // failed report
        { eventId: 'request-provision', outcome: 'success' }, // retry
        { eventId: 'request-provision', outcome: 'fail' }, // stale task
        { eventId: 'request-provision', outcome: 'success' }, // provisioned
      ]);
    });
  });

  describe('signals', () => {
    const announced = (h: Harness) =>
      h.signals.publish.mock.calls.map(([signal]: any[]) => {
        // Only the id goes out, to everyone: pages refetch with their own
        // permissions, so nothing of the request leaks.
        expect(signal).toEqual({
          recipients: { type: 'broadcast' },
          channel: 'keda:requests',
          message: { requestId: expect.any(String) },
        });
        return signal.message.requestId;
      });

    it('announces every change of a request by its id only', async () => {
      const h = await harness();
      const record = await h.create();
      expect(announced(h)).toEqual([record.id]);
      await h.as(PAT).post(`/requests/${record.id}/approve`);
      // approved, then provisioning (the task was linked)
      expect(announced(h)).toEqual([record.id, record.id, record.id]);
      await h.as(PAT).post(`/requests/${record.id}/progress`, {
        state: 'provisioned',
        taskId: 'task-1',
      });
      expect(announced(h)).toHaveLength(4);
      // A refused decision changes nothing and announces nothing.
      await h.as(PAT).post(`/requests/${record.id}/approve`);
      expect(announced(h)).toHaveLength(4);
    });

    it('announces the request a newer one superseded', async () => {
      const h = await harness();
      const first = await h.create();
      await h.as(PAT).post(`/requests/${first.id}/approve`);
      await h.as(PAT).post(`/requests/${first.id}/progress`, {
        state: 'provisioned',
        taskId: 'task-1',
      });
      h.signals.publish.mockClear();
      const second = await h.create(JANE, { maxReplicas: 30 });
      expect(second.supersedes).toBe(first.id);
      expect(announced(h)).toEqual([second.id]);
      await h.as(PAT).post(`/requests/${second.id}/approve`);
      expect(new Set(announced(h))).toEqual(new Set([first.id, second.id]));
      const old = await h.as(JANE).get(`/requests/${first.id}`);
      expect(old.body.state).toBe('superseded');
    });

    it('announces what the scheduled reconciliation records', async () => {
      let clock = Date.now();
      const h = await harness({ now: () => clock });
      const record = await h.create();
      // The backend stopped between the decision and starting the task.
      await h.store.transition({
        id: record.id,
        from: ['pending'],
        to: 'approved',
        decision: { actor: PAT, decision: 'approved' },
      });
      h.signals.publish.mockClear();
      expect(await h.service.reconcileProvisioningTasks()).toBe(0);
      expect(announced(h)).toEqual([]);
      clock += APPROVED_WITHOUT_TASK_TIMEOUT_MS + 1000;
      expect(await h.service.reconcileProvisioningTasks()).toBe(1);
      expect(announced(h)).toEqual([record.id]);
    });
  });

  describe('list', () => {
    it('filters by state, entity, cluster and team', async () => {
      const h = await harness();
      const a = await h.create();
      // another workload of the same entity (one active request per workload)
      const b = await h.create(JANE, {
        maxReplicas: 5,
        workload: { kind: 'Deployment', name: 'orders-worker-eu' },
      });
      const ids = async (q: string) =>
        (await h.as(BOB).get(`/requests${q}`)).body.items.map((r: any) => r.id);
      expect(await ids('?state=pending')).toEqual([a.id]);
      expect((await ids('?state=pending,provisioning')).sort()).toEqual(
        [a.id, b.id].sort(),
      );
      expect(await ids('?team=group:default/team-billing')).toEqual([]);
      expect((await ids('?team=group:default/team-orders')).length).toBe(2);
      expect(await ids('?cluster=other')).toEqual([]);
      const bad = await h.as(BOB).get('/requests?state=done');
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/'done' is not a request state/);
    });

    it('decommissions only what was provisioned (or failed)', async () => {
      const h = await harness();
      const record = await h.create();
      const early = await h
        .as(JANE)
        .post(`/requests/${record.id}/decommission`);
      expect(early.status).toBe(409);
      expect(early.body.error.message).toMatch(
        /only from provisioned or failed/,
      );
    });

    it('answers 404 for an unknown request', async () => {
      const h = await harness();
      expect((await h.as(BOB).get('/requests/nope')).status).toBe(404);
      expect((await h.as(PAT).post('/requests/nope/approve')).status).toBe(404);
    });
  });

  describe('many teams: one owner, one identity, one active request per workload', () => {
    const provisioned = async (
      h: Awaited<ReturnType<typeof harness>>,
      record: KedaRequestRecord,
      as = JANE,
    ) => {
      const res = await h.as(as).post(`/requests/${record.id}/progress`, {
        state: 'provisioned',
        roleArns: { scaler: record.plan.scalerRole.arn },
      });
      expect(res.status).toBe(200);
      return res.body as KedaRequestRecord;
    };

    it('refuses a member of another team before anything is planned, naming the owner', async () => {
      const h = await harness();
      for (const path of ['/requests/preflight', '/requests']) {
        const res = await h.as(BOB).post(path, {
          request: ordersRequest({ maxReplicas: 5 }),
        });
        expect(res.status).toBe(403);
        expect(res.body.error.message).toContain(
          'owned by group:default/team-orders',
        );
      }
      expect(await h.store.list()).toEqual([]);
      // An approver may ask on the team's behalf.
      const pat = await h.as(PAT).post('/requests/preflight', {
        request: ordersRequest({ maxReplicas: 5 }),
      });
      expect(pat.status).toBe(200);
      expect(pat.body).toMatchObject({
        autoApproved: true,
        owner: 'group:default/team-orders',
      });
    });

    it('keeps one ExternalId per workload and supersedes the current request', async () => {
      const h = await harness();
      const first = await h.create(JANE, { maxReplicas: 5 });
      expect(first).toMatchObject({
        state: 'provisioning',
        externalId: EXTERNAL_ID,
      });
      await provisioned(h, first);

      // The next run plans with the workload's ExternalId…
      const preflight = await h.as(JANE).post('/requests/preflight', {
        request: ordersRequest({ maxReplicas: 8 }),
      });
      expect(preflight.body).toEqual({
        externalId: EXTERNAL_ID,
        autoApproved: true,
        approvalReasons: [],
        owner: 'group:default/team-orders',
        supersedes: { id: first.id, state: 'provisioned' },
      });
      // …and a run that planned with another one is refused.
      const other = await h.as(JANE).post('/requests', {
        request: ordersRequest({ maxReplicas: 8 }),
        externalId: 'another-external-id-0000000000000',
      });
      expect(other.status).toBe(409);
      expect(other.body.error.message).toContain('externalId');

      const second = (
        await h.as(JANE).post('/requests', {
          request: ordersRequest({ maxReplicas: 8 }),
        })
      ).body as KedaRequestRecord;
      expect(second).toMatchObject({
        state: 'provisioning',
        externalId: EXTERNAL_ID,
        supersedes: first.id,
      });
      expect(second.plan.scalerRole.externalId).toBe(EXTERNAL_ID);
      expect(second.plan.scalerRole.arn).toBe(first.plan.scalerRole.arn);
      const old = (await h.as(JANE).get(`/requests/${first.id}`)).body;
      expect(old).toMatchObject({
        state: 'superseded',
        supersededBy: second.id,
      });
      expect(old.decisions.at(-1)).toMatchObject({
        decision: 'superseded',
        comment: `superseded by request ${second.id} for the same workload`,
      });
    });

    it('refuses a second request while one is in flight, naming it', async () => {
      const h = await harness();
      const pending = await h.create(JANE);
      const res = await h.as(JANE).post('/requests', {
        request: ordersRequest({ maxReplicas: 5 }),
        externalId: EXTERNAL_ID,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toContain(
        `already has request ${pending.id} in flight (pending`,
      );
      // Another workload of the same entity is independent.
      const eu = await h.create(JANE, {
        maxReplicas: 5,
        workload: { kind: 'Deployment', name: 'orders-worker-eu' },
      });
      expect(eu.state).toBe('provisioning');
    });

    it('lets a retried task past the request it recorded itself', async () => {
      const h = await harness();
      const first = (
        await h.as(JANE).post('/requests', {
          request: ordersRequest(),
          externalId: EXTERNAL_ID,
          taskId: 'task-a',
        })
      ).body as KedaRequestRecord;
      expect(first.state).toBe('pending');
      const retried = await h.as(JANE).post('/requests/preflight', {
        request: ordersRequest(),
        taskId: 'task-a',
      });
      expect(retried.status).toBe(200);
      expect(retried.body.externalId).toBe(EXTERNAL_ID);
      const other = await h.as(JANE).post('/requests/preflight', {
        request: ordersRequest(),
        taskId: 'task-b',
      });
      expect(other.status).toBe(409);
    });

    it('never lets an auto-approved run change a request a person approved', async () => {
      const h = await harness();
      const approvedOne = await h.create(JANE); // 20 replicas: needs approval
      const approve = await h
        .as(PAT)
        .post(`/requests/${approvedOne.id}/approve`, { comment: 'ok' });
      expect(approve.body.state).toBe('provisioning');
      await provisioned(h, approvedOne, PAT);

      // Inside the auto-approve guardrails, but it changes an approved request.
      const change = (
        await h.as(JANE).post('/requests', {
          request: ordersRequest({ maxReplicas: 5 }),
          externalId: EXTERNAL_ID,
        })
      ).body as KedaRequestRecord;
      expect(change.state).toBe('pending');
      expect(change.autoApproved).toBe(false);
      expect(change.approvalReasons.join(' ')).toContain(
        `It changes request ${approvedOne.id}, which ${PAT} approved`,
      );
      // Until approved, the approved request stays current.
      expect((await h.store.get(approvedOne.id))!.state).toBe('provisioned');
      const ok = await h
        .as(SAM)
        .post(`/requests/${change.id}/approve`, { comment: 'fine' });
      expect(ok.status).toBe(200);
      expect(await h.store.get(approvedOne.id)).toMatchObject({
        state: 'superseded',
        supersededBy: change.id,
      });
    });

    it('lets exactly one of two concurrent requests for a workload in', async () => {
      const h = await harness();
      const body = {
        request: ordersRequest(),
        externalId: EXTERNAL_ID,
      };
      const results = await Promise.all([
        h.as(JANE).post('/requests', body),
        h.as(PAT).post('/requests', body),
      ]);
      expect(results.map(r => r.status).sort()).toEqual([201, 409]);
      expect(await h.store.list()).toHaveLength(1);
    });

    it('enforces the state machine in the store', async () => {
      const h = await harness();
      const record = await h.create(JANE);
      await expect(
        h.store.transition({
          id: record.id,
          from: ['pending'],
          to: 'provisioned',
          decision: { actor: PAT, decision: 'provisioned' },
        }),
      ).rejects.toThrow(
        'Illegal KEDA request transition pending → provisioned',
      );
      expect((await h.store.get(record.id))!.state).toBe('pending');
    });

    it('does not take a failure for a lost race when reconciling tasks', async () => {
      const h = await harness();
      const record = (
        await h.as(JANE).post('/requests', {
          request: ordersRequest({ maxReplicas: 5 }),
          externalId: EXTERNAL_ID,
          taskId: 'requester-task',
        })
      ).body as KedaRequestRecord;
      expect(record.provisioning?.taskId).toBe('requester-task');
      const taskReader = {
        taskState: async () => ({ status: 'completed' as const }),
      };
      (h.service as any).options.taskReader = taskReader;
      const transition = jest
        .spyOn(h.store, 'transition')
        .mockRejectedValueOnce(new Error('connection terminated'));
      await expect(h.service.reconcileProvisioningTasks()).rejects.toThrow(
        'connection terminated',
      );
      transition.mockRestore();
      expect((await h.store.get(record.id))!.state).toBe('provisioning');
    });
  });
});
