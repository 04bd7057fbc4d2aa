import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  type TestDatabases,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import {
  readKedaConfig,
  KedaAwsClientFactory,
} from '@keda-self-service/plugin-keda-node';
import {
  createKedaGithubPullRequestReadyAction,
  createKedaManifestsWriteAction,
  createKedaOperatorRoleEnsureAction,
  createKedaPlanAction,
  createKedaRequestDecommissionTargetAction,
  createKedaRequestProgressAction,
  createKedaRequestRecordAction,
  createKedaScalerRoleDeleteAction,
  createKedaScalerRoleEnsureAction,
  KedaPlanner,
  KedaRequestsClient,
} from '@keda-self-service/plugin-scaffolder-backend-module-keda';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import express from 'express';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  startCountingProxy,
  type CountingProxy,
} from '../../__testUtils__/countingProxy';
import { KedaRequestService } from '../../requests/KedaRequestService';
import {
  KedaRequestStore,
  migrateKedaRequestStore,
} from '../../requests/KedaRequestStore';
import { createRequestsRouter } from '../../requests/router';
import {
  membershipUserInfo,
  PAT,
  policyPermissions,
} from '../../requests/__testUtils__/policyPermissions';
import {
  testClusterService,
  testConfigData,
} from '../../requests/__testUtils__/requests';

/**
 * The world the bad-input suite sends its cases into: the keda backend's
 * request API (real router, service and store on SQLite, the portal's
 * permission policy) on an ephemeral port, the scaffolder module's actions
 * wired to it, and a counter on every way out — AWS (the AWS stand-in behind
 * a counting proxy, reached through AWS_ENDPOINT_URL, plus every credential
 * the actions ask for), GitHub (a counting API that answers 404), the
 * cluster's Kubernetes API (the same) and the keda backend's writes (rows,
 * provisioning launches, notifications, signals), and the workspace's files.
 */

/** An HTTP server that records every request and answers 404 (JSON). */
export interface CountingServer {
  url: string;
  calls: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

export async function startCountingServer(
  body: object = { message: 'Not Found' },
): Promise<CountingServer> {
  const calls: CountingServer['calls'] = [];
  const server = http.createServer((req, res) => {
    calls.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
    req.resume();
    req.on('end', () => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const CLUSTER = 'prod-eu';
export const ORDERS_REF = 'component:default/orders-worker';

/** orders-worker, owned by team-orders; its Kubernetes id and namespace annotated. */
export const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-id': 'orders-worker',
      'backstage.io/kubernetes-namespace': 'shop',
    },
  },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

/** What every way out saw so far; a case's side effects are the difference. */
export interface SideEffects {
  /** HTTP requests that reached AWS, and credentials the actions asked for */
  aws: number;
  github: number;
  kubernetes: number;
  /** rows written, provisioning launched, notifications, signals */
  kedaBackend: number;
  /** files in the actions' workspace */
  workspace: number;
}

export const SIDE_EFFECT_KINDS: Array<keyof SideEffects> = [
  'aws',
  'github',
  'kubernetes',
  'kedaBackend',
  'workspace',
];

export type BadInputWorld = Awaited<ReturnType<typeof startBadInputWorld>>;

function countFiles(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    n += entry.isDirectory() ? 1 + countFiles(path.join(dir, entry.name)) : 1;
  }
  return n;
}

export async function startBadInputWorld(databases: TestDatabases) {
  // AWS: the stand-in, behind a proxy that counts every request.
  const awsStandIn: AwsStandIn = await startAwsStandIn({
    port: 0,
    logger: () => {},
  });
  for (const account of ['111111111111', '222222222222', '333333333333']) {
    awsStandIn.createAccount(account);
  }
  const aws: CountingProxy = await startCountingProxy(awsStandIn.url);
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ENDPOINT_URL = aws.url;
  const credentialsAsked: string[] = [];
  const awsFactory = new KedaAwsClientFactory({
    maxAttempts: 1,
    credentialsManager: {
      async getCredentialProvider(opts) {
        const accountId = opts?.accountId ?? '111111111111';
        credentialsAsked.push(accountId);
        return {
          accountId,
          sdkCredentialProvider: async () => rootCredentialsFor(accountId),
        };
      },
    },
  });

  const github = await startCountingServer();
  const kubernetes = await startCountingServer({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
  });

  const kedaData = {
    ...testConfigData.keda,
    clusters: testConfigData.keda.clusters.map(c => ({
      ...c,
      url: kubernetes.url,
    })),
  };
  const config = new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    keda: kedaData,
    integrations: {
      github: [
        { host: 'github.com', apiBaseUrl: github.url, token: 'ghp_badinput' },
      ],
    },
  });

