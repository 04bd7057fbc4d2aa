import type { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  EntityKedaStatus,
  KedaClusterInfo,
  KedaClusterList,
  KedaPlanPreview,
  KedaPlanPreviewBody,
  KedaRequestInput,
  KedaRequestList,
  KedaRequestListFilter,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import type { KedaApi } from './KedaApi';
import type { KedaRequestsApi } from './KedaRequestsApi';
import type { KedaTemplateFormApi } from './KedaTemplateFormApi';

/**
 * {@link KedaApi} over HTTP: `GET <keda backend>/status?entityRef=<ref>`,
 * plus the request API (`<keda backend>/requests…`) of {@link KedaRequestsApi}.
 *
 * The fetch API adds the user's Backstage token, so the backend can check
 * `keda.status.read` and catalog read access for the entity.
 *
 * @public
 */
export class KedaClient
  implements KedaApi, KedaRequestsApi, KedaTemplateFormApi
{
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
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
    const baseUrl = await this.discoveryApi.getBaseUrl('keda');
    const query = new URLSearchParams({ entityRef });
    const response = await this.fetchApi.fetch(`${baseUrl}/status?${query}`, {
      signal: options?.signal,
    });
    if (!response.ok) {
      // ResponseError keeps the backend's serialised error (name, message,
      // status) so ResponseErrorPanel can show what the server said.
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as EntityKedaStatus;
  }

  async listRequests(
    filter: KedaRequestListFilter = {},
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord[]> {
    const query = new URLSearchParams();
    const states = ([] as KedaRequestState[]).concat(filter.state ?? []);
    if (states.length > 0) query.set('state', states.join(','));
    for (const key of ['entityRef', 'cluster', 'team', 'requester'] as const) {
      const value = filter[key];
      if (value) query.set(key, value);
    }
    const search = query.toString();
    const list = await this.request<KedaRequestList>(
      `/requests${search ? `?${search}` : ''}`,
      { signal: options?.signal },
    );
    return list.items;
  }

  async getRequest(
    id: string,
    options?: { signal?: AbortSignal },
  ): Promise<KedaRequestRecord> {
    return this.request(`/requests/${requestIdSegment(id, 'getRequest')}`, {
      signal: options?.signal,
    });
  }

  async approveRequest(
    id: string,
    body: { comment?: string } = {},
  ): Promise<KedaRequestRecord> {
    return this.decide(id, 'approve', body);
  }

  async rejectRequest(
    id: string,
    body: { comment: string },
  ): Promise<KedaRequestRecord> {
    // The backend answers 400 too, but this saves a round trip and names the
    // fix where the caller can act on it.
    if (!body?.comment?.trim()) {
      throw new TypeError(
        'KedaClient.rejectRequest needs a comment telling the requester why',
      );
    }
    return this.decide(id, 'reject', body);
  }

  async withdrawRequest(
    id: string,
    body: { comment?: string } = {},
  ): Promise<KedaRequestRecord> {
    return this.decide(id, 'withdraw', body);
  }

  async retryRequest(id: string): Promise<KedaRequestRecord> {
    return this.decide(id, 'retry', {});
  }

  async listClusters(options?: {
    signal?: AbortSignal;
  }): Promise<KedaClusterInfo[]> {
    const list = await this.request<KedaClusterList>('/clusters', {
      signal: options?.signal,
    });
    return list.clusters;
  }

  async previewPlan(
    request: KedaRequestInput,
    options?: { signal?: AbortSignal },
  ): Promise<KedaPlanPreview> {
    const body: KedaPlanPreviewBody = { request };
    return this.request('/plan', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: options?.signal,
    });
  }

  private async decide(
    id: string,
    action: 'approve' | 'reject' | 'withdraw' | 'retry',
    body: { comment?: string },
  ): Promise<KedaRequestRecord> {
    const comment = body.comment?.trim();
    return this.request(
      `/requests/${requestIdSegment(id, `${action}Request`)}/${action}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(comment ? { comment } : {}),
      },
    );
  }

  private async request<T>(path: string, init: RequestInit): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('keda');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, init);
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}

function requestIdSegment(id: string, method: string): string {
  if (!id) {
    throw new TypeError(`KedaClient.${method} needs a request id`);
  }
  return encodeURIComponent(id);
}
