import { TestDatabases } from '@backstage/backend-test-utils';
import { newOrdersRequest, ownWorkload } from './__testUtils__/requests';
import { KedaRequestProvenance } from './KedaRequestProvenance';
import { KedaRequestStore, migrateKedaRequestStore } from './KedaRequestStore';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function seeded() {
  const knex = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(knex);
  const store = new KedaRequestStore(knex);
  await store.insert(
    newOrdersRequest('applied', {
      ...ownWorkload('applied'),
      state: 'provisioning',
      pullRequest: {
        url: 'https://github.com/acme/gitops/pull/1',
        number: 1,
        repoUrl: 'github.com?owner=acme&repo=gitops',
      },
    }),
    [],
  );
  await store.insert(newOrdersRequest('waiting', ownWorkload('waiting')), []);
  await store.insert(newOrdersRequest('gone', ownWorkload('gone')), []);
  await store.transition({
    id: 'gone',
    from: ['pending'],
    to: 'withdrawn',
    decision: { actor: 'user:default/jane.doe', decision: 'withdrawn' },
  });
  await store.insert(
    newOrdersRequest('other', {
      ...ownWorkload('other'),
      entityRef: 'component:default/billing',
    }),
    [],
  );
  return new KedaRequestProvenance(store);
}

describe('KedaRequestProvenance', () => {
  it('adds the request state and pull request to a ScaledObject’s provenance', async () => {
    const provenance = await seeded();
    expect(await provenance.enrich({ requestId: 'applied' })).toEqual({
      requestId: 'applied',
      requestState: 'provisioning',
      pullRequestUrl: 'https://github.com/acme/gitops/pull/1',
    });
    expect(await provenance.enrich({ requestId: 'unknown' })).toEqual({
      requestId: 'unknown',
    });
  });

  it('lists open requests of the entity that no ScaledObject shows yet', async () => {
    const provenance = await seeded();
    expect(
      await provenance.pendingFor('component:default/orders-worker', [
        'applied',
      ]),
    ).toEqual([{ requestId: 'waiting', requestState: 'pending' }]);
    expect(
      (await provenance.pendingFor('component:default/orders-worker', []))
        .map(p => p.requestId)
        .sort(),
    ).toEqual(['applied', 'waiting']);
  });
});
