import type { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import type { EntityKedaStatus } from '@internal/plugin-keda-common';
import type { KedaApi } from './KedaApi';

/**
 * {@link KedaApi} over HTTP: `GET <keda backend>/status?entityRef=<ref>`.
 *
 * The fetch API adds the user's Backstage token, so the backend can check
 * `keda.status.read` and catalog read access for the entity.
 *
 * @public
 */
export class KedaClient implements KedaApi {
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
}
