import { createBackendPlugin } from '@backstage/backend-plugin-api';
import {
  scaffolderActionsExtensionPoint,
  type TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { KEDA_ACTION_IDS } from '@keda-self-service/plugin-keda-common';
import * as actions from './actions';
import { scaffolderModuleKeda } from './module';
import { startLocalTestBackend } from '@internal/test-backend';
import { kedaConfigData } from './__testUtils__/fixtures';

jest.setTimeout(60_000);

/*
 * The action ids the module registers are keda-common's KEDA_ACTION_IDS,
 * the table the permission policy and the templates' tests use.
 */
describe('the registered action ids', () => {
  it("are exactly keda-common's KEDA_ACTION_IDS", async () => {
    const registered: TemplateAction<any, any, any>[] = [];
    // Stands in for the scaffolder plugin: collects what modules add.
    const scaffolder = createBackendPlugin({
      pluginId: 'scaffolder',
      register(env) {
        env.registerExtensionPoint(scaffolderActionsExtensionPoint, {
          addActions: (...added) => registered.push(...added),
        });
        env.registerInit({ deps: {}, async init() {} });
      },
    });
    const { backend } = await startLocalTestBackend({
      config: {
        app: { baseUrl: 'http://localhost:3000' },
        keda: kedaConfigData(),
      },
      features: [scaffolder, scaffolderModuleKeda],
    });
    try {
      const ids = registered.map(action => action.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual(Object.values(KEDA_ACTION_IDS).sort());
    } finally {
      await backend.stop();
    }
  });

  it('are the exported KEDA_*_ACTION_ID constants', () => {
    const exported = Object.entries(actions)
      .filter(([name]) => /^KEDA_\w+_ACTION_ID$/.test(name))
      .map(([, id]) => id as string);
    expect(exported.sort()).toEqual(Object.values(KEDA_ACTION_IDS).sort());
  });
});
