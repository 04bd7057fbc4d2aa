import { ResponseError } from '@backstage/errors';
import { mockApis } from '@backstage/frontend-test-utils';
import { KedaClient } from './KedaClient';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

describe('KedaClient', () => {
  const discoveryApi = mockApis.discovery({
    baseUrl: 'http://backstage.test',
  });

  it('asks the keda backend for the status of the URL-encoded entity ref', async () => {
    const fetch = jest.fn(
      async (_url: RequestInfo | URL, _init?: RequestInit) =>
        jsonResponse(200, {
          entityRef: 'component:default/orders-worker',
          scaledObjects: [],
          clusters: [],
          generatedAt: '2026-11-28T05:00:00.000Z',
        }),
    );
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    const status = await client.getStatus('component:default/orders-worker');

    expect(fetch).toHaveBeenCalledTimes(1);
    const url = new URL(String(fetch.mock.calls[0][0]));
    expect(url.origin + url.pathname).toBe(
      'http://backstage.test/api/keda/status',
    );
    expect(url.searchParams.get('entityRef')).toBe(
      'component:default/orders-worker',
    );
    expect(fetch.mock.calls[0][0]).toContain(
      'entityRef=component%3Adefault%2Forders-worker',
    );
    expect(status.entityRef).toBe('component:default/orders-worker');
  });

  it('passes the abort signal through so a hidden card can cancel its request', async () => {
    const fetch = jest.fn(
      async (_url: RequestInfo | URL, _init?: RequestInit) =>
        jsonResponse(200, { scaledObjects: [], clusters: [] }),
    );
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });
    const controller = new AbortController();

    await client.getStatus('component:default/orders-worker', {
      signal: controller.signal,
    });

    expect(fetch.mock.calls[0][1]?.signal).toBe(controller.signal);
  });

  it('throws a ResponseError carrying the backend error on a non-2xx answer', async () => {
    const fetch = jest.fn(async () =>
      jsonResponse(403, {
        error: {
          name: 'NotAllowedError',
          message: 'Missing permission keda.status.read',
        },
        request: { method: 'GET', url: '/api/keda/status' },
        response: { statusCode: 403 },
      }),
    );
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    const error = await client
      .getStatus('component:default/orders-worker')
      .catch(e => e);

    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(403);
    expect(error.body.error.message).toBe(
      'Missing permission keda.status.read',
    );
  });

  it('rejects an empty entity ref before calling the backend', async () => {
    const fetch = jest.fn();
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await expect(client.getStatus('')).rejects.toThrow(/needs an entityRef/);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('KedaClient request API', () => {
  const discoveryApi = mockApis.discovery({
    baseUrl: 'http://backstage.test',
  });
  const record = { id: 'req-1', state: 'pending', decisions: [] };

  function fetchAnswering(status: number, body: unknown) {
    return jest.fn(async (_url: RequestInfo | URL, _init?: RequestInit) =>
      jsonResponse(status, body),
    );
  }

  it('lists requests with the state filter comma-joined and the other filters as given', async () => {
    const fetch = fetchAnswering(200, { items: [record] });
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    const items = await client.listRequests({
      state: ['pending', 'failed'],
      team: 'group:default/team-orders',
      cluster: 'prod-eu',
    });

    expect(items).toEqual([record]);
    const url = new URL(String(fetch.mock.calls[0][0]));
    expect(url.pathname).toBe('/api/keda/requests');
    expect(url.searchParams.get('state')).toBe('pending,failed');
    expect(url.searchParams.get('team')).toBe('group:default/team-orders');
    expect(url.searchParams.get('cluster')).toBe('prod-eu');
    expect(url.searchParams.has('entityRef')).toBe(false);
  });

  it('lists all requests without a query string when no filter is set', async () => {
    const fetch = fetchAnswering(200, { items: [] });
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await client.listRequests();

    expect(fetch.mock.calls[0][0]).toBe(
      'http://backstage.test/api/keda/requests',
    );
  });

  it('gets one request by its URL-encoded id', async () => {
    const fetch = fetchAnswering(200, record);
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await client.getRequest('req/1');

    expect(fetch.mock.calls[0][0]).toBe(
      'http://backstage.test/api/keda/requests/req%2F1',
    );
  });

  it.each([
    [
      'approveRequest',
      'approve',
      { comment: ' looks right ' },
      { comment: 'looks right' },
    ],
    [
      'rejectRequest',
      'reject',
      { comment: 'queue is shared' },
      { comment: 'queue is shared' },
    ],
    ['withdrawRequest', 'withdraw', {}, {}],
  ] as const)(
    '%s posts the trimmed comment to /requests/:id/%s',
    async (method, action, body, sent) => {
      const fetch = fetchAnswering(200, { ...record, state: 'approved' });
      const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

      const result = await (client[method] as any)('req-1', body);

      expect(result.state).toBe('approved');
      expect(fetch.mock.calls[0][0]).toBe(
        `http://backstage.test/api/keda/requests/req-1/${action}`,
      );
      expect(fetch.mock.calls[0][1]?.method).toBe('POST');
      expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual(sent);
    },
  );

  it('retries provisioning with POST /requests/:id/retry', async () => {
    const fetch = fetchAnswering(200, { ...record, state: 'provisioning' });
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await client.retryRequest('req-1');

    expect(fetch.mock.calls[0][0]).toBe(
      'http://backstage.test/api/keda/requests/req-1/retry',
    );
    expect(fetch.mock.calls[0][1]?.method).toBe('POST');
  });

  it('refuses a rejection without a comment before calling the backend', async () => {
    const fetch = jest.fn();
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await expect(
      client.rejectRequest('req-1', { comment: '  ' }),
    ).rejects.toThrow(/needs a comment/);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('throws a ResponseError with status 409 when someone else decided first', async () => {
    const fetch = fetchAnswering(409, {
      error: {
        name: 'ConflictError',
        message:
          "KEDA request 'req-1' is rejected (rejected by user:default/sam at 2026-11-28T06:00:00Z)",
      },
      response: { statusCode: 409 },
    });
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    const error = await client.approveRequest('req-1').catch(e => e);

    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(409);
    expect(error.body.error.name).toBe('ConflictError');
  });
});

describe('KedaClient template form API', () => {
  const discoveryApi = mockApis.discovery({
    baseUrl: 'http://backstage.test',
  });

  it('lists the clusters with GET /clusters', async () => {
    const clusters = [
      {
        cluster: 'demo-eks',
        synced: true,
        stale: false,
        accountId: '111111111111',
        region: 'eu-west-1',
      },
    ];
    const fetch = jest.fn(
      async (_url: RequestInfo | URL, _init?: RequestInit) =>
        jsonResponse(200, { clusters }),
    );
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    expect(await client.listClusters()).toEqual(clusters);
    expect(fetch.mock.calls[0][0]).toBe(
      'http://backstage.test/api/keda/clusters',
    );
  });

  it('posts the request to POST /plan and throws the backend refusal as a ResponseError', async () => {
    const request = {
      entityRef: 'component:default/orders-worker',
      cluster: 'demo-eks',
      namespace: 'orders',
      workload: { name: 'orders-worker' },
      kubernetesId: 'orders-worker',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
    };
    const ok = jest.fn(async (_url: RequestInfo | URL, _init?: RequestInit) =>
      jsonResponse(200, { autoApproved: true }),
    );
    const preview = await new KedaClient({
      discoveryApi,
      fetchApi: { fetch: ok },
    }).previewPlan(request);
    expect(preview.autoApproved).toBe(true);
    expect(ok.mock.calls[0][0]).toBe('http://backstage.test/api/keda/plan');
    expect(ok.mock.calls[0][1]?.method).toBe('POST');
    expect(JSON.parse(String(ok.mock.calls[0][1]?.body))).toEqual({ request });

    const refused = jest.fn(async () =>
      jsonResponse(403, {
        error: {
          name: 'NotAllowedError',
          message: 'owned by group:default/billing-team',
        },
        response: { statusCode: 403 },
      }),
    );
    const error = await new KedaClient({
      discoveryApi,
      fetchApi: { fetch: refused },
    })
      .previewPlan(request)
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(403);
  });
});
