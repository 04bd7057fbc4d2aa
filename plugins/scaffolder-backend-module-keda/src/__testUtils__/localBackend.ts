import { createSpecializedBackend } from '@backstage/backend-app-api';
import {
  coreServices,
  createServiceFactory,
  type BackendFeature,
  type ServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  DefaultRootHttpRouter,
  MiddlewareFactory,
  createHttpServer,
} from '@backstage/backend-defaults/rootHttpRouter';
import { mockServices } from '@backstage/backend-test-utils';
import {
  actionsRegistryServiceMock,
  actionsServiceMock,
  metricsServiceMock,
  tracingServiceMock,
} from '@backstage/backend-test-utils/alpha';
import express from 'express';

/**
 * A test backend like `startTestBackend` (the same mock core services), but
 * its HTTP server binds to 127.0.0.1 on an ephemeral port (startTestBackend
 * listens on every interface and cannot be told otherwise), and discovery
 * can send chosen plugins elsewhere, e.g. `keda` to a stub of its API.
 */
export async function startLocalTestBackend(options: {
  config: object;
  features: BackendFeature[];
  externalPlugins?: Record<string, string>;
  /** replaces the allow-all mock permissions service */
  permissions?: ServiceFactory;
}) {
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
      const app = express();
      const middleware = MiddlewareFactory.create({ config, logger });
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
      const url = (pluginId: string) =>
        options.externalPlugins?.[pluginId] ??
        `http://127.0.0.1:${port}/api/${pluginId}`;
      return {
        getBaseUrl: async (pluginId: string) => url(pluginId),
        getExternalBaseUrl: async (pluginId: string) => url(pluginId),
      };
    },
  });
  const backend = createSpecializedBackend({
    defaultServiceFactories: [
      mockServices.auth.factory(),
      mockServices.auditor.factory(),
      mockServices.cache.factory(),
      mockServices.rootConfig.factory({ data: options.config as any }),
      mockServices.database.factory(),
      mockServices.httpAuth.factory(),
      mockServices.httpRouter.factory(),
      mockServices.lifecycle.factory(),
      mockServices.logger.factory(),
      options.permissions ?? mockServices.permissions.factory(),
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
    ],
  });
  for (const feature of options.features) backend.add(feature);
  await backend.start();
  return { backend, baseUrl: `http://127.0.0.1:${port}` };
}
