import { createApiRef } from '@backstage/frontend-plugin-api';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import type { KedaRequestsApi } from './KedaRequestsApi';
import type { KedaTemplateFormApi } from './KedaTemplateFormApi';

/**
 * Client of the keda backend: the status API (entity scaling card) and,
 * optionally, the request API (KEDA requests page).
 *
 * The request methods (and the template form's `listClusters` and
 * `previewPlan`, {@link KedaTemplateFormApi}) are optional in the type so that status-only
 * stand-ins (the fixtures, the dev app) remain valid `KedaApi`s; `KedaClient`
 * implements them all, and the requests page checks with
 * `isKedaRequestsApi` and says which methods are missing otherwise.
 *
 * @public
 */
export interface KedaApi
  extends Partial<KedaRequestsApi>,
    Partial<KedaTemplateFormApi> {
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
