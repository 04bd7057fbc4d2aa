export { kedaApiRef } from './KedaApi';
export type { KedaApi } from './KedaApi';
export { KedaClient } from './KedaClient';
