import fs from 'node:fs';
import path from 'node:path';
import { ResponseError } from '@backstage/errors';
import { mockApis } from '@backstage/frontend-test-utils';
import YAML from 'yaml';
import { KedaClient } from './KedaClient';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** What the client sent on a call (the fetch API's URL and init). */
async function sent(fetch: jest.Mock, call = 0) {
  const [input, init] = fetch.mock.calls[call] as [string, RequestInit];
  expect(typeof input).toBe('string');
  const request = new Request(input, init);
  const text = await request.clone().text();
  return {
    url: request.url,
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: text ? JSON.parse(text) : undefined,
  };
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
    const { url: sentUrl, method } = await sent(fetch);
    const url = new URL(sentUrl);
    expect(method).toBe('GET');
    expect(url.origin + url.pathname).toBe(
      'http://backstage.test/api/keda/status',
    );
    expect(url.searchParams.get('entityRef')).toBe(
      'component:default/orders-worker',
    );
    expect(sentUrl).toContain('entityRef=component%3Adefault%2Forders-worker');
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

    // the Request follows the caller's signal
    const { signal } = await sent(fetch);
    expect(signal.aborted).toBe(false);
    controller.abort();
    expect(signal.aborted).toBe(true);
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
    const url = new URL((await sent(fetch)).url);
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

    expect((await sent(fetch)).url).toBe(
      'http://backstage.test/api/keda/requests',
    );
  });

  it('gets one request by its URL-encoded id', async () => {
    const fetch = fetchAnswering(200, record);
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await client.getRequest('req/1');

    expect((await sent(fetch)).url).toBe(
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
    async (method, action, body, expected) => {
      const fetch = fetchAnswering(200, { ...record, state: 'approved' });
      const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

      const result = await (client[method] as any)('req-1', body);

      expect(result.state).toBe('approved');
      const request = await sent(fetch);
      expect(request.url).toBe(
        `http://backstage.test/api/keda/requests/req-1/${action}`,
      );
      expect(request.method).toBe('POST');
      expect(request.headers.get('Content-Type')).toBe('application/json');
      expect(request.body).toEqual(expected);
    },
  );

  it('retries provisioning with POST /requests/:id/retry', async () => {
    const fetch = fetchAnswering(200, { ...record, state: 'provisioning' });
    const client = new KedaClient({ discoveryApi, fetchApi: { fetch } });

    await client.retryRequest('req-1');

    const request = await sent(fetch);
    expect(request.url).toBe(
      'http://backstage.test/api/keda/requests/req-1/retry',
    );
    expect(request.method).toBe('POST');
    // the spec gives retry no request body
    expect(request.body).toBeUndefined();
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
    expect((await sent(fetch)).url).toBe(
      'http://backstage.test/api/keda/clusters',
    );
  });

  it('posts through fetch middlewares that build new Requests from their input, as the app does', async () => {
    // Each middleware of the app's fetch API wraps its input in a new
    // Request; a Request whose body was taken cannot be wrapped again.
    const seen: unknown[] = [];
    const middlewareFetch = async (
      input: RequestInfo | URL,
      init?: RequestInit,
    ) => {
      const outer = new Request(input, init);
      const inner = new Request(input, init);
      seen.push(await inner.json(), outer.method);
      return jsonResponse(200, { autoApproved: true });
    };
    const client = new KedaClient({
      discoveryApi,
      fetchApi: { fetch: middlewareFetch },
    });
    const request = {
      entityRef: 'component:default/orders-worker',
      cluster: 'demo-eks',
      namespace: 'orders',
      workload: { name: 'orders-worker' },
      kubernetesId: 'orders-worker',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
    };
    await expect(client.previewPlan(request)).resolves.toEqual({
      autoApproved: true,
    });
    expect(seen).toEqual([{ request }, 'POST']);
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
    const sentPlan = await sent(ok);
    expect(sentPlan.url).toBe('http://backstage.test/api/keda/plan');
    expect(sentPlan.method).toBe('POST');
    expect(sentPlan.body).toEqual({ request });

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

describe('KedaClient against the OpenAPI document', () => {
  const spec = YAML.parse(
    fs.readFileSync(
      path.resolve(__dirname, '../../../keda-backend/src/schema/openapi.yaml'),
      'utf8',
    ),
  );
  const resolve = (node: any): any =>
    node?.$ref
      ? resolve(
          node.$ref
            .replace(/^#\//, '')
            .split('/')
            .reduce((at: any, key: string) => at[key], spec),
        )
      : node;

  /** The spec's operation the sent method and URL (below /api/keda) select. */
  function operationOf(method: string, url: URL) {
    const pathname = url.pathname.replace(/^\/api\/keda/, '');
    const templates = Object.keys(spec.paths).filter(template =>
      new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
    );
    // a literal path (/requests/preflight) before a templated one
    templates.sort((a, b) => a.split('{').length - b.split('{').length);
    for (const template of templates) {
      const item = spec.paths[template];
      const operation = item[method.toLowerCase()];
      if (operation) {
        const parameters = [
          ...(item.parameters ?? []),
          ...(operation.parameters ?? []),
        ].map(resolve);
        return { template, operation, parameters };
      }
    }
    throw new Error(`openapi.yaml has no operation ${method} ${pathname}`);
  }

  /** How the sent query and body differ from what the operation declares. */
  function specViolations(
    operation: any,
    parameters: any[],
    url: URL,
    sentRequest: { headers: Headers; body: any },
  ): string[] {
    const violations: string[] = [];
    const query = parameters.filter(p => p.in === 'query');
    for (const name of url.searchParams.keys()) {
      if (!query.some(p => p.name === name)) {
        violations.push(`undeclared query parameter ${name}`);
      }
    }
    for (const p of query.filter(q => q.required)) {
      if (!url.searchParams.has(p.name)) {
        violations.push(`missing query parameter ${p.name}`);
      }
    }
    const bodySchema = resolve(
      operation.requestBody?.content?.['application/json']?.schema,
    );
    if (!bodySchema) {
      if (sentRequest.body !== undefined) violations.push('a body');
      return violations;
    }
    if (sentRequest.headers.get('Content-Type') !== 'application/json') {
      violations.push('not a JSON body');
    }
    for (const key of bodySchema.required ?? []) {
      if (!(key in sentRequest.body)) violations.push(`missing body.${key}`);
    }
    if (bodySchema.additionalProperties === false) {
      for (const key of Object.keys(sentRequest.body)) {
        if (!(key in bodySchema.properties)) {
          violations.push(`undeclared body.${key}`);
        }
      }
    }
    const requestSchema = resolve(bodySchema.properties?.request);
    for (const key of Object.keys(sentRequest.body.request ?? {})) {
      if (!(key in requestSchema.properties)) {
        violations.push(`undeclared body.request.${key}`);
      }
    }
    return violations;
  }

  const discoveryApi = mockApis.discovery({
    baseUrl: 'http://backstage.test',
  });
  const request = {
    entityRef: 'component:default/orders-worker',
    cluster: 'demo-eks',
    namespace: 'orders',
    workload: { name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
    maxReplicas: 5,
  };

  it.each<[string, string, (client: KedaClient) => Promise<unknown>]>([
    [
      'getStatus',
      'getEntityStatus',
      c => c.getStatus('component:default/orders-worker'),
    ],
    [
      'listRequests',
      'listRequests',
      c =>
        c.listRequests({
          state: ['pending', 'failed'],
          entityRef: 'component:default/orders-worker',
          cluster: 'demo-eks',
          team: 'group:default/team-orders',
          requester: 'user:default/jane.doe',
        }),
    ],
    ['getRequest', 'getRequest', c => c.getRequest('req-1')],
    [
      'approveRequest',
      'approveRequest',
      c => c.approveRequest('req-1', { comment: 'ok' }),
    ],
    [
      'rejectRequest',
      'rejectRequest',
      c => c.rejectRequest('req-1', { comment: 'no' }),
    ],
    ['withdrawRequest', 'withdrawRequest', c => c.withdrawRequest('req-1')],
    ['retryRequest', 'retryRequest', c => c.retryRequest('req-1')],
    ['listClusters', 'getClusters', c => c.listClusters()],
    ['previewPlan', 'previewPlan', c => c.previewPlan(request)],
  ])(
    '%s sends the method, path, query and body of operation %s',
    async (_name, operationId, call) => {
      const fetch = jest.fn(
        async (_url: RequestInfo | URL, _init?: RequestInit) =>
          jsonResponse(200, { items: [], clusters: [] }),
      );
      await call(new KedaClient({ discoveryApi, fetchApi: { fetch } }));

      const sentRequest = await sent(fetch);
      const url = new URL(sentRequest.url);
      const { operation, parameters } = operationOf(sentRequest.method, url);
      expect(operation.operationId).toBe(operationId);
      expect(specViolations(operation, parameters, url, sentRequest)).toEqual(
        [],
      );
    },
  );

  it('maps an error answer of the spec (404 ErrorResponse) to a ResponseError', async () => {
    const { operation } = operationOf(
      'GET',
      new URL('http://backstage.test/api/keda/requests/req-9'),
    );
    expect(resolve(operation.responses['404']).description).toBe(
      'Backstage error body.',
    );
    const fetch = jest.fn(async () =>
      jsonResponse(404, {
        error: { name: 'NotFoundError', message: 'No request req-9' },
        request: { method: 'GET', url: '/api/keda/requests/req-9' },
        response: { statusCode: 404 },
      }),
    );

    const error = await new KedaClient({ discoveryApi, fetchApi: { fetch } })
      .getRequest('req-9')
      .catch(e => e);

    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(404);
    expect(error.body.error).toEqual({
      name: 'NotFoundError',
      message: 'No request req-9',
    });
  });
});
