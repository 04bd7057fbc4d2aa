import { createExternalRouteRef } from '@backstage/core-plugin-api';
import { createRouteRef } from '@backstage/frontend-plugin-api';

/** Route of the KEDA requests page (new frontend system). @alpha */
export const kedaRequestsRouteRef = createRouteRef();

/**
 * Where the scaffolder shows one template. Bound by default to the
 * scaffolder's `selectedTemplate` route in the new frontend system; legacy
 * apps may bind it in `bindRoutes`. Optional: when unbound the card links to
 * the standard `/create/templates/:namespace/:templateName`.
 *
 * Created with `@backstage/core-plugin-api` so one ref serves both systems
 * (its `useRouteRef` resolves in either).
 */
export const scaffolderTemplateRouteRef = createExternalRouteRef({
  id: 'keda:scaffolder-template',
  params: ['namespace', 'templateName'],
  optional: true,
  defaultTarget: 'scaffolder.selectedTemplate',
});
