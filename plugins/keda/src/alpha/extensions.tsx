import {
  ApiBlueprint,
  PageBlueprint,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import ShowChartIcon from '@material-ui/icons/ShowChart';
import { z } from 'zod';
import { KedaClient, kedaApiRef } from '../api';
import { kedaEntityFilter } from '../lib/isKedaAvailable';
import { kedaRequestsRouteRef } from '../routes';

/** `api:keda` — the status API client. @alpha */
export const kedaApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: kedaApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new KedaClient({ discoveryApi, fetchApi }),
    }),
});

/**
 * `entity-card:keda/scaling` — shown for entities with a Kubernetes id or
 * label selector. Extra config: `refreshIntervalSeconds` (overrides
 * `keda.frontend.refreshIntervalSeconds`) and `title`.
 *
 * @alpha
 */
export const kedaScalingEntityCard = EntityCardBlueprint.makeWithOverrides({
  name: 'scaling',
  configSchema: {
    refreshIntervalSeconds: z.number().positive().optional(),
    title: z.string().optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      filter: kedaEntityFilter,
      type: 'content',
      loader: () =>
        import('../components/EntityKedaScalingCard').then(m => (
          <m.EntityKedaScalingCard
            refreshIntervalSeconds={config.refreshIntervalSeconds}
            title={config.title}
          />
        )),
    });
  },
});

/** `page:keda` — the KEDA requests page, with its nav item. @alpha */
export const kedaRequestsPage = PageBlueprint.make({
  params: {
    path: '/keda',
    title: 'KEDA requests',
    icon: <ShowChartIcon />,
    routeRef: kedaRequestsRouteRef,
    loader: () =>
      import('../components/KedaRequestsPage').then(m => (
        <m.KedaRequestsPage />
      )),
  },
});
