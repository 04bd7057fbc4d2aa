import fs from 'node:fs';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import YAML from 'yaml';
import { KedaRequestsClient } from './kedaRequestsClient';

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

/** The spec's operation a method and a path below /api/keda select. */
function operationOf(method: string, pathname: string) {
  const templates = Object.keys(spec.paths)
    .filter(template =>
      new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
    )
    // a literal path (/requests/preflight) before a templated one
    .sort((a, b) => a.split('{').length - b.split('{').length);
  for (const template of templates) {
    const item = spec.paths[template];
    const operation = item[method.toLowerCase()];
    if (operation) {
      return {
        operation,
        query: [...(item.parameters ?? []), ...(operation.parameters ?? [])]
          .map(resolve)
          .filter(p => p.in === 'query')
          .map(p => p.name),
        body: resolve(
          operation.requestBody?.content?.['application/json']?.schema,
        ),
      };
    }
  }
  throw new Error(`openapi.yaml has no operation ${method} ${pathname}`);
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText: STATUS_CODES[status],
    headers: { 'Content-Type': 'application/json' },
  });
}

describe('KedaRequestsClient', () => {
  const credentials = mockCredentials.user('user:default/jane.doe');
  const client = new KedaRequestsClient({
    discovery: {
      getBaseUrl: async () => 'http://backstage.test/api/keda',
      getExternalBaseUrl: async () => 'http://backstage.test/api/keda',
    },
    auth: mockServices.auth(),
  });
  const record = { id: 'req-1', state: 'provisioned', decisions: [] };
  let fetchSpy: jest.SpyInstance;

  function answer(response: () => Response) {
    fetchSpy = jest
      .spyOn(globalThis, 'fetch')
      .mockImplementation(async () => response());
  }

  /** What the client sent, and the spec operation it is. */
  async function sent(call = 0) {
    const request = fetchSpy.mock.calls[call][0] as Request;
    const url = new URL(request.url);
    const text = await request.clone().text();
    const pathname = url.pathname.replace(/^\/api\/keda/, '');
    return {
      method: request.method,
      pathname,
      url,
      authorization: request.headers.get('Authorization'),
      contentType: request.headers.get('Content-Type'),
      body: text ? JSON.parse(text) : undefined,
      spec: operationOf(request.method, pathname),
    };
  }

  afterEach(() => fetchSpy.mockRestore());

  it('lists with GET /requests, the state filter repeated, as the initiator', async () => {
    answer(() => jsonResponse(200, { items: [record] }));

    const items = await client.list(
      {
        entityRef: 'component:default/orders-worker',
        state: ['provisioned', 'failed'],
      },
      credentials,
    );

    expect(items).toEqual([record]);
    const request = await sent();
    expect(request.method).toBe('GET');
    expect(request.spec.operation.operationId).toBe('listRequests');
    expect(request.url.origin + request.url.pathname).toBe(
      'http://backstage.test/api/keda/requests',
    );
    expect(request.url.search).toBe(
      '?entityRef=component%3Adefault%2Forders-worker&state=provisioned&state=failed',
    );
    expect(
      [...request.url.searchParams.keys()].filter(
        key => !request.spec.query.includes(key),
      ),
    ).toEqual([]);
    expect(request.body).toBeUndefined();
    expect(request.authorization).toBe(
      `Bearer mock-service-token:${JSON.stringify({
        obo: 'user:default/jane.doe',
        target: 'keda',
      })}`,
    );
  });

  it('reports progress with POST /requests/{id}/progress and the JSON body the spec declares', async () => {
    answer(() => jsonResponse(200, record));
    const body = {
      state: 'provisioned' as const,
      roleArns: { scaler: 'arn:aws:iam::222222222222:role/keda-orders' },
    };

    expect(await client.progress('req/1', body, credentials)).toEqual(record);

    const request = await sent();
    expect(request.method).toBe('POST');
    expect(request.spec.operation.operationId).toBe('reportRequestProgress');
    expect(request.url.pathname).toBe('/api/keda/requests/req%2F1/progress');
    expect(request.contentType).toBe('application/json');
    expect(request.body).toEqual(body);
    expect(request.spec.body.required).toEqual(
      expect.arrayContaining(['state']),
    );
    expect(
      Object.keys(request.body).filter(
        key => !(key in request.spec.body.properties),
      ),
    ).toEqual([]);
  });

  it('creates with POST /requests and tells a new record (201) from the one the task already made (200)', async () => {
    const body = {
      request: {
        entityRef: 'component:default/orders-worker',
        cluster: 'demo-eks',
        namespace: 'orders',
        workload: { name: 'orders-worker' },
        kubernetesId: 'orders-worker',
        queueUrl:
          'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
      },
      taskId: 'task-7',
    };
    answer(() => jsonResponse(201, record));
    expect(await client.create(body, credentials)).toEqual({
      record,
      created: true,
    });
    const request = await sent();
    expect(request.spec.operation.operationId).toBe('createRequest');
    expect(request.body).toEqual(body);
    fetchSpy.mockRestore();

    answer(() => jsonResponse(200, record));
    expect(await client.create(body, credentials)).toEqual({
      record,
      created: false,
    });
  });

  it('maps an error answer to the Backstage error of its status, with the backend message', async () => {
    answer(() =>
      jsonResponse(409, {
        error: {
          name: 'ConflictError',
          message: 'Request req-1 is provisioned; cannot become failed',
        },
        response: { statusCode: 409 },
      }),
    );
    const conflict = await client
      .progress('req-1', { state: 'failed', error: 'x' }, credentials)
      .catch(e => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict.message).toBe(
      'keda backend: POST /requests/req-1/progress answered 409 Conflict: Request req-1 is provisioned; cannot become failed',
    );
    fetchSpy.mockRestore();

    answer(() =>
      jsonResponse(404, {
        error: { name: 'NotFoundError', message: 'No request req-9' },
      }),
    );
    await expect(client.get('req-9', credentials)).rejects.toThrow(
      new NotFoundError(
        'keda backend: GET /requests/req-9 answered 404 Not Found: No request req-9',
      ),
    );
    fetchSpy.mockRestore();

    answer(
      () =>
        new Response('upstream down', {
          status: 503,
          statusText: 'Service Unavailable',
        }),
    );
    const unavailable = await client
      .list({ cluster: 'demo-eks' }, credentials)
      .catch(e => e);
    expect(unavailable).toBeInstanceOf(ServiceUnavailableError);
    expect(unavailable.message).toBe(
      'keda backend: GET /requests?cluster=demo-eks answered 503 Service Unavailable: upstream down',
    );
  });
});
