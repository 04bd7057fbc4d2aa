/*
 * The temporary app-config the bench starts the backend with (loaded on top
 * of the repository's app-config.yaml), and the bench entity.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { StandInCluster } from './processes';

export const BENCH_ENTITY_NAME = 'bench-app';
export const BENCH_ENTITY_REF = `component:default/${BENCH_ENTITY_NAME}`;

/** The entity the routes are measured for; keda and the Kubernetes plugin find its objects by label. */
export const BENCH_ENTITY = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: BENCH_ENTITY_NAME,
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': BENCH_ENTITY_NAME },
  },
  spec: {
    type: 'service',
    owner: 'group:default/bench-team',
    lifecycle: 'production',
  },
};

export function writeBenchConfig(options: {
  dir: string;
  port: number;
  token: string;
  clusters: StandInCluster[];
  clusterToken: string;
}): string {
  const { dir, port, token, clusters, clusterToken } = options;
  const entitiesFile = path.join(dir, 'entities.yaml');
  fs.writeFileSync(entitiesFile, stringify(BENCH_ENTITY));
  const config = {
    backend: {
      baseUrl: `http://127.0.0.1:${port}`,
      listen: { port, host: '127.0.0.1' },
      // A SQLite directory of its own: nothing of the checkout's data/ is touched.
      database: {
        client: 'better-sqlite3',
        connection: { directory: path.join(dir, 'sqlite') },
      },
      // The load tool's caller: a static token (a service principal).
      auth: {
        externalAccess: [
          { type: 'static', options: { token, subject: 'keda-bench' } },
        ],
      },
    },
    catalog: {
      // Only the bench entity: the repository's examples are not needed.
      locations: [{ type: 'file', target: entitiesFile }],
      rules: [{ allow: ['Component', 'Location'] }],
    },
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: clusters.map(c => ({
            name: c.name,
            url: c.url,
            authProvider: 'serviceAccount',
            serviceAccountToken: clusterToken,
            skipMetricsLookup: true,
          })),
        },
      ],
    },
    keda: {
      // Same names as above: keda reuses the connection (through the
      // counting proxies) and only adds the KEDA facts.
      clusters: clusters.map((c, i) => ({
        name: c.name,
        accountId: '111111111111',
        region: 'eu-west-1',
        kedaVersion: '2.20.2',
        identity: 'irsa',
        // Given, so nothing asks eks:DescribeCluster for it.
        oidcIssuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/BENCH${i}`,
        operator: {
          namespace: 'keda',
          serviceAccount: 'keda-operator',
          roleName: `keda-operator-${c.name}`,
        },
      })),
    },
  };
  const file = path.join(dir, 'app-config.bench.yaml');
  fs.writeFileSync(file, stringify(config));
  return file;
}
