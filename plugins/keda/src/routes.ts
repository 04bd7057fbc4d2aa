import { createRouteRef } from '@backstage/frontend-plugin-api';

/** Route of the KEDA requests page (new frontend system). */
export const kedaRequestsRouteRef = createRouteRef();
