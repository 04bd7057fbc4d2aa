import type { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  KEDA_REQUEST_STATES,
  type KedaRequestListFilter,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import express from 'express';
import { createKedaApiRouter } from '../schema/validatedRouter';
import type { KedaRequestService } from './KedaRequestService';

/** The largest JSON body the keda API reads; a KEDA request is a few kB. */
export const JSON_BODY_LIMIT = '100kb';

/**
 * `express.json()` with the API's size limit, and a body over it refused
 * (413) with a message that names the body and the limit instead of
 * body-parser's bare "request entity too large".
 */
export function jsonBody(): express.RequestHandler {
  const parse = express.json({ limit: JSON_BODY_LIMIT });
  return (req, res, next) =>
    parse(req, res, (error?: unknown) => {
      const e = error as { type?: string; length?: number } | undefined;
      if (e?.type === 'entity.too.large') {
        (e as Error).message = `request body: ${
          e.length ?? 'more than'
        } bytes exceed the keda API's limit of ${JSON_BODY_LIMIT}; a KEDA request is a few kilobytes, so one of its fields is far too long`;
      }
      next(error);
    });
}

function listFilter(query: express.Request['query']): KedaRequestListFilter {
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      throw new InputError(`Query parameter '${name}' must be given once`);
    }
    return value;
  };
  const rawStates = query.state;
  let state: KedaRequestState[] | undefined;
  if (rawStates !== undefined) {
    const list = (Array.isArray(rawStates) ? rawStates : [rawStates])
      .flatMap(s => String(s).split(','))
      .filter(Boolean);
    for (const s of list) {
      if (!KEDA_REQUEST_STATES.includes(s as KedaRequestState)) {
        throw new InputError(
          `Query parameter 'state': '${s}' is not a request state; use ${KEDA_REQUEST_STATES.join(
            ', ',
          )}`,
        );
      }
    }
    state = list as KedaRequestState[];
  }
  return {
    ...(state ? { state } : {}),
    ...(single('entityRef') ? { entityRef: single('entityRef') } : {}),
    ...(single('cluster') ? { cluster: single('cluster') } : {}),
    ...(single('team') ? { team: single('team') } : {}),
    ...(single('requester') ? { requester: single('requester') } : {}),
  };
}

/**
 * The paths of the request API (the status router serves the others), as
 * the validator sees them: `/requests…` at the root, `<base>//requests…`
 * under a prefix.
 */
const REQUESTS_API_PATH = /(^|\/)\/(plan|requests(\/.*)?)$/;

/**
 * The request API (contract: ../schema/openapi.yaml; POST /plan, POST/GET /requests, GET /requests/:id,
 * POST /requests/:id/{approve,reject,withdraw,retry,progress,decommission}). Permission
 * checks live in the service; this maps HTTP to it. It parses JSON bodies
 * itself ({@link jsonBody}) and validates each request against the spec
 * first (`createKedaApiRouter`); mount it on the keda plugin's router,
 * errors go to the plugin's error middleware.
 */
export async function createRequestsRouter(options: {
  httpAuth: HttpAuthService;
  service: KedaRequestService;
}): Promise<express.Router> {
  const { httpAuth, service } = options;
  // Validated against openapi.yaml before any handler (see
  // createKedaApiRouter): a refused request is a 400, with nothing done.
  const { router, routes } = await createKedaApiRouter({
    serves: path => REQUESTS_API_PATH.test(path),
    jsonBody: jsonBody(),
  });
  const credentials = (req: express.Request) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  routes.post('/requests/preflight', async (req, res) => {
    res.json(await service.preflight(req.body, await credentials(req)));
  });

  // The template form's live plan preview: a dry run of POST /requests.
  routes.post('/plan', async (req, res) => {
    res.json(await service.planPreview(req.body, await credentials(req)));
  });

  routes.post('/requests', async (req, res) => {
    const { record, created } = await service.create(
      req.body,
      await credentials(req),
      req,
    );
    res.status(created ? 201 : 200).json(record);
  });

  routes.get('/requests', async (req, res) => {
    const items = await service.list(
      listFilter(req.query),
      await credentials(req),
    );
    res.json({ items });
  });

  routes.get('/requests/:id', async (req, res) => {
    res.json(await service.get(req.params.id, await credentials(req)));
  });

  routes.post('/requests/:id/approve', async (req, res) => {
    res.json(
      await service.approve(
        req.params.id,
        req.body,
        await credentials(req),
        req,
      ),
    );
  });

  routes.post('/requests/:id/reject', async (req, res) => {
    res.json(
      await service.reject(
        req.params.id,
        req.body,
        await credentials(req),
        req,
      ),
    );
  });

  routes.post('/requests/:id/withdraw', async (req, res) => {
    res.json(
      await service.withdraw(
        req.params.id,
        req.body,
        await credentials(req),
        req,
      ),
    );
  });

  routes.post('/requests/:id/retry', async (req, res) => {
    res.json(await service.retry(req.params.id, await credentials(req), req));
  });

  routes.post('/requests/:id/decommission', async (req, res) => {
    res.json(
      await service.decommission(
        req.params.id,
        req.body,
        await credentials(req),
        req,
      ),
    );
  });

  routes.post('/requests/:id/progress', async (req, res) => {
    res.json(
      await service.progress(
        req.params.id,
        req.body,
        await credentials(req),
        req,
      ),
    );
  });

  return router;
}
