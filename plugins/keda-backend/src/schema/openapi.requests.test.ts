import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import type {
  CreateKedaRequestBody,
  KedaRequestProgressBody,
  KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import request from 'supertest';
import {
  openApiErrors,
  openApiOperationResponseErrors,
  openApiRequestBodyErrors,
} from '../__testUtils__/openApi';
import { BOB, JANE, PAT } from '../requests/__testUtils__/policyPermissions';
import { EXTERNAL_ID, ordersRequest } from '../requests/__testUtils__/requests';
import { startRequestsApp } from '../requests/__testUtils__/requestsApp';

jest.setTimeout(60_000);

// The request API's answers, produced by the real router and service (set
// up by startRequestsApp, as in src/requests/router.test.ts), checked
// against openapi.yaml.

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function harness() {
  const { app, launcher } = await startRequestsApp(databases);

  /**
   * Calls `method url` as `user` and returns the response with the errors of
   * its body against the operation `template` answering that status (which
   * the document must list). A sent body is checked against the operation's
   * request body schema first.
   */
  const call = async (
    user: string,
    method: 'get' | 'post',
    template: string,
    url: string,
    body?: object,
  ) => {
    if (body !== undefined) {
      expect(openApiRequestBodyErrors(method, template, body)).toEqual([]);
    }
    const req = request(app)
      [method](url)
      .set('authorization', mockCredentials.user.header(user));
    const res = body === undefined ? await req : await req.send(body);
    return {
      res,
      errors: openApiOperationResponseErrors(
        method,
        template,
        res.status,
        res.body,
      ),
    };
  };

  const createBody = (
    overrides: Parameters<typeof ordersRequest>[0] = {},
    extra: Partial<CreateKedaRequestBody> = {},
  ): CreateKedaRequestBody => ({
    request: ordersRequest(overrides),
    externalId: EXTERNAL_ID,
    pullRequest: {
      url: 'https://github.com/acme/gitops/pull/7',
      number: 7,
      repoUrl: 'github.com?owner=acme&repo=gitops',
    },
    ...extra,
  });

  /** A pending request by JANE (maxReplicas above auto-approve). */
  const create = async (): Promise<KedaRequestRecord> => {
    const { res } = await call(
      JANE,
      'post',
      '/requests',
      '/requests',
      createBody(),
    );
    expect(res.status).toBe(201);
    return res.body;
  };

  const decide = (user: string, id: string, action: string, body?: object) =>
    call(
      user,
      'post',
      `/requests/{id}/${action}`,
      `/requests/${encodeURIComponent(id)}/${action}`,
      body,
    );

  return { call, create, createBody, decide, launcher };
}

describe('openapi.yaml: request API', () => {
  it('describes POST /requests: 201 pending, 201 auto-approved, 200 re-run', async () => {
    const h = await harness();
    const pending = await h.call(
      JANE,
      'post',
      '/requests',
      '/requests',
      h.createBody(),
    );
    expect(pending.res.status).toBe(201);
    expect(pending.res.body).toMatchObject({
      state: 'pending',
      owner: 'group:default/team-orders',
      pullRequest: { number: 7 },
    });
    expect(pending.errors).toEqual([]);

    const body = h.createBody(
      {
        maxReplicas: 5,
        // another workload: orders-worker has the pending request above
        workload: { kind: 'Deployment', name: 'orders-worker-eu' },
        fallback: { failureThreshold: 3, replicas: 2 },
        awsEndpoint: 'https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com',
      },
      { taskId: 'requester-task', idempotencyKey: 'key-1' },
    );
    const auto = await h.call(JANE, 'post', '/requests', '/requests', body);
    expect(auto.res.status).toBe(201);
    expect(auto.res.body).toMatchObject({
      state: 'provisioning',
      autoApproved: true,
      provisioning: { taskId: 'requester-task' },
    });
    expect(auto.res.body.plan.request.fallback).toEqual({
      failureThreshold: 3,
      replicas: 2,
    });
    expect(auto.errors).toEqual([]);

    const again = await h.call(JANE, 'post', '/requests', '/requests', body);
    expect(again.res.status).toBe(200);
    expect(again.res.body.id).toBe(auto.res.body.id);
    expect(again.errors).toEqual([]);
  });

  it('describes GET /requests and GET /requests/{id}', async () => {
    const h = await harness();
    const record = await h.create();
    const list = await h.call(
      BOB,
      'get',
      '/requests',
      '/requests?state=pending,provisioning&state=failed&team=group:default/team-orders',
    );
    expect(list.res.status).toBe(200);
    expect(list.res.body.items.map((r: KedaRequestRecord) => r.id)).toEqual([
      record.id,
    ]);
    expect(list.errors).toEqual([]);

    const one = await h.call(
      BOB,
      'get',
      '/requests/{id}',
      `/requests/${record.id}`,
    );
    expect(one.res.status).toBe(200);
    expect(one.errors).toEqual([]);
    // BOB may neither decide nor withdraw JANE's request.
    expect(one.res.body.allowedActions).toEqual([]);

    const approver = await h.call(
      PAT,
      'get',
      '/requests/{id}',
      `/requests/${record.id}`,
    );
    expect(approver.res.body.allowedActions).toEqual(['approve', 'reject']);
    expect(approver.errors).toEqual([]);
    expect(
      openApiErrors('KedaRequestRecord', {
        ...approver.res.body,
        allowedActions: ['approve', 'merge'],
      }),
    ).toEqual([
      expect.stringContaining(
        '/allowedActions/1 must be equal to one of the allowed values',
      ),
    ]);
  });

  it('describes approve, progress (provisioned and failed), retry and decommission', async () => {
    const h = await harness();
    const record = await h.create();

    const approved = await h.decide(PAT, record.id, 'approve', {
      comment: 'within budget',
    });
    expect(approved.res.status).toBe(200);
    expect(approved.res.body).toMatchObject({
      state: 'provisioning',
      provisioning: { taskId: 'task-1', taskUrl: '/create/tasks/task-1' },
    });
    expect(approved.errors).toEqual([]);

    const failedBody: KedaRequestProgressBody = {
      state: 'failed',
      taskId: 'task-1',
      error: 'AccessDenied: iam:CreateRole',
    };
    const failed = await h.decide(PAT, record.id, 'progress', failedBody);
    expect(failed.res.status).toBe(200);
    expect(failed.res.body.provisioning.error).toBe(failedBody.error);
    expect(failed.errors).toEqual([]);

    const retried = await h.decide(PAT, record.id, 'retry');
    expect(retried.res.status).toBe(200);
    expect(retried.res.body.provisioning.taskId).toBe('task-2');
    expect(retried.errors).toEqual([]);

    const provisionedBody: KedaRequestProgressBody = {
      state: 'provisioned',
      taskId: 'task-2',
      roleArns: { scaler: record.plan.scalerRole.arn },
      verification: {
        ok: true,
        checks: [
          {
            check: 'simulate-scaler-permissions',
            subject: record.plan.scalerRole.arn,
            outcome: 'pass',
            detail: 'sqs:GetQueueAttributes allowed',
          },
          {
            check: 'access-analyzer-validate-policy',
            subject: 'scaler trust policy',
            outcome: 'warning',
            detail:
              'could not run: AccessDenied on access-analyzer:ValidatePolicy',
          },
        ],
      },
    };
    const provisioned = await h.decide(
      PAT,
      record.id,
      'progress',
      provisionedBody,
    );
    expect(provisioned.res.status).toBe(200);
    expect(provisioned.res.body.provisioning.roleArns).toEqual({
      scaler: record.plan.scalerRole.arn,
      operator: record.plan.operatorRole.arn,
    });
    expect(provisioned.res.body.provisioning.verification).toEqual(
      provisionedBody.verification,
    );
    expect(provisioned.errors).toEqual([]);

    const gone = await h.decide(JANE, record.id, 'decommission', {
      comment: 'queue retired',
    });
    expect(gone.res.status).toBe(200);
    expect(gone.res.body.state).toBe('decommissioned');
    expect(gone.errors).toEqual([]);
  });

  it('describes an approval whose task could not start (200, failed)', async () => {
    const h = await harness();
    h.launcher.start.mockRejectedValueOnce(new Error('scaffolder is down'));
    const record = await h.create();
    const res = await h.decide(PAT, record.id, 'approve');
    expect(res.res.status).toBe(200);
    expect(res.res.body.state).toBe('failed');
    expect(res.errors).toEqual([]);
  });

  it('describes reject and withdraw', async () => {
    const h = await harness();
    const a = await h.create();
    const rejected = await h.decide(PAT, a.id, 'reject', {
      comment: 'use the shared queue',
    });
    expect(rejected.res.status).toBe(200);
    expect(rejected.res.body.state).toBe('rejected');
    expect(rejected.errors).toEqual([]);

    const b = await h.create();
    const withdrawn = await h.decide(JANE, b.id, 'withdraw', {
      comment: 'not needed',
    });
    expect(withdrawn.res.status).toBe(200);
    expect(withdrawn.res.body.state).toBe('withdrawn');
    expect(withdrawn.errors).toEqual([]);
  });

  it('describes the error answers (400, 403, 404, 409)', async () => {
    const h = await harness();
    const record = await h.create();

    const guardrails = await h.call(
      JANE,
      'post',
      '/requests',
      '/requests',
      h.createBody({
        maxReplicas: 60,
        workload: { kind: 'Deployment', name: 'orders-worker-eu' },
      }),
    );
    expect(guardrails.res.status).toBe(400);
    expect(guardrails.errors).toEqual([]);

    const badState = await h.call(
      BOB,
      'get',
      '/requests',
      '/requests?state=done',
    );
    expect(badState.res.status).toBe(400);
    expect(badState.errors).toEqual([]);

    // Not a valid reject body by the document either: the comment is required.
    expect(
      openApiRequestBodyErrors('post', '/requests/{id}/reject', {}),
    ).toEqual([
      expect.stringContaining("must have required property 'comment'"),
    ]);
    const bare = await h.call(
      PAT,
      'post',
      '/requests/{id}/reject',
      `/requests/${record.id}/reject`,
    );
    expect(bare.res.status).toBe(400);
    expect(bare.errors).toEqual([]);

    const own = await h.decide(JANE, record.id, 'approve');
    expect(own.res.status).toBe(403);
    expect(own.res.body.error.name).toBe('NotAllowedError');
    expect(own.errors).toEqual([]);

    const missing = await h.call(
      BOB,
      'get',
      '/requests/{id}',
      '/requests/nope',
    );
    expect(missing.res.status).toBe(404);
    expect(missing.errors).toEqual([]);

    await h.decide(PAT, record.id, 'reject', { comment: 'no' });
    const late = await h.decide(PAT, record.id, 'approve');
    expect(late.res.status).toBe(409);
    expect(late.res.body.error.name).toBe('ConflictError');
    expect(late.errors).toEqual([]);

    const stale = await h.decide(JANE, record.id, 'decommission');
    expect(stale.res.status).toBe(409);
    expect(stale.errors).toEqual([]);
  });

  it('rejects a record or body with a field the document does not list', async () => {
    const h = await harness();
    const record = JSON.parse(JSON.stringify(await h.create()));
    expect(openApiErrors('KedaRequestRecord', record)).toEqual([]);

    const top = { ...record, surprise: 1 };
    expect(
      openApiOperationResponseErrors('get', '/requests/{id}', 200, top),
    ).toEqual([expect.stringContaining('must NOT have additional properties')]);

    const nested = JSON.parse(JSON.stringify(record));
    nested.plan.scalerRole.surprise = 'x';
    nested.decisions[0].by = 'someone';
    expect(openApiErrors('KedaRequestRecord', nested)).toEqual([
      expect.stringContaining(
        '/plan/scalerRole must NOT have additional properties',
      ),
      expect.stringContaining(
        '/decisions/0 must NOT have additional properties',
      ),
    ]);

    const badState = { ...record, state: 'done' };
    expect(openApiErrors('KedaRequestRecord', badState)).toEqual([
      expect.stringContaining(
        '/state must be equal to one of the allowed values',
      ),
    ]);

    // A plan is not part of the create body (the backend ignores one).
    expect(
      openApiRequestBodyErrors('post', '/requests', {
        ...h.createBody(),
        plan: record.plan,
      }),
    ).toEqual([expect.stringContaining('must NOT have additional properties')]);
  });

  it('describes POST /plan: 200 with and without violations, 400, 403, 409', async () => {
    const h = await harness();
    const auto = await h.call(JANE, 'post', '/plan', '/plan', {
      request: ordersRequest({ maxReplicas: 5 }),
    });
    expect(auto.res.status).toBe(200);
    expect(auto.res.body.autoApproved).toBe(true);
    expect(auto.errors).toEqual([]);

    const blocked = await h.call(JANE, 'post', '/plan', '/plan', {
      request: ordersRequest({
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/444444444444/orders',
      }),
    });
    expect(blocked.res.status).toBe(200);
    expect(blocked.res.body.violations.length).toBeGreaterThan(0);
    expect(blocked.res.body.approvalReasons.length).toBeGreaterThan(0);
    expect(blocked.errors).toEqual([]);

    const invalid = await h.call(JANE, 'post', '/plan', '/plan', {
      request: ordersRequest({ queueUrl: 'sqs.eu-west-1/orders' }),
    });
    expect(invalid.res.status).toBe(400);
    expect(invalid.errors).toEqual([]);

    const other = await h.call(BOB, 'post', '/plan', '/plan', {
      request: ordersRequest(),
    });
    expect(other.res.status).toBe(403);
    expect(other.errors).toEqual([]);

    await h.create();
    const inFlight = await h.call(JANE, 'post', '/plan', '/plan', {
      request: ordersRequest({ maxReplicas: 5 }),
    });
    expect(inFlight.res.status).toBe(409);
    expect(inFlight.errors).toEqual([]);
  });

  it('refuses to validate a status the operation does not document', () => {
    expect(() =>
      openApiOperationResponseErrors('get', '/requests/{id}', 409, {}),
    ).toThrow(/nothing at/);
  });
});