  // The keda backend's request API, as the plugin mounts it.
  const knex = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(knex);
  const store = new KedaRequestStore(knex);
  let launches = 0;
  let notifications = 0;
  let signals = 0;
  const keda = readKedaConfig(config);
  const service = new KedaRequestService({
    store,
    keda,
    clusters: testClusterService(keda, awsFactory),
    permissions: policyPermissions(),
    userInfo: membershipUserInfo(),
    catalog: {
      getEntityByRef: async ref => (ref === ORDERS_REF ? ORDERS : undefined),
    },
    launcher: {
      start: async () => {
        launches++;
        return { taskId: `task-${launches}` };
      },
    },
    notifications: {
      send: async () => {
        notifications++;
      },
    },
    signals: {
      publish: async () => {
        signals++;
      },
    },
    auditor: mockServices.auditor.mock(),
    logger: mockServices.logger.mock(),
  });
  const backendCalls: Array<{ method: string; path: string }> = [];
  const app = express();
  app.use((req, _res, next) => {
    backendCalls.push({ method: req.method, path: req.path });
    next();
  });
  app.use(
    await createRequestsRouter({
      httpAuth: mockServices.httpAuth({ pluginId: 'keda' }),
      service,
    }),
  );
  app.use(
    MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    }).error(),
  );
  const backend = http.createServer(app);
  await new Promise<void>(resolve => backend.listen(0, '127.0.0.1', resolve));
  const backendUrl = `http://127.0.0.1:${
    (backend.address() as AddressInfo).port
  }`;

  const rows = async () => {
    let n = 0;
    for (const table of ['keda_requests', 'keda_request_decisions']) {
      const [{ count }] = await knex(table).count({ count: '*' });
      n += Number(count);
    }
    return n;
  };

  // The scaffolder module's actions, as its module wires them.
  const client = new KedaRequestsClient({
    discovery: {
      getBaseUrl: async () => backendUrl,
      getExternalBaseUrl: async () => backendUrl,
    },
    auth: mockServices.auth(),
  });
  const planner = new KedaPlanner({
    config,
    aws: awsFactory,
    requests: client,
    logger: mockServices.logger.mock(),
  });
  const permissions = policyPermissions();
  const actions = [
    createKedaPlanAction({ planner, aws: awsFactory }),
    createKedaManifestsWriteAction(),
    createKedaScalerRoleEnsureAction({ planner, aws: awsFactory, permissions }),
    createKedaOperatorRoleEnsureAction({
      planner,
      aws: awsFactory,
      permissions,
    }),
    createKedaScalerRoleDeleteAction({ planner, aws: awsFactory, permissions }),
    createKedaRequestRecordAction({ client, planner, config }),
    createKedaRequestProgressAction({ client }),
    createKedaRequestDecommissionTargetAction({ client }),
    createKedaGithubPullRequestReadyAction({ config }),
  ];

  const workspaceRoot = fs.mkdtempSync(
    path.join(os.tmpdir(), 'keda-bad-input-'),
  );

  return {
    config,
    backendUrl,
    backendCalls,
    actions: new Map(actions.map(a => [a.id, a])),
    workspaceRoot,
    /** the initiator of every action run: a platform engineer, who may do everything */
    initiator: (): BackstageCredentials => mockCredentials.user(PAT),
    initiatorRef: PAT,
    /** ids of the requests recorded so far */
    async requestIds(): Promise<Set<string>> {
      return new Set(
        (await knex('keda_requests').select('id')).map(
          (r: { id: string }) => r.id,
        ),
      );
    },
    /**
     * Removes the requests a wrongly accepted case recorded, so that the
     * cases after it do not meet "a request in flight" instead of their own
     * verdict (the side effect itself is already counted).
     */
    async forgetRequestsExcept(keep: Set<string>): Promise<void> {
      const extra = [...(await this.requestIds())].filter(id => !keep.has(id));
      if (extra.length === 0) return;
      await knex('keda_request_decisions')
        .whereIn('request_id', extra)
        .delete();
      await knex('keda_requests').whereIn('id', extra).delete();
    },
    async sideEffects(): Promise<SideEffects> {
      return {
        aws: aws.requests.length + credentialsAsked.length,
        github: github.calls.length,
        kubernetes: kubernetes.calls.length,
        kedaBackend: (await rows()) + launches + notifications + signals,
        workspace: countFiles(workspaceRoot),
      };
    },
    async close() {
      await new Promise<void>(resolve => {
        backend.closeAllConnections();
        backend.close(() => resolve());
      });
      await aws.close();
      await awsStandIn.close();
      await github.close();
      await kubernetes.close();
      fs.rmSync(workspaceRoot, { recursive: true, force: true });
      if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previousEndpoint;
    },
  };
}
