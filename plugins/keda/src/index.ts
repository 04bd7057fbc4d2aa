/**
 * KEDA frontend plugin: the entity scaling card and the KEDA requests page.
 *
 * This entry point serves apps on the legacy frontend system; apps on the new
 * frontend system install the default export of `@internal/plugin-keda/alpha`.
 *
 * @packageDocumentation
 */
export { kedaPlugin, EntityKedaScalingCard, KedaRequestsPage } from './plugin';
export type { EntityKedaScalingCardProps } from './components/EntityKedaScalingCard';
export { kedaApiRef, KedaClient } from './api';
export type { KedaApi } from './api';
export {
  isKedaAvailable,
  kedaEntityFilter,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
} from './lib/isKedaAvailable';
