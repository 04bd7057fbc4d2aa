import { createValidatedOpenApiRouterFromGeneratedEndpointMap } from '@backstage/backend-openapi-utils';
import express from 'express';
import Router from 'express-promise-router';
import { spec } from './openapi';

type Json = { [key: string]: any };

/**
 * What the router's validator checks: `openapi.yaml` (`spec`) less what the
 * service checks itself with its own, clearer messages that the tests and
 * the bad-input corpus rely on:
 * - request bodies only as "a JSON object" (when a body is required, also
 *   that there is one): their fields are checked by the service's schemas
 *   (keda-common's, which `openapi.requests.test.ts` ties to the spec), in
 *   the order the service documents (e.g. `pullRequest.url` first) and
 *   with messages such as `comment is required` or
 *   `verification.checks: at most 50 checks`;
 * - query parameters not at all: `?state=a,b` is a comma-separated list the
 *   spec's array form cannot express, and the service names a missing or
 *   malformed `entityRef` or `state` with an example.
 * Routes, methods and path parameters are validated as the spec says.
 */
export function validatedSpec(): Json {
  const doc: Json = JSON.parse(JSON.stringify(spec));
  for (const item of Object.values<Json>(doc.paths)) {
    for (const op of Object.values<Json>(item)) {
      if (typeof op !== 'object' || Array.isArray(op)) continue;
      if (op.requestBody) {
        op.requestBody = {
          required: op.requestBody.required ?? false,
          content: { 'application/json': { schema: { type: 'object' } } },
        };
      }
      if (Array.isArray(op.parameters)) {
        op.parameters = op.parameters.filter((p: Json) => p.in !== 'query');
      }
    }
  }
  return doc;
}

/**
 * A router for (part of) the keda API: `jsonBody` parses the body (its
 * errors, such as the 413 of an oversized body, pass on unchanged), then
 * every request to a path `serves` matches is validated against
 * {@link validatedSpec} and, when it does not match, refused with 400
 * (`InputError` naming the field, e.g. `request/body must be object`) before
 * any handler runs. Register the routes on the router this returns.
 *
 * Each router of the plugin validates only its own paths, so a request is
 * validated once although the routers are mounted side by side.
 */
export async function createKedaApiRouter(options: {
  serves: (path: string) => boolean;
  jsonBody: express.RequestHandler;
}): Promise<{ router: express.Router; routes: express.Router }> {
  const router = Router();
  router.use(options.jsonBody);
  const routes = createValidatedOpenApiRouterFromGeneratedEndpointMap(
    validatedSpec() as any,
    {
      // the body is parsed above; this one sees `req._body` and does nothing
      middleware: [express.json()],
      validatorOptions: {
        // the validator's path: `req.path`, or `baseUrl + '/' + path` under
        // a prefix (as /api/keda): `serves` matches the end of it
        ignorePaths: (path: string) => !options.serves(path),
        validateRequests: {
          coerceTypes: false,
          allowUnknownQueryParameters: true,
        },
      },
    },
  ) as express.Router;
  // openapi.yaml itself (the validated router would serve validatedSpec)
  router.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  router.use(routes);
  return { router, routes };
}
