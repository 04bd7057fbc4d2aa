/**
 * KEDA frontend plugin: the entity scaling card and the KEDA requests page.
 *
 * This entry point serves apps on the legacy frontend system; apps on the new
 * frontend system install the default export of this package's `/alpha`
 * entry point.
 *
 * @packageDocumentation
 */
export {
  kedaPlugin,
  EntityKedaContent,
  EntityKedaScalingCard,
  KedaRequestPickerFieldExtension,
  KedaRequestsPage,
} from './plugin';
export type { EntityKedaScalingCardProps } from './components/EntityKedaScalingCard';
export type { EntityKedaContentProps } from './components/EntityKedaContent';
export type {
  KedaRequestPickerProps,
  KedaRequestPickerUiOptions,
} from './components/fields/KedaRequestPicker';
export { kedaApiRef, KedaClient } from './api';
export type { KedaApi, KedaRequestsApi, KedaTemplateFormApi } from './api';
export {
  KedaClusterPickerFieldExtension,
  KedaPlanPreviewFieldExtension,
  KedaQueuePickerFieldExtension,
} from './fieldExtensions';
export {
  isKedaAvailable,
  kedaEntityFilter,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
} from './lib/isKedaAvailable';
