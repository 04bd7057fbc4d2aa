import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import express from 'express';
import request from 'supertest';
import { createRouter } from './router';

const ORDERS: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'orders-worker' },
  },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};
const SECRET: Entity = {
  ...ORDERS,
  metadata: { ...ORDERS.metadata, name: 'secret-worker' },
};

/** A catalog that hides `secret-worker` from everyone but the platform user. */
function catalog() {
  return catalogServiceMock.mock({
    getEntityByRef: jest.fn(
      async (
        ref: any,
        { credentials }: { credentials: BackstageCredentials },
      ) => {
        const principal = credentials.principal as { userEntityRef?: string };
        if (ref === 'component:default/orders-worker') return ORDERS;
        if (
          ref === 'component:default/secret-worker' &&
          principal.userEntityRef === 'user:default/platform'
        ) {
          return SECRET;
        }
        return undefined;
      },
    ) as any,
  });
}

async function app(
  options: {
    decision?: AuthorizeResult;
    defaultCredentials?: BackstageCredentials;
    callerCacheTtlMs?: number;
  } = {},
) {
  const permissions = mockServices.permissions.mock({
    authorize: jest.fn(async () => [
      { result: options.decision ?? AuthorizeResult.ALLOW },
    ]) as any,
  });
  const entityStatus = jest.fn(
    async (entity: Entity): Promise<EntityKedaStatus> => ({
      entityRef: `component:default/${entity.metadata.name}`,
      scaledObjects: [],
      clusters: [{ cluster: 'demo-eks', synced: true, stale: false }],
      generatedAt: '2026-11-28T06:00:00.000Z',
    }),
  );
  const catalogService = catalog();
  const router = await createRouter({
    config: mockServices.rootConfig(),
    logger: mockServices.logger.mock(),
    httpAuth: mockServices.httpAuth({
      defaultCredentials: options.defaultCredentials,
    }),
    permissions,
    catalog: catalogService,
    callerCacheTtlMs: options.callerCacheTtlMs,
    status: {
      entityStatusView: async (entity: Entity) => {
        const status = await entityStatus(entity);
        return {
          status,
          etag: `W/"${status.scaledObjects.length}"`,
          json: () => JSON.stringify(status),
        };
      },
      clusterInfos: () => [
        {
          cluster: 'demo-eks',
          synced: true,
          stale: false,
          accountId: '111111111111',
          region: 'eu-west-1',
        },
      ],
    },
  });
  return {
    server: express().use(router),
    permissions,
    entityStatus,
    catalogService,
  };
}

