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
export { kedaRequestsRouteRef } from './routes';

/** @alpha */
export default kedaFrontendPlugin;
