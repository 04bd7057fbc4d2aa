import type { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  EntityKedaStatus,
  KedaClusterInfo,
  KedaPlanPreview,
  KedaRequestInput,
  KedaRequestListFilter,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import createClient, { type Client } from 'openapi-fetch';
import type { KedaApi } from './KedaApi';
import type { KedaRequestsApi } from './KedaRequestsApi';
import type { KedaTemplateFormApi } from './KedaTemplateFormApi';
import type { paths } from './generated/openapi';

/**
 * {@link KedaApi} over HTTP: `GET <keda backend>/status?entityRef=<ref>`,
 * plus the request API (`<keda backend>/requests…`) of {@link KedaRequestsApi}
 * and the template form's `/clusters` and `/plan`.
 *
 * A thin wrapper over an `openapi-fetch` client typed by the keda backend's
 * OpenAPI document (`./generated/openapi.ts`, `yarn openapi:clients`). The
 * fetch API adds the user's Backstage token, so the backend can check
 * `keda.status.read` and catalog read access for the entity.
 *
 * @public
 */
export class KedaClient
  implements KedaApi, KedaRequestsApi, KedaTemplateFormApi
{
  private readonly discoveryApi: DiscoveryApi;
  private readonly client: Client<paths>;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    const fetchApi = options.fetchApi;
    this.client = createClient<paths>({
      // Handed on as URL and init, not as openapi-fetch's Request: the
      // app's fetch middlewares build new Requests from their input, and a
      // Request's body can be taken only once ("Cannot construct a Request
      // with a Request object that has already been used").
      fetch: async request =>
        fetchApi.fetch(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body ? await request.text() : undefined,
          signal: request.signal,
        }),
    });
    this.client.use({
      async onResponse({ response }) {
        // ResponseError keeps the backend's serialised error (name, message,
        // status) so ResponseErrorPanel can show what the server said.
        if (!response.ok) throw await ResponseError.fromResponse(response);
        return undefined;
      },
    });
  }

  async getStatus(
    entityRef: string,
    options?: { signal?: AbortSignal },
  ): Promise<EntityKedaStatus> {
    if (!entityRef) {
      throw new TypeError(
        'KedaClient.getStatus needs an entityRef such as "component:default/orders-worker"',
      );
    }
    const { data } = await this.client.request('get', '/status', {
      baseUrl: await this.baseUrl(),
      params: { query: { entityRef } },
      signal: options?.signal,
    });
    return data!;
  }

  async listRequests(
    filter: KedaRequestListFilter = {},
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord[]> {
    const states = ([] as KedaRequestState[]).concat(filter.state ?? []);
    const { data } = await this.client.request('get', '/requests', {
      baseUrl: await this.baseUrl(),
      params: {
        query: {
          // one comma-separated item, which the spec allows as well as
          // repeating the parameter
          state: states.length > 0 ? [states.join(',')] : undefined,
          entityRef: filter.entityRef || undefined,
          cluster: filter.cluster || undefined,
          team: filter.team || undefined,
          requester: filter.requester || undefined,
        },
      },
      signal: options?.signal,
    });
    return data!.items;
  }

  async getRequest(
    id: string,
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request('get', '/requests/{id}', {
      baseUrl: await this.baseUrl(),
      params: { path: { id: requestId(id, 'getRequest') } },
      signal: options?.signal,
    });
    return data!;
  }

  async approveRequest(
    id: string,
    body: { comment?: string } = {},
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request(
      'post',
      '/requests/{id}/approve',
      {
        baseUrl: await this.baseUrl(),
        params: { path: { id: requestId(id, 'approveRequest') } },
        body: trimmedComment(body),
      },
    );
    return data!;
  }

  async rejectRequest(
    id: string,
    body: { comment: string },
  ): Promise<KedaRequestRecord> {
    // The backend answers 400 too, but this saves a round trip and names the
    // fix where the caller can act on it.
    const comment = body?.comment?.trim();
    if (!comment) {
      throw new TypeError(
        'KedaClient.rejectRequest needs a comment telling the requester why',
      );
    }
    const { data } = await this.client.request(
      'post',
      '/requests/{id}/reject',
      {
        baseUrl: await this.baseUrl(),
        params: { path: { id: requestId(id, 'rejectRequest') } },
        body: { comment },
      },
    );
    return data!;
  }

  async withdrawRequest(
    id: string,
    body: { comment?: string } = {},
  ): Promise<KedaRequestRecord> {
    const { data } = await this.client.request(
      'post',
      '/requests/{id}/withdraw',
      {
        baseUrl: await this.baseUrl(),
        params: { path: { id: requestId(id, 'withdrawRequest') } },
        body: trimmedComment(body),
      },
    );
    return data!;
  }

  async retryRequest(id: string): Promise<KedaRequestRecord> {
    const { data } = await this.client.request('post', '/requests/{id}/retry', {
      baseUrl: await this.baseUrl(),
      params: { path: { id: requestId(id, 'retryRequest') } },
    });
    return data!;
  }

  async listClusters(options?: {
    signal?: AbortSignal;
  }): Promise<KedaClusterInfo[]> {
    const { data } = await this.client.request('get', '/clusters', {
      baseUrl: await this.baseUrl(),
      signal: options?.signal,
    });
    return data!.clusters;
  }

  async previewPlan(
    request: KedaRequestInput,
    options?: { signal?: AbortSignal },
  ): Promise<KedaPlanPreview> {
    const { data } = await this.client.request('post', '/plan', {
      baseUrl: await this.baseUrl(),
      body: { request },
      signal: options?.signal,
    });
    return data!;
  }

  /** The keda backend's base URL; the spec's paths are relative to it. */
  private baseUrl(): Promise<string> {
    return this.discoveryApi.getBaseUrl('keda');
  }
}

function requestId(id: string, method: string): string {
  if (!id) {
    throw new TypeError(`KedaClient.${method} needs a request id`);
  }
  return id;
}

function trimmedComment(body: { comment?: string }): { comment?: string } {
  const comment = body?.comment?.trim();
  return comment ? { comment } : {};
}
