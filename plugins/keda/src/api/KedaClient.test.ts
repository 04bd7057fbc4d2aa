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
