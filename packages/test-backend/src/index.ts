/**
 * Test-only: the one local backend this repository's integration tests
 * start (keda backend, scaffolder module, the crash suite's child process).
 *
 * @packageDocumentation
 */
import {
  createSpecializedBackend,
  type Backend,
} from '@backstage/backend-app-api';
import {
  coreServices,
  createServiceFactory,
  type BackendFeature,
  type ServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  createHttpServer,
  DefaultRootHttpRouter,
  MiddlewareFactory,
} from '@backstage/backend-defaults/rootHttpRouter';
import { mockServices } from '@backstage/backend-test-utils';
import {
  actionsRegistryServiceMock,
  actionsServiceMock,
  metricsServiceMock,
  tracingServiceMock,
} from '@backstage/backend-test-utils/alpha';
import express from 'express';

/** Options of {@link startLocalTestBackend}. */
export interface LocalTestBackendOptions {
  /** the root config (`mockServices.rootConfig`) */
  config: object;
  features: BackendFeature[];
  /**
   * Plugins that live elsewhere: discovery answers these base URLs (e.g.
   * `keda` → a stub of its API) instead of this backend's.
   */
  externalPlugins?: Record<string, string>;
  /**
   * Service factories that replace the mock defaults of the same service
   * (e.g. a permissions service with a policy, a database on a given knex)
   * or add services the defaults lack.
   */
  services?: ServiceFactory[];
}

/** A started {@link startLocalTestBackend}. */
export interface LocalTestBackend {
  backend: Backend;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * A backend like `startTestBackend` (the same mock core services), but its
 * HTTP server binds to 127.0.0.1 on an ephemeral port (startTestBackend
 * listens on every interface and cannot be told otherwise), discovery can
 * send chosen plugins elsewhere, and any service can be replaced.
 */
export async function startLocalTestBackend(
  options: LocalTestBackendOptions,
): Promise<LocalTestBackend> {
  let port = 0;
  const rootHttpRouter = createServiceFactory({
    service: coreServices.rootHttpRouter,
    deps: {
      config: coreServices.rootConfig,
      lifecycle: coreServices.rootLifecycle,
      rootLogger: coreServices.rootLogger,
    },
    async factory({ config, lifecycle, rootLogger }) {
      const router = DefaultRootHttpRouter.create();
      const logger = rootLogger.child({ service: 'rootHttpRouter' });
      const middleware = MiddlewareFactory.create({ config, logger });
      const app = express();
      app.use(router.handler());
      app.use(middleware.notFound());
      app.use(middleware.error());
      const server = await createHttpServer(
        app,
        { listen: { host: '127.0.0.1', port: 0 } },
        { logger },
      );
      lifecycle.addShutdownHook(() => server.stop(), { logger });
      await server.start();
      port = server.port();
      return router;
    },
  });
  const discovery = createServiceFactory({
    service: coreServices.discovery,
    deps: { rootHttpRouter: coreServices.rootHttpRouter },
    async factory() {
      const url = async (pluginId: string) =>
        options.externalPlugins?.[pluginId] ??
        `http://127.0.0.1:${port}/api/${pluginId}`;
      return { getBaseUrl: url, getExternalBaseUrl: url };
    },
  });
  const defaults: ServiceFactory[] = [
    mockServices.auth.factory(),
    mockServices.auditor.factory(),
    mockServices.cache.factory(),
    mockServices.rootConfig.factory({ data: options.config as any }),
    mockServices.database.factory(),
    mockServices.httpAuth.factory(),
    mockServices.httpRouter.factory(),
    mockServices.lifecycle.factory(),
    mockServices.logger.factory(),
    mockServices.permissions.factory(),
    mockServices.permissionsRegistry.factory(),
    mockServices.rootHealth.factory(),
    mockServices.rootLifecycle.factory(),
    mockServices.rootLogger.factory(),
    mockServices.scheduler.factory(),
    mockServices.userInfo.factory(),
    mockServices.urlReader.factory(),
    mockServices.events.factory(),
    actionsRegistryServiceMock.factory(),
    actionsServiceMock.factory(),
    metricsServiceMock.factory(),
    tracingServiceMock.factory(),
    rootHttpRouter,
    discovery,
  ];
  const overridden = new Set((options.services ?? []).map(f => f.service.id));
  const backend = createSpecializedBackend({
    defaultServiceFactories: [
      ...defaults.filter(f => !overridden.has(f.service.id)),
      ...(options.services ?? []),
    ],
  });
  for (const feature of options.features) backend.add(feature);
  await backend.start();
  return {
    backend,
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () => backend.stop(),
  };
}
