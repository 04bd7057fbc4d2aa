/**
 * New frontend system entry point of the KEDA plugin.
 *
 * @packageDocumentation
 */
import { kedaFrontendPlugin } from './alpha/plugin';

export {
  kedaApi,
  kedaRequestsPage,
  kedaScalingEntityCard,
} from './alpha/extensions';
export { kedaEntityContent } from './alpha/entityContent';
export { kedaRequestPickerField } from './alpha/kedaRequestPicker';
export {
  kedaClusterPickerField,
  kedaPlanPreviewField,
  kedaQueuePickerField,
} from './alpha/formFields';
export { kedaRequestsRouteRef } from './routes';

/** @alpha */
export default kedaFrontendPlugin;
