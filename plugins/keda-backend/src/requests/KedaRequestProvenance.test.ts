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

async function seededWithStore() {
  const knex = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(knex);
  const store = new KedaRequestStore(knex);
  await store.insert(newOrdersRequest('waiting', ownWorkload('waiting')), []);
  return { store, provenance: new KedaRequestProvenance(store) };
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

  it('reuses its reads for polling cards, and forgets them when the store writes', async () => {
    const { store, provenance } = await seededWithStore();
    const get = jest.spyOn(store, 'get');
    const list = jest.spyOn(store, 'list');
    const entity = 'component:default/orders-worker';
    for (let i = 0; i < 5; i++) {
      await provenance.enrich({ requestId: 'waiting' });
      await provenance.pendingFor(entity, []);
    }
    expect(get).toHaveBeenCalledTimes(1);
    expect(list).toHaveBeenCalledTimes(1);

    await store.transition({
      id: 'waiting',
      from: ['pending'],
      to: 'withdrawn',
      decision: { actor: 'user:default/jane.doe', decision: 'withdrawn' },
    });
    expect(await provenance.enrich({ requestId: 'waiting' })).toMatchObject({
      requestState: 'withdrawn',
    });
    expect(await provenance.pendingFor(entity, [])).toEqual([]);
    expect(get).toHaveBeenCalledTimes(2);
    expect(list).toHaveBeenCalledTimes(2);
  });
});
