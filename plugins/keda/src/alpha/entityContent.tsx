import { useRouteRef } from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { z } from 'zod';
import { kedaEntityFilter } from '../lib/isKedaAvailable';
import { kedaRequestsRouteRef } from '../routes';

/**
 * `entity-content:keda/autoscaling` — the entity page tab "Autoscaling"
 * (path `/autoscaling`), for the same entities as the scaling card. Extra
 * config: `refreshIntervalSeconds`; the blueprint's own `path`, `title`,
 * `group` and `filter` can be overridden in `app.extensions` as well.
 *
 * @alpha
 */
export const kedaEntityContent = EntityContentBlueprint.makeWithOverrides({
  name: 'autoscaling',
  configSchema: {
    refreshIntervalSeconds: z.number().positive().optional(),
  },
  factory(originalFactory, { config }) {
    return originalFactory({
      path: '/autoscaling',
      title: 'Autoscaling',
      filter: kedaEntityFilter,
      loader: async () => {
        const { EntityKedaContent } = await import(
          '../components/EntityKedaContent'
        );
        function AutoscalingTab() {
          // The request ids link to the requests page wherever it is mounted.
          const requestsPage = useRouteRef(kedaRequestsRouteRef);
          return (
            <EntityKedaContent
              refreshIntervalSeconds={config.refreshIntervalSeconds}
              requestsPagePath={requestsPage?.()}
            />
          );
        }
        return <AutoscalingTab />;
      },
    });
  },
});
