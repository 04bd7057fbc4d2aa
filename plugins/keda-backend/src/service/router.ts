import type {
  HttpAuthService,
  LoggerService,
  PermissionsService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import {
  parseEntityRef,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { kedaStatusReadPermission } from '@keda-self-service/plugin-keda-common';
import express from 'express';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { jsonBody } from '../requests/router';
import { createKedaApiRouter } from '../schema/validatedRouter';
import type { KedaStatusService } from './KedaStatusService';

export interface RouterOptions {
  config: RootConfigService;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  status: Pick<KedaStatusService, 'entityStatusView' | 'clusterInfos'>;
  /**
   * How long a caller's permission decision and catalog lookup are reused
   * (default 5 s; 0 turns reuse off). A revoked permission or a hidden
   * entity applies to a caller within this time.
   */
  callerCacheTtlMs?: number;
}

/** Default of {@link RouterOptions.callerCacheTtlMs}. */
export const CALLER_CACHE_TTL_MS = 5_000;

/**
 * Who is calling, for reusing their permission decision and catalog lookup:
 * a hash of the exact credentials they sent (the same token, the same
 * answers; another token of the same user is another caller). Undefined
 * when the request carries no bearer token: nothing is reused.
 */
function callerKey(req: express.Request): string | undefined {
  const header = req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) return undefined;
  return createHash('sha256').update(header).digest('base64url');
}

/**
 * Reuses an async answer per key for a short time; concurrent callers share
 * one call and a failure is not kept.
 */
class ShortLived<T extends {}> {
  private readonly cache: LRUCache<string, Promise<T>> | undefined;

  constructor(ttlMs: number) {
    this.cache =
      ttlMs > 0 ? new LRUCache({ max: 10_000, ttl: ttlMs }) : undefined;
  }

  get(key: string | undefined, load: () => Promise<T>): Promise<T> {
    if (key === undefined || !this.cache) return load();
    const cache = this.cache;
    let value = cache.get(key);
    if (!value) {
      value = load();
      cache.set(key, value);
      value.catch(() => {
        if (cache.get(key) === value) cache.delete(key);
      });
    }
    return value;
  }
}

function entityRefParam(req: express.Request): string {
  const raw = req.query.entityRef;
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new InputError(
      "Query parameter 'entityRef' is required, e.g. ?entityRef=component:default/orders-worker",
    );
  }
  try {
    // Kind is required: a bare name would silently mean a different entity.
    return stringifyEntityRef(parseEntityRef(raw));
  } catch (e) {
    throw new InputError(
      `Query parameter 'entityRef' is not an entity ref: ${
        (e as Error).message
      }. Use <kind>:<namespace>/<name>, e.g. component:default/orders-worker`,
    );
  }
}

/** The paths of the status API, as the validator sees them (see ../requests/router). */
const STATUS_API_PATH = /(^|\/)\/(status|clusters)$/;

/**
 * The keda status API (see `src/schema/openapi.yaml`):
 * `GET /status?entityRef=…` and `GET /clusters`.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, permissions, catalog, status } = options;
  // Validated against openapi.yaml before any handler (see createKedaApiRouter).
  const { router, routes } = await createKedaApiRouter({
    serves: path => STATUS_API_PATH.test(path),
    jsonBody: jsonBody(),
  });
  const ttlMs = options.callerCacheTtlMs ?? CALLER_CACHE_TTL_MS;
  // Keyed by the caller's exact credentials, never shared between callers.
  const decisions = new ShortLived<{ allowed: boolean }>(ttlMs);
  const entities = new ShortLived<{ entity?: Entity }>(ttlMs);

  const authorizeStatusRead = async (
    credentials: Awaited<ReturnType<HttpAuthService['credentials']>>,
    caller: string | undefined,
  ) => {
    const { allowed } = await decisions.get(caller, async () => {
      const [decision] = await permissions.authorize(
        [{ permission: kedaStatusReadPermission }],
        { credentials },
      );
      return { allowed: decision.result === AuthorizeResult.ALLOW };
    });
    if (!allowed) {
      throw new NotAllowedError(
        `You may not read KEDA scaling status: permission '${kedaStatusReadPermission.name}' was denied`,
      );
    }
  };

  const callerCredentials = (req: express.Request) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  routes.get('/status', async (req, res) => {
    // The credentials are verified on every request; only what follows
    // from them is reused.
    const credentials = await callerCredentials(req);
    const entityRef = entityRefParam(req);
    const caller = callerKey(req);
    await authorizeStatusRead(credentials, caller);
    // The catalog applies the caller's read permissions: an entity they may
    // not see is indistinguishable from one that does not exist.
    const { entity } = await entities.get(
      caller && `${caller} ${entityRef}`,
      async () => ({
        entity: await catalog.getEntityByRef(entityRef, { credentials }),
      }),
    );
    if (!entity) {
      throw new NotFoundError(
        `Entity '${entityRef}' was not found or you may not read it`,
      );
    }
    const view = await status.entityStatusView(entity);
    // Polling cards send the ETag back: unchanged costs a 304, no body.
    res.setHeader('ETag', view.etag);
    res.setHeader('Cache-Control', 'private, no-cache');
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(view.json());
  });

  routes.get('/clusters', async (req, res) => {
    await authorizeStatusRead(await callerCredentials(req), callerKey(req));
    res.json({ clusters: status.clusterInfos() });
  });

  router.use(
    MiddlewareFactory.create({
      config: options.config,
      logger: options.logger,
    }).error(),
  );
  return router;
}
