import { mockServices } from '@backstage/backend-test-utils';
import { MiddlewareFactory } from '@backstage/backend-defaults/rootHttpRouter';
import express from 'express';
import request from 'supertest';
import { jsonBody } from '../requests/router';
import { spec } from './openapi';
import { createKedaApiRouter, validatedSpec } from './validatedRouter';

async function app(prefix = '') {
  const handled: string[] = [];
  const { router, routes } = await createKedaApiRouter({
    serves: path => /(^|\/)\/(plan|requests(\/.*)?)$/.test(path),
    jsonBody: jsonBody(),
  });
  routes.post('/requests', (req, res) => {
    handled.push(`POST /requests ${JSON.stringify(req.body)}`);
    res.status(201).json({});
  });
  routes.post('/requests/:id/progress', (req, res) => {
    handled.push(`progress ${req.params.id}`);
    res.json({});
  });
  routes.post('/not-in-the-spec', (_req, res) => {
    handled.push('undocumented');
    res.json({});
  });
  const server = express();
  server.use(prefix || '/', router);
  server.use(
    MiddlewareFactory.create({
      config: mockServices.rootConfig(),
      logger: mockServices.logger.mock(),
    }).error(),
  );
  return { server, handled };
}

describe('createKedaApiRouter', () => {
  it.each(['', '/api/keda'])(
    'refuses a body that is not a JSON object before the handler (mounted at %j)',
    async prefix => {
      const { server, handled } = await app(prefix);
      const res = await request(server)
        .post(`${prefix}/requests`)
        .send([{ request: {} }]);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        name: 'InputError',
        message: expect.stringContaining('request/body must be object'),
      });
      expect(handled).toEqual([]);
    },
  );

  it('refuses a request without the JSON body the spec requires', async () => {
    const { server, handled } = await app();
    const res = await request(server).post('/requests/r-1/progress');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/media type/);
    expect(handled).toEqual([]);
  });

  it('passes a valid request, and fields the spec does not list, to the handler', async () => {
    const { server, handled } = await app();
    const res = await request(server)
      .post('/requests')
      .send({ request: { cluster: 'prod' }, extra: 1 });
    expect(res.status).toBe(201);
    expect(handled).toEqual([
      'POST /requests {"request":{"cluster":"prod"},"extra":1}',
    ]);
  });

  it('keeps the body limit its own 413 (not a validation 400)', async () => {
    const { server, handled } = await app();
    const res = await request(server)
      .post('/requests')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(200_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.message).toMatch(/exceed the keda API's limit/);
    expect(handled).toEqual([]);
  });

  it('validates only the paths it serves', async () => {
    const { server, handled } = await app();
    const res = await request(server).post('/not-in-the-spec').send([1]);
    expect(res.status).toBe(200);
    expect(handled).toEqual(['undocumented']);
  });

  it('serves openapi.yaml itself as /openapi.json', async () => {
    const { server } = await app();
    const res = await request(server).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(spec)));
  });
});

describe('validatedSpec', () => {
  it('keeps every path, method and path parameter of the spec', () => {
    const doc = validatedSpec();
    expect(Object.keys(doc.paths)).toEqual(Object.keys(spec.paths));
    for (const [path, item] of Object.entries<any>(spec.paths)) {
      expect(Object.keys(doc.paths[path])).toEqual(Object.keys(item));
      expect(doc.paths[path].parameters).toEqual(
        (item as any).parameters && JSON.parse(JSON.stringify(item.parameters)),
      );
    }
  });
});
