import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  startKubernetesStandIn,
  type KubernetesStandIn,
} from '@internal/sandbox';
import request from 'supertest';
import { kedaPlugin } from './plugin';

jest.setTimeout(30_000);

const TOKEN = 'keda-plugin-test-token';
const ENTITY: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'orders-worker',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-id': 'orders-worker' },
  },
  spec: { type: 'service', owner: 'team-orders', lifecycle: 'production' },
};

async function eventually<T>(
  check: () => Promise<T>,
  deadlineMs: number,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise(r => setTimeout(r, 25));
    }
  }
}

describe('kedaPlugin', () => {
  let standIn: KubernetesStandIn;

  beforeEach(async () => {
    standIn = await startKubernetesStandIn({ port: 0, tokens: [TOKEN] });
    standIn.store.create('namespaces', undefined, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'orders' },
    });
    standIn.store.create('triggerauthentications', 'orders', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: { name: 'orders-sqs' },
      spec: {
        podIdentity: {
          provider: 'aws',
          roleArn: 'arn:aws:iam::222222222222:role/keda/keda-sqs-orders',
        },
      },
    });
    standIn.store.create('scaledobjects', 'orders', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: {
        name: 'orders-worker',
        labels: { 'backstage.io/kubernetes-id': 'orders-worker' },
      },
      spec: {
        scaleTargetRef: { name: 'orders-worker' },
        triggers: [
          {
            type: 'aws-sqs-queue',
            authenticationRef: { name: 'orders-sqs' },
            metadata: {
              queueURL:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
              awsRegion: 'eu-west-1',
            },
          },
        ],
      },
    });
  });

  afterEach(async () => {
    await standIn.close();
  });

  async function backend(
    defaultCredentials: BackstageCredentials = mockCredentials.user(),
  ) {
    return startTestBackend({
      features: [
        kedaPlugin,
        catalogServiceMock.factory({ entities: [ENTITY] }),
        mockServices.httpAuth.factory({ defaultCredentials }),
        mockServices.rootConfig.factory({
          data: {
            keda: {
              clusters: [
                {
                  name: 'demo-eks',
                  url: standIn.url,
                  serviceAccountToken: TOKEN,
                  accountId: '111111111111',
                  region: 'eu-west-1',
                },
              ],
            },
          },
        }),
      ],
    });
  }

  it('serves the status of a configured cluster under /api/keda', async () => {
    const b = await backend();
    const server = b.server;
    try {
      const body = await eventually(async () => {
        const res = await request(server)
          .get('/api/keda/status')
          .query({ entityRef: 'component:default/orders-worker' });
        expect(res.status).toBe(200);
        expect(res.body.clusters[0].synced).toBe(true);
        expect(res.body.scaledObjects.map((s: any) => s.name)).toEqual([
          'orders-worker',
        ]);
        return res.body;
      }, 10_000);
      // The cluster's config (account, default operator role) reaches the status.
      expect(body.scaledObjects[0].auth).toMatchObject({
        found: true,
        operatorRoleArn:
          'arn:aws:iam::111111111111:role/keda-operator-demo-eks',
        crossAccount: true,
      });
      const clusters = await request(server).get('/api/keda/clusters');
      expect(clusters.body.clusters).toEqual([
        expect.objectContaining({
          cluster: 'demo-eks',
          synced: true,
          stale: false,
          // the facts the template form's cluster picker shows
          accountId: '111111111111',
          region: 'eu-west-1',
        }),
      ]);
    } finally {
      await b.stop();
    }
  });

  it("requires credentials (401 through the backend's own auth)", async () => {
    const b = await backend(mockCredentials.none());
    const server = b.server;
    try {
      const res = await request(server)
        .get('/api/keda/status')
        .query({ entityRef: 'component:default/orders-worker' });
      expect(res.status).toBe(401);
      expect(res.body.error.name).toBe('AuthenticationError');
    } finally {
      await b.stop();
    }
  });

  it('registers the keda permissions with the permission system', async () => {
    const b = await backend();
    const server = b.server;
    try {
      const res = await request(server)
        .get('/api/keda/.well-known/backstage/permissions/metadata')
        .set('Authorization', mockCredentials.service.header());
      expect(res.status).toBe(200);
      expect(res.body.permissions.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['keda.status.read']),
      );
    } finally {
      await b.stop();
    }
  });
});
