import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import request from 'supertest';
import { BOB, JANE, PAT } from './__testUtils__/policyPermissions';
import { EXTERNAL_ID, ordersRequest } from './__testUtils__/requests';
import { startRequestsApp } from './__testUtils__/requestsApp';

jest.setTimeout(60_000);

// POST /plan: the template form's live preview, a dry run of POST /requests
// through the real router, service and store (startRequestsApp).

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function harness() {
  const started = await startRequestsApp(databases);
  const post = (user: string, url: string, body: object) =>
    request(started.app)
      .post(url)
      .set('authorization', mockCredentials.user.header(user))
      .send(body);
  return { ...started, post };
}

describe('POST /plan', () => {
  it('answers what the run would record: accounts, region, role names, no approval', async () => {
    const h = await harness();
    const preview = await h.post(JANE, '/plan', {
      request: ordersRequest({ maxReplicas: 5 }),
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      cluster: {
        name: 'prod-eu',
        accountId: '111111111111',
        region: 'eu-west-1',
      },
      queue: {
        name: 'orders',
        accountId: '222222222222',
        region: 'eu-west-1',
        arn: 'arn:aws:sqs:eu-west-1:222222222222:orders',
      },
      crossAccount: true,
      operatorRole: {
        name: 'keda-operator-prod-eu',
        arn: 'arn:aws:iam::111111111111:role/keda-operator-prod-eu',
      },
      violations: [],
      autoApproved: true,
      approvalReasons: [],
      owner: 'group:default/team-orders',
      manifestDirectory: 'clusters/prod-eu/shop/orders-worker',
    });
    expect(preview.body.scalerRole.name).toMatch(
      /^keda-sqs-prod-eu-shop-orders-worker-[0-9a-f]{8}$/,
    );
    expect(preview.body.scalerRole.externalIdRequired).toBe(true);
    expect(preview.body.request).toMatchObject({
      maxReplicas: 5,
      queueLength: 5,
      providerMode: 'aws',
    });
    expect(preview.body.request.requestId).toBeUndefined();

    // Nothing was written or started…
    expect(await h.store.list()).toEqual([]);
    expect(h.launcher.start).not.toHaveBeenCalled();
    expect(h.notifications.send).not.toHaveBeenCalled();

    // …and the run that follows records exactly the previewed roles.
    const created = await h.post(JANE, '/requests', {
      request: ordersRequest({ maxReplicas: 5 }),
      externalId: EXTERNAL_ID,
    });
    expect(created.status).toBe(201);
    const record = created.body as KedaRequestRecord;
    expect(record.plan.scalerRole.name).toBe(preview.body.scalerRole.name);
    expect(record.plan.scalerRole.arn).toBe(preview.body.scalerRole.arn);
    expect(record.plan.operatorRole.arn).toBe(preview.body.operatorRole.arn);
    expect(record.autoApproved).toBe(preview.body.autoApproved);
  });

  it('says why approval is needed, as the guardrails do', async () => {
    const h = await harness();
    const preview = await h.post(JANE, '/plan', {
      request: ordersRequest({ maxReplicas: 20 }),
    });
    expect(preview.status).toBe(200);
    expect(preview.body.autoApproved).toBe(false);
    expect(preview.body.violations).toEqual([]);
    expect(preview.body.approvalReasons).toEqual([
      expect.stringContaining('10'),
    ]);
  });

  it('lists guardrail violations with their field instead of refusing', async () => {
    const h = await harness();
    const preview = await h.post(JANE, '/plan', {
      request: ordersRequest({
        maxReplicas: 60,
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/444444444444/orders',
      }),
    });
    expect(preview.status).toBe(200);
    expect(preview.body.autoApproved).toBe(false);
    const fields = preview.body.violations.map((v: any) => v.field);
    expect(fields).toEqual(expect.arrayContaining(['queueUrl', 'maxReplicas']));
    expect(JSON.stringify(preview.body.violations)).toContain('444444444444');
    // POST /requests refuses the same request.
    const refused = await h.post(JANE, '/requests', {
      request: ordersRequest({
        maxReplicas: 60,
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/444444444444/orders',
      }),
    });
    expect(refused.status).toBe(400);
    expect(await h.store.list()).toEqual([]);
  });

  it('refuses an invalid request naming the field (400)', async () => {
    const h = await harness();
    const res = await h.post(JANE, '/plan', {
      request: ordersRequest({
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/2222/orders',
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('queueUrl');
    expect(res.body.error.message).toContain('12-digit AWS account id');
  });

  it('applies the ownership rule: another team gets 403 naming the owner, an approver may', async () => {
    const h = await harness();
    const bob = await h.post(BOB, '/plan', { request: ordersRequest() });
    expect(bob.status).toBe(403);
    expect(bob.body.error.message).toContain(
      'owned by group:default/team-orders',
    );
    const pat = await h.post(PAT, '/plan', { request: ordersRequest() });
    expect(pat.status).toBe(200);
    expect(pat.body.owner).toBe('group:default/team-orders');
  });

  it('answers 409 while the workload has a request in flight, and never an ExternalId', async () => {
    const h = await harness();
    const pending = await h.post(JANE, '/requests', {
      request: ordersRequest(),
      externalId: EXTERNAL_ID,
    });
    expect(pending.body.state).toBe('pending');
    const res = await h.post(JANE, '/plan', {
      request: ordersRequest({ maxReplicas: 5 }),
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain(
      `already has request ${pending.body.id} in flight`,
    );

    // Once decided and provisioned, the preview names the request it
    // supersedes, without the workload's ExternalId.
    await h.post(PAT, `/requests/${pending.body.id}/approve`, {});
    await h.post(PAT, `/requests/${pending.body.id}/progress`, {
      state: 'provisioned',
      roleArns: { scaler: pending.body.plan.scalerRole.arn },
    });
    const next = await h.post(JANE, '/plan', {
      request: ordersRequest({ maxReplicas: 5 }),
    });
    expect(next.status).toBe(200);
    expect(next.body.supersedes).toEqual({
      id: pending.body.id,
      state: 'provisioned',
    });
    expect(next.body.autoApproved).toBe(false);
    expect(next.body.approvalReasons).toEqual([
      expect.stringContaining('needs approval again'),
    ]);
    expect(JSON.stringify(next.body)).not.toContain(EXTERNAL_ID);
  });
});
