import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import request from 'supertest';
import { openApiOperationResponseErrors } from '../__testUtils__/openApi';
import { JANE, PAT } from './__testUtils__/policyPermissions';
import { ordersRequest } from './__testUtils__/requests';
import { startRequestsApp } from './__testUtils__/requestsApp';
import { JSON_BODY_LIMIT } from './router';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

// Bad-input corpus (#16): a body over the limit is refused before anything
// reads it, and the message says it is the body and what the limit is.
describe('request API body limit', () => {
  it.each(['/requests', '/requests/preflight', '/plan'])(
    'POST %s refuses an oversized body with 413, naming the body and the limit',
    async endpoint => {
      const { app, store } = await startRequestsApp(databases);
      const res = await request(app)
        .post(endpoint)
        .set('authorization', mockCredentials.user.header(JANE))
        .send({ request: ordersRequest({ namespace: 'a'.repeat(200_000) }) });
      expect(res.status).toBe(413);
      expect(res.body.error.message).toMatch(
        new RegExp(
          `^request body: \\d+ bytes exceed .*limit of ${JSON_BODY_LIMIT}`,
        ),
      );
      expect(await store.list({})).toEqual([]);
      expect(
        openApiOperationResponseErrors('post', endpoint, 413, res.body),
      ).toEqual([]);
    },
  );

  it('still reads a body under the limit', async () => {
    const { app } = await startRequestsApp(databases);
    const res = await request(app)
      .post('/requests/preflight')
      .set('authorization', mockCredentials.user.header(JANE))
      .send({ request: ordersRequest({ namespace: 'Shop' }) });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/namespace/);
  });
});

describe('request API pull request links', () => {
  it.each([
    // eslint-disable-next-line no-script-url
    'javascript:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    `https://github.com/acme/gitops/pull/${'7'.repeat(3000)}`,
  ])(
    'POST /requests refuses pullRequest.url %s, naming it, and records nothing',
    async url => {
      const { app, store } = await startRequestsApp(databases);
      const res = await request(app)
        .post('/requests')
        .set('authorization', mockCredentials.user.header(JANE))
        .send({
          request: ordersRequest(),
          pullRequest: {
            url,
            number: 7,
            repoUrl: 'github.com?owner=acme&repo=gitops',
          },
        });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/pullRequest\.url: /);
      expect(await store.list({})).toEqual([]);
    },
  );

  // The check is the service's request schema, run before anything else:
  // whoever asks and whatever else is wrong, the answer names the URL alone.
  it.each([
    ['a user, with another field wrong too', mockCredentials.user.header(JANE)],
    ['a service (which may not record)', mockCredentials.service.header()],
  ])(
    'POST /requests refuses a javascript: pullRequest.url first, from %s',
    async (_who, authorization) => {
      const { app, store } = await startRequestsApp(databases);
      const res = await request(app)
        .post('/requests')
        .set('authorization', authorization)
        .send({
          request: ordersRequest(),
          pullRequest: {
            // eslint-disable-next-line no-script-url
            url: 'javascript:alert(1)',
            number: 0,
            repoUrl: 'github.com?owner=acme&repo=gitops',
          },
        });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(
        'Invalid KEDA request body: pullRequest.url: must be an http(s) URL (the request page links to it), got "javascript:"',
      );
      expect(await store.list({})).toEqual([]);
    },
  );

  it('POST /requests/:id/progress records no pull request URL', async () => {
    const { app, store } = await startRequestsApp(databases);
    const as = (user: string, url: string, body: object) =>
      request(app)
        .post(url)
        .set('authorization', mockCredentials.user.header(user))
        .send(body);
    const pullRequest = {
      url: 'https://github.com/acme/gitops/pull/7',
      number: 7,
      repoUrl: 'github.com?owner=acme&repo=gitops',
    };
    const created = await as(JANE, '/requests', {
      request: ordersRequest(),
      pullRequest,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await as(PAT, `/requests/${id}/approve`, {})).status).toBe(200);
    const res = await as(PAT, `/requests/${id}/progress`, {
      state: 'provisioned',
      taskId: 'task-1',
      // eslint-disable-next-line no-script-url
      pullRequest: { ...pullRequest, url: 'javascript:alert(1)' },
    });
    expect(res.status).toBe(200);
    expect(res.body.pullRequest).toEqual(pullRequest);
    expect((await store.get(id))!.pullRequest).toEqual(pullRequest);
  });
});