describe('keda status router', () => {
  it('serves the status of an entity the caller may read', async () => {
    const { server, entityStatus, permissions } = await app();
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      entityRef: 'component:default/orders-worker',
      scaledObjects: [],
    });
    expect(entityStatus).toHaveBeenCalledWith(ORDERS);
    expect(permissions.authorize).toHaveBeenCalledWith(
      [{ permission: expect.objectContaining({ name: 'keda.status.read' }) }],
      { credentials: expect.anything() },
    );
  });

  it('normalises entity refs: kind in any case, namespace defaulting to default', async () => {
    const { server } = await app();
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'Component:orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(200);
  });

  it('accepts service credentials', async () => {
    const { server } = await app();
    const res = await request(server)
      .get('/clusters')
      .set('Authorization', mockCredentials.service.header());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      clusters: [
        {
          cluster: 'demo-eks',
          synced: true,
          stale: false,
          accountId: '111111111111',
          region: 'eu-west-1',
        },
      ],
    });
  });

  it('answers 401 without credentials, before looking at the entity ref', async () => {
    const { server, entityStatus } = await app({
      defaultCredentials: mockCredentials.none(),
    });
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'not a ref' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ name: 'AuthenticationError' });
    expect(entityStatus).not.toHaveBeenCalled();
    expect((await request(server).get('/clusters')).status).toBe(401);
  });

  it('answers 401 for an invalid token', async () => {
    const { server } = await app();
    const res = await request(server)
      .get('/clusters')
      .set('Authorization', mockCredentials.user.invalidHeader());
    expect(res.status).toBe(401);
  });

  it.each([
    [{}, /Query parameter 'entityRef' is required/],
    [{ entityRef: '' }, /Query parameter 'entityRef' is required/],
    [
      { entityRef: 'orders-worker' },
      /Query parameter 'entityRef' is not an entity ref/,
    ],
    [
      { entityRef: 'component:default/' },
      /Query parameter 'entityRef' is not an entity ref/,
    ],
  ])('answers 400 naming the parameter for %j', async (query, message) => {
    const { server } = await app();
    const res = await request(server)
      .get('/status')
      .query(query)
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toMatch(message);
    // The standard Backstage error shape.
    expect(res.body).toMatchObject({
      request: { method: 'GET', url: expect.stringContaining('/status') },
      response: { statusCode: 400 },
    });
  });

  it('answers 403 when keda.status.read is denied, without touching the catalog', async () => {
    const { server, entityStatus } = await app({
      decision: AuthorizeResult.DENY,
    });
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining('keda.status.read'),
    });
    expect(entityStatus).not.toHaveBeenCalled();
    expect(
      (
        await request(server)
          .get('/clusters')
          .set('Authorization', mockCredentials.user.header())
      ).status,
    ).toBe(403);
  });

  it('answers 404 for an entity that does not exist', async () => {
    const { server } = await app();
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/nope' })
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('component:default/nope'),
    });
  });

  it('answers 404 for an entity the catalog does not let the caller read, and 200 to one it does', async () => {
    const { server } = await app();
    const denied = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/secret-worker' })
      .set('Authorization', mockCredentials.user.header('user:default/guest'));
    expect(denied.status).toBe(404);
    const allowed = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/secret-worker' })
      .set(
        'Authorization',
        mockCredentials.user.header('user:default/platform'),
      );
    expect(allowed.status).toBe(200);
  });

  it('passes status errors through the standard error handler', async () => {
    const { server, entityStatus } = await app();
    entityStatus.mockRejectedValueOnce(new Error('boom'));
    const res = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ name: 'Error', message: 'boom' });
  });

  it('answers 304 to a caller that sends the current ETag back', async () => {
    const { server } = await app();
    const first = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('W/"0"');
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const again = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header())
      .set('If-None-Match', first.headers.etag);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const other = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header())
      .set('If-None-Match', 'W/"an older version"');
    expect(other.status).toBe(200);
    expect(other.body.entityRef).toBe('component:default/orders-worker');
  });

  it("reuses a caller's permission decision and catalog lookup, never another caller's", async () => {
    const { server, permissions, catalogService } = await app();
    const get = (user: string) =>
      request(server)
        .get('/status')
        .query({ entityRef: 'component:default/orders-worker' })
        .set('Authorization', mockCredentials.user.header(user));
    for (let i = 0; i < 3; i++) {
      expect((await get('user:default/dana')).status).toBe(200);
    }
    expect(permissions.authorize).toHaveBeenCalledTimes(1);
    expect(catalogService.getEntityByRef).toHaveBeenCalledTimes(1);
    expect((await get('user:default/sam')).status).toBe(200);
    expect(permissions.authorize).toHaveBeenCalledTimes(2);
    expect(catalogService.getEntityByRef).toHaveBeenCalledTimes(2);
    // The entity another caller may not see stays hidden from this one.
    const hidden = await request(server)
      .get('/status')
      .query({ entityRef: 'component:default/secret-worker' })
      .set('Authorization', mockCredentials.user.header('user:default/dana'));
    expect(hidden.status).toBe(404);
  });

  it('does not reuse a failed lookup, nor anything with callerCacheTtlMs 0', async () => {
    const { server, permissions, catalogService } = await app({
      callerCacheTtlMs: 0,
    });
    const get = () =>
      request(server)
        .get('/status')
        .query({ entityRef: 'component:default/orders-worker' })
        .set('Authorization', mockCredentials.user.header());
    await get();
    await get();
    expect(permissions.authorize).toHaveBeenCalledTimes(2);
    expect(catalogService.getEntityByRef).toHaveBeenCalledTimes(2);

    const cached = await app();
    (cached.catalogService.getEntityByRef as jest.Mock).mockRejectedValueOnce(
      new Error('catalog unavailable'),
    );
    const failed = await request(cached.server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(failed.status).toBe(500);
    const retried = await request(cached.server)
      .get('/status')
      .query({ entityRef: 'component:default/orders-worker' })
      .set('Authorization', mockCredentials.user.header());
    expect(retried.status).toBe(200);
  });
});
