import { createApiRef } from '@backstage/frontend-plugin-api';
import type { EntityKedaStatus } from '@internal/plugin-keda-common';

/**
 * Client of the keda backend's status API, as used by the entity scaling card.
 *
 * @public
 */
export interface KedaApi {
  /**
   * The live scaling state of one catalog entity: its ScaledObjects (from the
   * backend's watch cache), the freshness of each cluster's cache and the
   * requests that are not yet visible as ScaledObjects.
   *
   * @param entityRef - A full entity ref, e.g. `component:default/orders-worker`.
   */
  getStatus(
    entityRef: string,
    options?: { signal?: AbortSignal },
  ): Promise<EntityKedaStatus>;
}

/**
 * The `ApiRef` of {@link KedaApi}. The same ref serves the new frontend system
 * (`ApiBlueprint` in `/alpha`) and legacy apps (`createPlugin({ apis })`).
 *
 * @public
 */
export const kedaApiRef = createApiRef<KedaApi>().with({
  id: 'plugin.keda.status',
  pluginId: 'keda',
});
