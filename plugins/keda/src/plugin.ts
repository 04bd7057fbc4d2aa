import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { createScaffolderFieldExtension } from '@backstage/plugin-scaffolder-react';
import { KEDA_REQUEST_PICKER_FIELD } from '@keda-self-service/plugin-keda-common';
import { KedaClient, kedaApiRef } from './api';
import { KedaRequestPicker } from './components/fields/KedaRequestPicker/KedaRequestPicker';
import type { EntityKedaContentProps } from './components/EntityKedaContent';
import type { EntityKedaScalingCardProps } from './components/EntityKedaScalingCard';
import { scaffolderTemplateRouteRef } from './routes';

/** Legacy route ref of the KEDA requests page. */
export const legacyKedaRequestsRouteRef = createRouteRef({
  id: 'keda:requests',
});

/**
 * The KEDA plugin for apps on the legacy frontend system
 * (`createApp` from `@backstage/app-defaults`). New-system apps use the
 * default export of this package's `/alpha` entry point instead.
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
export const EntityKedaScalingCard: (
  props: EntityKedaScalingCardProps,
) => JSX.Element = kedaPlugin.provide(
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
export const KedaRequestsPage: () => JSX.Element = kedaPlugin.provide(
  createRoutableExtension({
    name: 'KedaRequestsPage',
    component: () =>
      import('./components/KedaRequestsPage').then(m => m.KedaRequestsPage),
    mountPoint: legacyKedaRequestsRouteRef,
  }),
);

/**
 * The entity page tab "Autoscaling" for legacy apps (e.g. an
 * `EntityLayout.Route path="/autoscaling"` behind `isKedaAvailable`). Pass
 * `requestsPagePath` when the KEDA requests page is not mounted at `/keda`.
 *
 * @public
 */
export const EntityKedaContent: (props: EntityKedaContentProps) => JSX.Element =
  kedaPlugin.provide(
    createComponentExtension({
      name: 'EntityKedaContent',
      component: {
        lazy: () =>
          import('./components/EntityKedaContent').then(
            m => m.EntityKedaContent,
          ),
      },
    }),
  );

/**
 * The `KedaRequestPicker` template field for legacy apps: put it inside
 * `<ScaffolderFieldExtensions>` of the scaffolder route.
 *
 * @public
 */
export const KedaRequestPickerFieldExtension = kedaPlugin.provide(
  createScaffolderFieldExtension({
    name: KEDA_REQUEST_PICKER_FIELD,
    component: KedaRequestPicker,
  }),
);
