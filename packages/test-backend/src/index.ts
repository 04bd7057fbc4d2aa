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
  type BackstageCredentials,
  type UserInfoService,
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
   * `keda` → a keda backend in another process) instead of this backend's.
   */
  externalPlugins?: Record<string, string>;
  /**
   * Service factories that replace the mock defaults of the same service
   * (e.g. a permissions service with a policy, a database on a given knex)
   * or add services the defaults lack.
   */
  services?: ServiceFactory[];
  /**
   * Record the HTTP requests whose path starts with this prefix (e.g.
   * `/api/keda`) in {@link LocalTestBackend.requests}, as they reach the
   * backend: method, path below the prefix, Authorization header, JSON
   * body and the answer's status. The request stream is observed, not
   * consumed: the plugins read and parse it as they would without it.
   */
  recordRequests?: string;
}

/** A request {@link LocalTestBackendOptions.recordRequests} recorded. */
export interface RecordedRequest {
  method: string;
  /** the path (and query) below the recorded prefix, e.g. `/requests?state=pending` */
  path: string;
  authorization?: string;
  /** the parsed JSON body, once it was read; undefined without one */
  body?: any;
  /** the answer's status, once it was sent */
  status?: number;
}

/** A started {@link startLocalTestBackend}. */
export interface LocalTestBackend {
  backend: Backend;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /**
   * The requests under `recordRequests`, in the order they arrived (empty
   * without the option).
   */
  requests: RecordedRequest[];
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
  const requests: RecordedRequest[] = [];
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
      if (options.recordRequests !== undefined) {
        app.use(recordingMiddleware(options.recordRequests, requests));
      }
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
    requests,
    stop: () => backend.stop(),
  };
}

/**
 * Records the requests below `prefix` without consuming their bodies: the
 * chunks are seen as the stream emits them to whoever reads it (the
 * plugin's body parser), and the JSON body is parsed from them at the end.
 */
function recordingMiddleware(
  prefix: string,
  requests: RecordedRequest[],
): express.RequestHandler {
  const base = prefix.replace(/\/+$/, '');
  return (req, res, next) => {
    const url = req.originalUrl;
    if (
      url !== base &&
      !url.startsWith(`${base}/`) &&
      !url.startsWith(`${base}?`)
    ) {
      next();
      return;
    }
    const entry: RecordedRequest = {
      method: req.method,
      path: url.slice(base.length) || '/',
      ...(req.headers.authorization
        ? { authorization: req.headers.authorization }
        : {}),
    };
    requests.push(entry);
    const chunks: Buffer[] = [];
    const emit = req.emit;
    req.emit = function recordingEmit(
      this: typeof req,
      event: any,
      ...args: any[]
    ) {
      if (event === 'data') {
        const [chunk] = args;
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      } else if (event === 'end' && chunks.length > 0) {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          entry.body = JSON.parse(text);
        } catch {
          entry.body = text;
        }
      }
      return emit.call(this, event, ...args);
    } as typeof req.emit;
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    next();
  };
}

/**
 * A user-info service (`coreServices.userInfo`) answering from a fixed map:
 * a user owns what its own ref and the groups `memberships` lists for it
 * own. Throws for a caller that is not a user.
 */
export function membershipUserInfo(
  memberships: Record<string, string[]>,
): UserInfoService {
  return {
    getUserInfo: async (credentials: BackstageCredentials) => {
      const ref = (credentials.principal as { userEntityRef?: string })
        .userEntityRef;
      if (!ref) throw new Error('not a user');
      return {
        userEntityRef: ref,
        ownershipEntityRefs: [ref, ...(memberships[ref] ?? [])],
      };
    },
  };
}
