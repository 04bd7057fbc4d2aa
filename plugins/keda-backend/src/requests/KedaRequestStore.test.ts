import { TestDatabases } from '@backstage/backend-test-utils';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newOrdersRequest, ownWorkload } from './__testUtils__/requests';
import {
  databaseUnavailableReason,
  KedaRequestStore,
  migrateKedaRequestStore,
} from './KedaRequestStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

async function storeOn(knex: Knex, now?: () => Date) {
  await migrateKedaRequestStore(knex);
  return new KedaRequestStore(knex, now);
}

/** A second, independent connection pool to the same database. */
function secondConnection(knex: Knex): Knex {
  return knexFactory({ ...(knex.client as any).config });
}

const JANE = 'user:default/jane.doe';
const PLATFORM = 'user:default/pat.platform';

describe.each(databases.eachSupportedId())('KedaRequestStore on %s', id => {
  let knex: Knex;
  let store: KedaRequestStore;
  /** another connection pool to the same database (a second replica) */
  let connectAgain: () => Knex;
  let dir: string | undefined;

  beforeEach(async () => {
    if (id === 'SQLITE_3') {
      // TestDatabases' SQLite lives in memory, where a second connection
      // would see another database: use an on-disk file, as the portal does.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-requests-'));
      const filename = path.join(dir, 'keda.sqlite');
      connectAgain = () =>
        knexFactory({
          client: 'better-sqlite3',
          connection: { filename },
          useNullAsDefault: true,
        });
      knex = connectAgain();
    } else {
      knex = await databases.init(id);
      connectAgain = () => secondConnection(knex);
    }
    store = await storeOn(knex);
  });

  afterEach(async () => {
    if (dir) {
      await knex.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
  });

  it('records a request with its plan and first decisions', async () => {
    const { record, created } = await store.insert(newOrdersRequest('r-1'), [
      { actor: JANE, decision: 'created' },
    ]);
    expect(created).toBe(true);
    expect(record).toMatchObject({
      id: 'r-1',
      entityRef: 'component:default/orders-worker',
      requester: JANE,
      owner: 'group:default/team-orders',
      state: 'pending',
      autoApproved: false,
      decisions: [{ actor: JANE, decision: 'created' }],
    });
    expect(record.plan.scalerRole.arn).toMatch(
      /^arn:aws:iam::222222222222:role\/keda\/keda-sqs-prod-eu-shop-.*orders-worker-[0-9a-f]{8}$/,
    );
    expect(record.approvalReasons.length).toBeGreaterThan(0);
    expect(record.provisioning).toBeUndefined();
    expect(await store.get('r-1')).toEqual(record);
  });

  it('returns the existing request when the recording task runs again', async () => {
    const first = await store.insert(
      newOrdersRequest('r-1', { createdByTaskId: 'task-1' }),
      [{ actor: JANE, decision: 'created' }],
    );
    const again = await store.insert(
      newOrdersRequest('r-2', { createdByTaskId: 'task-1' }),
      [{ actor: JANE, decision: 'created' }],
    );
    expect(again.created).toBe(false);
    expect(again.record.id).toBe(first.record.id);
    expect(await store.list()).toHaveLength(1);
  });

  it('refuses a second request with the same id', async () => {
    await store.insert(newOrdersRequest('r-1'), []);
    await expect(store.insert(newOrdersRequest('r-1'), [])).rejects.toThrow(
      ConflictError,
    );
  });

  it('moves along a transition and appends to the decision log', async () => {
    await store.insert(newOrdersRequest('r-1'), [
      { actor: JANE, decision: 'created' },
    ]);
    await store.transition({
      id: 'r-1',
      from: ['pending'],
      to: 'approved',
      decision: { actor: PLATFORM, decision: 'approved', comment: 'ok' },
    });
    const provisioning = await store.transition({
      id: 'r-1',
      from: ['approved'],
      to: 'provisioning',
      decision: { actor: PLATFORM, decision: 'provisioning' },
      set: { taskId: 'task-9' },
    });
    expect(provisioning.provisioning).toEqual({
      taskId: 'task-9',
      taskUrl: '/create/tasks/task-9',
    });
    const done = await store.transition({
      id: 'r-1',
      from: ['provisioning'],
      to: 'provisioned',
      taskId: 'task-9',
      decision: { actor: PLATFORM, decision: 'provisioned' },
      set: { roleArns: { scaler: 'arn:aws:iam::222222222222:role/keda/x' } },
    });
    expect(done.state).toBe('provisioned');
    expect(done.provisioning?.roleArns).toEqual({
      scaler: 'arn:aws:iam::222222222222:role/keda/x',
    });
    expect(done.decisions.map(d => d.decision)).toEqual([
      'created',
      'approved',
      'provisioning',
      'provisioned',
    ]);
    expect(done.decisions[1].comment).toBe('ok');
  });

  it('refuses a transition from the wrong state and names the state it is in', async () => {
    await store.insert(newOrdersRequest('r-1'), []);
    await store.transition({
      id: 'r-1',
      from: ['pending'],
      to: 'rejected',
      decision: { actor: PLATFORM, decision: 'rejected', comment: 'no' },
    });
    const attempt = store.transition({
      id: 'r-1',
      from: ['pending'],
      to: 'approved',
      decision: { actor: PLATFORM, decision: 'approved' },
    });
    await expect(attempt).rejects.toThrow(ConflictError);
    await expect(attempt).rejects.toThrow(
      /is rejected \(rejected by user:default\/pat.platform/,
    );
    const record = await store.get('r-1');
    expect(record!.state).toBe('rejected');
    expect(record!.decisions).toHaveLength(1);
  });

  it('ignores the report of a task that no longer provisions the request', async () => {
    await store.insert(newOrdersRequest('r-1', { state: 'provisioning' }), []);
    await store.transition({
      id: 'r-1',
      from: ['provisioning'],
      to: 'provisioning',
      decision: { actor: PLATFORM, decision: 'provisioning' },
      set: { taskId: 'task-new' },
    });
    await expect(
      store.transition({
        id: 'r-1',
        from: ['provisioning'],
        to: 'failed',
        taskId: 'task-old',
        decision: { actor: PLATFORM, decision: 'failed' },
        set: { error: 'late' },
      }),
    ).rejects.toThrow(/provisioned by task task-new, not task-old/);
  });

  it('says so when the request does not exist', async () => {
    await expect(
      store.transition({
        id: 'nope',
        from: ['pending'],
        to: 'approved',
        decision: { actor: PLATFORM, decision: 'approved' },
      }),
    ).rejects.toThrow(NotFoundError);
  });

  it('lists with filters, newest first', async () => {
    let t = Date.parse('2026-11-28T06:00:00Z');
    const clock = () => new Date((t += 1000));
    store = new KedaRequestStore(knex, clock);
    await store.insert(newOrdersRequest('a'), []);
    await store.insert(
      newOrdersRequest('b', {
        ...ownWorkload('b'),
        entityRef: 'component:default/billing',
        owner: 'group:default/team-billing',
      }),
      [],
    );
    await store.insert(
      newOrdersRequest('c', { ...ownWorkload('c'), state: 'provisioning' }),
      [],
    );
    expect((await store.list()).map(r => r.id)).toEqual(['c', 'b', 'a']);
    expect((await store.list({ state: 'pending' })).map(r => r.id)).toEqual([
      'b',
      'a',
    ]);
    expect(
      (await store.list({ state: ['provisioning', 'failed'] })).map(r => r.id),
    ).toEqual(['c']);
    expect(
      (await store.list({ entityRef: 'component:default/billing' })).map(
        r => r.id,
      ),
    ).toEqual(['b']);
    expect(
      (await store.list({ team: 'group:default/team-orders' })).map(r => r.id),
    ).toEqual(['c', 'a']);
    expect(await store.list({ cluster: 'other' })).toEqual([]);
  });

  it('keeps one request in flight and one current per workload', async () => {
    await store.insert(newOrdersRequest('first'), []);
    // A second request in flight for the same workload: refused by the
    // database itself, naming the one that is there.
    await expect(store.insert(newOrdersRequest('second'), [])).rejects.toThrow(
      /already has an active KEDA request: first \(pending\)/,
    );
    await store.transition({
      id: 'first',
      from: ['pending'],
      to: 'approved',
      decision: { actor: PLATFORM, decision: 'approved' },
    });
    await store.transition({
      id: 'first',
      from: ['approved'],
      to: 'provisioned',
      decision: { actor: PLATFORM, decision: 'provisioned' },
    });
    // An auto-approved successor supersedes it in the same transaction.
    const { record } = await store.insert(
      newOrdersRequest('second', {
        state: 'provisioning',
        autoApproved: true,
        supersedes: { id: 'first', from: ['provisioned'] },
      }),
      [{ actor: JANE, decision: 'created' }],
    );
    expect(record.supersedes).toBe('first');
    expect(await store.get('first')).toMatchObject({
      state: 'superseded',
      supersededBy: 'second',
    });
    // The superseded request cannot come back as a second current one.
    await expect(
      store.transition({
        id: 'first',
        from: ['superseded'],
        to: 'provisioned',
        decision: { actor: PLATFORM, decision: 'provisioned' },
      }),
    ).rejects.toThrow(
      'Illegal KEDA request transition superseded → provisioned',
    );
    // A successor that names a request which is no longer current rolls back.
    await expect(
      store.insert(
        newOrdersRequest('third', {
          ...ownWorkload('elsewhere'),
          state: 'provisioning',
          supersedes: { id: 'first', from: ['provisioned'] },
        }),
        [],
      ),
    ).rejects.toThrow(ConflictError);
    expect(await store.get('third')).toBeUndefined();
  });

  it('migrates requests recorded before workload keys: the newest per workload stays active', async () => {
    let legacy: Knex;
    let legacyDir: string | undefined;
    if (id === 'SQLITE_3') {
      legacyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-legacy-'));
      legacy = knexFactory({
        client: 'better-sqlite3',
        connection: { filename: path.join(legacyDir, 'keda.sqlite') },
        useNullAsDefault: true,
      });
    } else {
      legacy = await databases.init(id);
    }
    try {
      const directory = path.resolve(__dirname, '../../migrations');
      await legacy.migrate.up({
        directory,
        name: '20261128060000_requests.js',
      });
      const row = (rowId: string, state: string, at: string) => {
        const r = newOrdersRequest(rowId);
        return {
          id: rowId,
          entity_ref: r.entityRef,
          requester: r.requester,
          owner: r.owner,
          cluster: r.cluster,
          queue_url: r.queueUrl,
          state,
          auto_approved: false,
          approval_reasons: '[]',
          plan: JSON.stringify(r.plan),
          created_at: at,
          updated_at: at,
        };
      };
      await legacy('keda_requests').insert([
        row('old', 'provisioned', '2026-11-28T06:00:00.000Z'),
        row('new', 'provisioned', '2026-11-29T06:00:00.000Z'),
        row('gone', 'rejected', '2026-11-27T06:00:00.000Z'),
      ]);
      await migrateKedaRequestStore(legacy);
      const migrated = new KedaRequestStore(legacy);
      expect(await migrated.get('new')).toMatchObject({
        state: 'provisioned',
        externalId: newOrdersRequest('x').externalId,
      });
      expect(await migrated.get('old')).toMatchObject({
        state: 'superseded',
        supersededBy: 'new',
      });
      expect((await migrated.get('gone'))!.state).toBe('rejected');
      expect(
        (await migrated.activeFor('prod-eu/shop/Deployment/orders-worker')).map(
          r => r.id,
        ),
      ).toEqual(['new']);
    } finally {
      if (legacyDir) {
        await legacy.destroy();
        fs.rmSync(legacyDir, { recursive: true, force: true });
      }
    }
  });

  it('lets exactly one of two concurrent decisions apply, across two connections', async () => {
    const other = connectAgain();
    try {
      const replicaB = new KedaRequestStore(other);
      // SQLite in one process: the loser waits out the busy timeout (5 s).
      const rounds = id === 'SQLITE_3' ? 2 : 6;
      for (let round = 0; round < rounds; round++) {
        const reqId = `race-${round}`;
        await store.insert(newOrdersRequest(reqId, ownWorkload(reqId)), []);
        const results = await Promise.allSettled([
          store.transition({
            id: reqId,
            from: ['pending'],
            to: 'approved',
            decision: { actor: PLATFORM, decision: 'approved' },
          }),
          replicaB.transition({
            id: reqId,
            from: ['pending'],
            to: round % 2 ? 'withdrawn' : 'approved',
            decision: {
              actor: round % 2 ? JANE : 'user:default/sam.platform',
              decision: round % 2 ? 'withdrawn' : 'approved',
            },
          }),
        ]);
        const won = results.filter(r => r.status === 'fulfilled');
        const lost = results.filter(
          (r): r is PromiseRejectedResult => r.status === 'rejected',
        );
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0].reason).toBeInstanceOf(ConflictError);
        const record = await replicaB.get(reqId);
        expect(record!.decisions).toHaveLength(1);
        expect(record!.state).toBe(
          (won[0] as PromiseFulfilledResult<any>).value.state,
        );
      }
    } finally {
      await other.destroy();
    }
  });

  it('answers a clear ServiceUnavailableError, without SQL, when its database is gone, and changes nothing', async () => {
    await store.insert(newOrdersRequest('r-1'), [
      { actor: JANE, decision: 'created' },
    ]);
    const gone = connectAgain();
    const replica = new KedaRequestStore(gone);
    await gone.destroy();
    const error = await replica
      .transition({
        id: 'r-1',
        from: ['pending'],
        to: 'approved',
        decision: { actor: PLATFORM, decision: 'approved' },
      })
      .catch(e => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toMatch(
      /^The KEDA request database is unavailable right now \(.+\), so the portal could not record the change of KEDA request 'r-1' to approved\. .*made in full or not at all.*retrying is safe$/,
    );
    expect(error.message).not.toMatch(/select|update|insert|keda_requests/i);
    expect(error.cause).toBeUndefined();
    await expect(replica.get('r-1')).rejects.toThrow(
      /database is unavailable .*Nothing was changed/,
    );
    expect((await store.get('r-1'))!.state).toBe('pending');
  });

  it('reads a changed record back inside its transaction, so nothing can fail after the commit', async () => {
    await store.insert(newOrdersRequest('r-1'), []);
    const outside: string[] = [];
    const listener = (q: { sql: string; __knexTxId?: string }) => {
      if (!q.__knexTxId) outside.push(q.sql);
    };
    knex.on('query', listener);
    try {
      const record = await store.transition({
        id: 'r-1',
        from: ['pending'],
        to: 'approved',
        decision: { actor: PLATFORM, decision: 'approved' },
      });
      expect(record.state).toBe('approved');
      expect(record.decisions.map(d => d.decision)).toEqual(['approved']);
      const { record: inserted } = await store.insert(
        newOrdersRequest('r-2', ownWorkload('r-2')),
        [{ actor: JANE, decision: 'created' }],
      );
      expect(inserted.decisions.map(d => d.decision)).toEqual(['created']);
    } finally {
      knex.off('query', listener);
    }
    expect(outside).toEqual([]);
  });

  it('keeps every request and decision across a backend restart', async () => {
    const before = connectAgain();
    const first = await storeOn(before);
    await first.insert(newOrdersRequest('r-1'), [
      { actor: JANE, decision: 'created' },
    ]);
    await first.transition({
      id: 'r-1',
      from: ['pending'],
      to: 'approved',
      decision: { actor: PLATFORM, decision: 'approved' },
    });
    await before.destroy();

    const after = connectAgain();
    try {
      // Migrations run again at start-up and change nothing.
      const restarted = await storeOn(after);
      const record = await restarted.get('r-1');
      expect(record!.state).toBe('approved');
      expect(record!.decisions.map(d => d.decision)).toEqual([
        'created',
        'approved',
      ]);
      // The flow continues where it stopped.
      const next = await restarted.transition({
        id: 'r-1',
        from: ['approved'],
        to: 'provisioning',
        decision: { actor: PLATFORM, decision: 'provisioning' },
        set: { taskId: 't' },
      });
      expect(next.state).toBe('provisioning');
    } finally {
      await after.destroy();
    }
  });
});

describe('databaseUnavailableReason', () => {
  it('names the database as gone, unreachable or busy for connection errors only', () => {
    const pg = (code: string, message = 'x') =>
      Object.assign(new Error(message), { code });
    expect(
      databaseUnavailableReason(
        pg('57P01', 'terminating connection due to administrator command'),
      ),
    ).toBe('the connection to it was lost');
    expect(databaseUnavailableReason(pg('08006'))).toBe(
      'the connection to it was lost',
    );
    expect(
      databaseUnavailableReason(
        new Error('Connection terminated unexpectedly'),
      ),
    ).toBe('the connection to it was lost');
    expect(databaseUnavailableReason(pg('ECONNREFUSED'))).toBe(
      'it cannot be reached',
    );
    expect(databaseUnavailableReason(pg('SQLITE_IOERR_WRITE'))).toBe(
      'it cannot be reached',
    );
    expect(
      databaseUnavailableReason(
        Object.assign(new Error('Knex: Timeout acquiring a connection'), {
          name: 'KnexTimeoutError',
        }),
      ),
    ).toBe('no connection to it became free in time');
    expect(databaseUnavailableReason(pg('SQLITE_BUSY'))).toBe(
      'it is locked by another connection',
    );
    // refusals of the statement itself are not outages
    expect(databaseUnavailableReason(pg('23505'))).toBeUndefined();
    expect(
      databaseUnavailableReason(pg('SQLITE_CONSTRAINT_UNIQUE')),
    ).toBeUndefined();
    expect(databaseUnavailableReason(new ConflictError('x'))).toBeUndefined();
    expect(databaseUnavailableReason(new Error('boom'))).toBeUndefined();
    expect(databaseUnavailableReason(undefined)).toBeUndefined();
  });
});

describe('KedaRequestStore on SQLite when a COMMIT finds the database locked', () => {
  it('rolls the transaction back, so the change is not made and the store keeps working', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-busy-'));
    const connect = (busyTimeoutMs: number) =>
      knexFactory({
        client: 'better-sqlite3',
        connection: { filename: path.join(dir, 'keda.sqlite') },
        useNullAsDefault: true,
        pool: {
          afterCreate: (conn: any, done: (e: unknown, c: unknown) => void) => {
            conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
            done(null, conn);
          },
        },
      });
    const knex = connect(50);
    const reader = connect(0);
    try {
      const store = await storeOn(knex);
      await store.insert(newOrdersRequest('r-1'), [
        { actor: JANE, decision: 'created' },
      ]);
      // Another connection (a second backend process, a backup) is reading:
      // the change can write, but its COMMIT finds the database locked.
      const reading = await reader.transaction();
      await reading.raw('select count(*) from keda_requests');
      await expect(
        store.transition({
          id: 'r-1',
          from: ['pending'],
          to: 'approved',
          decision: { actor: PLATFORM, decision: 'approved' },
        }),
      ).rejects.toThrow(ConflictError);
      // Not made, not even as seen from this connection…
      expect((await store.get('r-1'))!.state).toBe('pending');
      await reading.rollback();
      // …nor from another one; and the next change is made.
      expect((await new KedaRequestStore(reader).get('r-1'))!.state).toBe(
        'pending',
      );
      const approved = await store.transition({
        id: 'r-1',
        from: ['pending'],
        to: 'approved',
        decision: { actor: PLATFORM, decision: 'approved' },
      });
      expect(approved.decisions.map(d => d.decision)).toEqual([
        'created',
        'approved',
      ]);
    } finally {
      await knex.destroy();
      await reader.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('KedaRequestStore.create', () => {
  const sqlite = () =>
    knexFactory({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    });

  it('runs the shipped migrations on start-up', async () => {
    const knex = sqlite();
    try {
      await KedaRequestStore.create({
        database: { getClient: async () => knex },
      });
      expect(await knex.schema.hasTable('keda_requests')).toBe(true);
      expect(await knex.schema.hasTable('keda_request_decisions')).toBe(true);
    } finally {
      await knex.destroy();
    }
  });

  it('leaves the schema alone when database.migrations.skip is set', async () => {
    const knex = sqlite();
    try {
      await KedaRequestStore.create({
        database: { getClient: async () => knex, migrations: { skip: true } },
      });
      expect(await knex.schema.hasTable('keda_requests')).toBe(false);
    } finally {
      await knex.destroy();
    }
  });
});
