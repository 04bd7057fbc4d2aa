import type {
  HttpAuthService,
  LoggerService,
  PermissionsService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { kedaStatusReadPermission } from '@internal/plugin-keda-common';
import express from 'express';
import Router from 'express-promise-router';
import { jsonBody } from '../requests/router';
import type { KedaStatusService } from './KedaStatusService';

export interface RouterOptions {
  config: RootConfigService;
  logger: LoggerService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  status: Pick<KedaStatusService, 'entityStatus' | 'clusterInfos'>;
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

/**
 * The keda status API (see `src/schema/openapi.yaml`):
 * `GET /status?entityRef=…` and `GET /clusters`.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, permissions, catalog, status } = options;
  const router = Router();
  router.use(jsonBody());

  const authorizeStatusRead = async (
    credentials: Awaited<ReturnType<HttpAuthService['credentials']>>,
  ) => {
    const [decision] = await permissions.authorize(
      [{ permission: kedaStatusReadPermission }],
      {
        credentials,
      },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not read KEDA scaling status: permission '${kedaStatusReadPermission.name}' was denied`,
      );
    }
  };

  const callerCredentials = (req: express.Request) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  router.get('/status', async (req, res) => {
    const credentials = await callerCredentials(req);
    const entityRef = entityRefParam(req);
    await authorizeStatusRead(credentials);
    // The catalog applies the caller's read permissions: an entity they may
    // not see is indistinguishable from one that does not exist.
    const entity = await catalog.getEntityByRef(entityRef, { credentials });
    if (!entity) {
      throw new NotFoundError(
        `Entity '${entityRef}' was not found or you may not read it`,
      );
    }
    res.json(await status.entityStatus(entity));
  });

  router.get('/clusters', async (req, res) => {
    await authorizeStatusRead(await callerCredentials(req));
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
