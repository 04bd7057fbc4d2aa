export { KedaRequestsPage } from './KedaRequestsPage';
