import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import { ServiceUnavailableError } from '@backstage/errors';
import knexFactory from 'knex';
import request from 'supertest';
import { JANE, PAT } from './__testUtils__/policyPermissions';
import { EXTERNAL_ID, ordersRequest } from './__testUtils__/requests';
import { startRequestsApp } from './__testUtils__/requestsApp';
import type { KedaRequestTransition } from './KedaRequestStore';
import { migrateKedaRequestStore } from './KedaRequestStore';
import {
  CountingScaffolder,
  startRequestStack,
} from './reliability/__testUtils__/requestStack';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/** What the store throws when its connection was dropped. */
const dropped = () =>
  new ServiceUnavailableError(
    'The KEDA request database is unavailable right now (the connection to it was lost), so the portal could not record the change. Retrying is safe',
  );

async function harness() {
  const app = await startRequestsApp(databases);
  const as = (user: string) => ({
    get: (url: string) =>
      request(app.app)
        .get(url)
        .set('authorization', mockCredentials.user.header(user)),
    post: (url: string, body: object = {}) =>
      request(app.app)
        .post(url)
        .set('authorization', mockCredentials.user.header(user))
        .send(body),
  });
  const created = await as(JANE).post('/requests', {
    request: ordersRequest(),
    externalId: EXTERNAL_ID,
  });
  expect(created.status).toBe(201);
  return { ...app, as, id: created.body.id as string };
}

/** Makes the store fail `times` links of a started task as a dropped connection would. */
function dropLinks(
  store: Awaited<ReturnType<typeof harness>>['store'],
  times: number,
) {
  const transition = store.transition.bind(store);
  let failed = 0;
  return jest
    .spyOn(store, 'transition')
    .mockImplementation(async (change: KedaRequestTransition) => {
      if (change.to === 'provisioning' && failed < times) {
        failed++;
        throw dropped();
      }
      return transition(change);
    });
}

describe('approval when the database drops the connection of the task link', () => {
  it('links the started task on a new connection: one task, fully provisioning, 200', async () => {
    const h = await harness();
    dropLinks(h.store, 1);
    const res = await h.as(PAT).post(`/requests/${h.id}/approve`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('provisioning');
    expect(res.body.provisioning.taskId).toBe('task-1');
    expect(h.launches).toHaveLength(1);
    const record = await h.store.get(h.id);
    expect(record!.decisions.map(d => d.decision)).toEqual([
      'created',
      'approved',
      'provisioning',
    ]);
  });

  it('answers 503 naming the started task when the database stays unavailable', async () => {
    const h = await harness();
    dropLinks(h.store, 10);
    const res = await h.as(PAT).post(`/requests/${h.id}/approve`);
    expect(res.status).toBe(503);
    expect(res.body.error.name).toBe('ServiceUnavailableError');
    expect(res.body.error.message).toMatch(
      /is approved and its provisioning task task-1 started, but the database became unavailable before the task could be linked; the task links itself when it reports/,
    );
    expect(h.launches).toHaveLength(1);
    // The task's own report links it once the database is back.
    jest.restoreAllMocks();
    const report = await h.as(PAT).post(`/requests/${h.id}/progress`, {
      state: 'provisioning',
      taskId: 'task-1',
    });
    expect(report.status).toBe(200);
    expect(report.body.provisioning.taskId).toBe('task-1');
  });
});

describe('the request API when its database is gone', () => {
  it('answers 503 with a clear message (no SQL, no stack), never 500 or 200', async () => {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    });
    await migrateKedaRequestStore(knex);
    const stack = await startRequestStack({
      name: 'gone',
      knex,
      scaffolder: new CountingScaffolder(),
    });
    try {
      await knex.destroy();
      const answers = [
        await stack.as(JANE).get('/requests'),
        await stack.as(JANE).get('/requests/r-1'),
        await stack.as(PAT).post('/requests/r-1/approve'),
        await stack.as(JANE).post('/requests', {
          request: ordersRequest(),
          externalId: EXTERNAL_ID,
        }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body.error).toEqual({
          name: 'ServiceUnavailableError',
          message: expect.stringMatching(
            /^The KEDA request database is unavailable right now \(.+\), so the portal could not .*(try again|retrying is safe)/,
          ),
        });
        expect(answer.body.error.message).not.toMatch(
          /select|insert|update|keda_request/i,
        );
      }
    } finally {
      await stack.stop();
    }
  });
});
