import { createSpecializedBackend } from '@backstage/backend-app-api';
import {
  coreServices,
  createServiceFactory,
  type BackendFeature,
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

/**
 * A backend with startTestBackend's mock core services whose HTTP server
 * binds to 127.0.0.1 on an ephemeral port (startTestBackend listens on every
 * interface). Features may override any service factory.
 */
export async function startLocalBackend(options: {
  config: object;
  features: BackendFeature[];
}): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
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
        `http://127.0.0.1:${port}/api/${pluginId}`;
      return { getBaseUrl: url, getExternalBaseUrl: url };
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
    ],
  });
  for (const feature of options.features) backend.add(feature);
  await backend.start();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () => backend.stop(),
  };
}
