import { useApi } from '@backstage/frontend-plugin-api';
import {
  isKedaRequestsApi,
  kedaApiRef,
  missingRequestMethods,
  type KedaRequestsApi,
} from '../../api';

/**
 * The request API of the registered `kedaApiRef`. `KedaClient` implements
 * it; a status-only replacement (e.g. the dev app's fixtures) does not, and
 * then the page says which methods are missing instead of failing on a
 * `TypeError` deep inside a click handler.
 */
export function useKedaRequestsApi(): KedaRequestsApi {
  const api = useApi(kedaApiRef);
  if (!isKedaRequestsApi(api)) {
    throw new Error(
      `The registered keda API (api:keda) does not implement the request API: missing ${missingRequestMethods(
        api,
      ).join(', ')}. Use KedaClient, or add these methods to the replacement`,
    );
  }
  return api;
}
