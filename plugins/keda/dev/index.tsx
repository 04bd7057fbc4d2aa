/**
 * Dev app for the KEDA scaling card: every card state side by side, answered
 * from the fixtures (no backend, no cluster). `yarn start` in plugins/keda.
 * Routes: `/` gallery of all scenarios; `/?scenario=<name>` one scenario
 * (for screenshots). Theme: user settings, or `?theme=dark`.
 */
import { createApp } from '@backstage/frontend-defaults';
import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import ReactDOM from 'react-dom/client';
import kedaPlugin from '../src/alpha';
import { kedaApiRef } from '../src/api';
import { fixtureKedaApi } from '../src/fixtures';
import { DEV_SCENARIOS, devScenarioFor } from './scenarios';

const devModule = createFrontendModule({
  pluginId: 'keda',
  extensions: [
    // Replaces api:keda: answers by the scenario encoded in the entity name.
    ApiBlueprint.make({
      params: defineParams =>
        defineParams({
          api: kedaApiRef,
          deps: {},
          factory: () => ({
            async getStatus(entityRef: string) {
              const scenario = devScenarioFor(entityRef);
              if (scenario === 'loading') {
                return new Promise<never>(() => {});
              }
              if (scenario === 'error') {
                throw new Error(
                  'Request failed with 503 Service Unavailable: keda status cache is not ready',
                );
              }
              return fixtureKedaApi(scenario).getStatus(entityRef);
            },
          }),
        }),
    }),
    PageBlueprint.make({
      name: 'scenarios',
      params: {
        path: '/',
        title: 'KEDA card scenarios',
        loader: () =>
          import('./ScenarioGallery').then(m => (
            <m.ScenarioGallery scenarios={DEV_SCENARIOS} />
          )),
      },
    }),
  ],
});

const app = createApp({ features: [kedaPlugin, devModule] });

ReactDOM.createRoot(document.getElementById('root')!).render(app.createRoot());
