export { kedaApiRef } from './KedaApi';
export type { KedaApi } from './KedaApi';
export { isKedaRequestsApi, missingRequestMethods } from './KedaRequestsApi';
export type { KedaRequestsApi } from './KedaRequestsApi';
export { KedaClient } from './KedaClient';
export type { KedaTemplateFormApi } from './KedaTemplateFormApi';
