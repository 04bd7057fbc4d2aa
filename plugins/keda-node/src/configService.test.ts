import {
  createBackendModule,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import {
  kedaConfigServiceFromConfig,
  kedaConfigServiceRef,
  type KedaConfigService,
} from './configService';

const data = {
  keda: {
    clusters: [
      {
        name: 'demo-eks',
        url: 'https://k8s.example:6443',
        serviceAccountToken: 'token',
        accountId: '111111111111',
        region: 'eu-west-1',
        kedaVersion: '2.20.2',
      },
    ],
    approvals: { approverGroups: ['group:default/sre'] },
  },
};

/** A Config that counts the reads of `keda`'s clusters. */
function countingConfig(raw: object) {
  const config = new ConfigReader(raw);
  let clusterReads = 0;
  const counting = Object.create(config);
  counting.getOptionalConfigArray = (key: string) => {
    if (key === 'keda.clusters') clusterReads++;
    return config.getOptionalConfigArray(key);
  };
  return { config: counting, reads: () => clusterReads };
}

describe('kedaConfigServiceFromConfig', () => {
  it('reads keda.* once and hands out the same answer', () => {
    const { config, reads } = countingConfig(data);
    const service = kedaConfigServiceFromConfig(config);
    const first = service.config();
    expect(first.clusters.map(c => c.name)).toEqual(['demo-eks']);
    expect(service.config()).toBe(first);
    expect(service.approvals()).toBe(first.approvals);
    expect(reads()).toBe(1);
  });

  it('answers the approvals when a cluster entry is broken, and names the broken key on every call for the rest', () => {
    const service = kedaConfigServiceFromConfig(
      new ConfigReader({
        keda: {
          clusters: [{ name: 'lonely', region: 'eu-west-1' }],
          approvals: { approverGroups: ['group:default/sre'] },
        },
      }),
    );
    expect(service.approvals().approverGroups).toEqual(['group:default/sre']);
    expect(() => service.config()).toThrow(/keda\.clusters/);
    expect(() => service.config()).toThrow(/keda\.clusters/);
  });
});

describe('kedaConfigServiceRef', () => {
  it('is one service per backend process, shared by plugins and modules', async () => {
    const seen: KedaConfigService[] = [];
    const plugin = createBackendPlugin({
      pluginId: 'keda',
      register(env) {
        env.registerInit({
          deps: { keda: kedaConfigServiceRef },
          async init({ keda }) {
            seen.push(keda);
          },
        });
      },
    });
    const module = createBackendModule({
      pluginId: 'scaffolder',
      moduleId: 'keda',
      register(env) {
        env.registerInit({
          deps: { keda: kedaConfigServiceRef },
          async init({ keda }) {
            seen.push(keda);
          },
        });
      },
    });
    const scaffolder = createBackendPlugin({
      pluginId: 'scaffolder',
      register(env) {
        env.registerInit({ deps: {}, async init() {} });
      },
    });
    const backend = await startTestBackend({
      features: [
        plugin,
        scaffolder,
        module,
        mockServices.rootConfig.factory({ data }),
      ],
    });
    try {
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBe(seen[1]);
      expect(seen[0].config().approvals.approverGroups).toEqual([
        'group:default/sre',
      ]);
    } finally {
      await backend.stop();
    }
  });
});
