import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { KedaClient, kedaApiRef } from './api';
import { scaffolderTemplateRouteRef } from './routes';

/** Legacy route ref of the KEDA requests page. */
export const legacyKedaRequestsRouteRef = createRouteRef({
  id: 'keda:requests',
});

/**
 * The KEDA plugin for apps on the legacy frontend system
 * (`createApp` from `@backstage/app-defaults`). New-system apps use the
 * default export of `@internal/plugin-keda/alpha` instead.
 *
 * @public
 */
export const kedaPlugin = createPlugin({
  id: 'keda',
  apis: [
    createApiFactory({
      api: kedaApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new KedaClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { requests: legacyKedaRequestsRouteRef },
  externalRoutes: { scaffolderTemplate: scaffolderTemplateRouteRef },
});

/**
 * The entity scaling card for legacy apps; put it on the entity page behind
 * `isKedaAvailable`.
 *
 * @public
 */
export const EntityKedaScalingCard = kedaPlugin.provide(
  createComponentExtension({
    name: 'EntityKedaScalingCard',
    component: {
      lazy: () =>
        import('./components/EntityKedaScalingCard').then(
          m => m.EntityKedaScalingCard,
        ),
    },
  }),
);

/**
 * The KEDA requests page for legacy apps (mount it at e.g. `/keda`).
 *
 * @public
 */
export const KedaRequestsPage = kedaPlugin.provide(
  createRoutableExtension({
    name: 'KedaRequestsPage',
    component: () =>
      import('./components/KedaRequestsPage').then(m => m.KedaRequestsPage),
    mountPoint: legacyKedaRequestsRouteRef,
  }),
);
