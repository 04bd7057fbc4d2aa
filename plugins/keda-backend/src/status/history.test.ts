import { TestDatabases } from '@backstage/backend-test-utils';
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateKedaRequestStore } from '../requests/KedaRequestStore';
import { ScalingHistory } from './history';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const SO = { cluster: 'c', namespace: 'ns', name: 'so' };
const start = Date.parse('2026-11-28T06:00:00Z');

describe.each(databases.eachSupportedId())('ScalingHistory on %s', id => {
  let knex: Knex;
  /** another connection pool to the same database (a second replica) */
  let connectAgain: () => Knex;
  const extra: Knex[] = [];
  let dir: string | undefined;
  let now: number;

  const history = (db: Knex = knex, burst?: number) =>
    new ScalingHistory({
      db,
      retentionMs: 24 * 3600_000,
      resolutionMs: 60_000,
      burst,
      now: () => now,
    });

  beforeEach(async () => {
    now = start;
    if (id === 'SQLITE_3') {
      // TestDatabases' SQLite lives in memory, where a second connection
      // would see another database: use an on-disk file, as the portal does.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-history-'));
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
      connectAgain = () => knexFactory({ ...(knex.client as any).config });
    }
    await migrateKedaRequestStore(knex);
  });

  afterEach(async () => {
    await Promise.all(extra.splice(0).map(k => k.destroy()));
    if (dir) {
      await knex.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
  });

  const replica = () => {
    const db = connectAgain();
    extra.push(db);
    return history(db);
  };

  it('keeps a sample per change', async () => {
    const h = history();
    await h.record(SO, { replicas: 1, queueDepth: 3 });
    now += 120_000;
    await h.record(SO, { replicas: 2, queueDepth: 12.5 });
    expect(await h.get(SO)).toEqual([
      { time: '2026-11-28T06:00:00.000Z', replicas: 1, queueDepth: 3 },
      { time: '2026-11-28T06:02:00.000Z', replicas: 2, queueDepth: 12.5 },
    ]);
  });

  it('ignores repeats of the same values', async () => {
    const h = history();
    await h.record(SO, { replicas: 1 });
    now += 300_000;
    await h.record(SO, { replicas: 1 });
    expect(await h.get(SO)).toEqual([
      { time: '2026-11-28T06:00:00.000Z', replicas: 1 },
    ]);
  });

  it('without a burst, keeps at most one sample per minute: the last value seen in it', async () => {
    const h = history(knex, 0);
    await h.record(SO, { replicas: 1 });
    now += 61_000;
    await h.record(SO, { replicas: 2 });
    now += 10_000;
    await h.record(SO, { replicas: 3 });
    expect((await h.get(SO)).map(s => [s.time, s.replicas])).toEqual([
      ['2026-11-28T06:00:00.000Z', 1],
      ['2026-11-28T06:01:11.000Z', 3],
    ]);
  });

  it('keeps a 0 → 4 → 0 cycle within one minute, each sample at the time it was seen', async () => {
    const h = history();
    await h.record(SO, { replicas: 0, queueDepth: 0 });
    now += 5_000;
    await h.record(SO, { replicas: 4, queueDepth: 20 });
    now += 20_000;
    await h.record(SO, { replicas: 0, queueDepth: 0 });
    expect(await h.get(SO)).toEqual([
      { time: '2026-11-28T06:00:00.000Z', replicas: 0, queueDepth: 0 },
      { time: '2026-11-28T06:00:05.000Z', replicas: 4, queueDepth: 20 },
      { time: '2026-11-28T06:00:25.000Z', replicas: 0, queueDepth: 0 },
    ]);
    // A later change in a minute of its own takes that minute's bucket.
    now = start + 10 * 60_000;
    await h.record(SO, { replicas: 1, queueDepth: 3 });
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([0, 4, 0, 1]);
  });

  it('borrows at most `burst` buckets ahead, then merges: rows stay bounded', async () => {
    const h = history(knex, 2);
    for (let replicas = 1; replicas <= 6; replicas++) {
      now += 1_000;
      await h.record(SO, { replicas });
    }
    // Buckets 06:00, 06:01 and 06:02; the last one took the last value.
    const rows = await knex('keda_status_history').where(SO);
    expect(rows).toHaveLength(3);
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([1, 2, 6]);
  });

  it('without a burst, drops a merged sample that ends up equal to the previous one', async () => {
    const h = history(knex, 0);
    await h.record(SO, { replicas: 1 });
    now += 61_000;
    await h.record(SO, { replicas: 2 });
    now += 1_000;
    await h.record(SO, { replicas: 1 });
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([1]);
  });

  it('applies writes of one series in the order seen, without awaiting each', async () => {
    const h = history();
    const writes = [1, 2, 3, 4].map(replicas => {
      now += 60_000;
      return h.record(SO, { replicas });
    });
    await Promise.all(writes);
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([1, 2, 3, 4]);
  });

  it('survives a restart: a new instance on the same database serves the series', async () => {
    const before = history();
    await before.record(SO, { replicas: 1, queueDepth: 3 });
    now += 120_000;
    await before.record(SO, { replicas: 4, queueDepth: 40 });

    const after = replica();
    expect(await after.get(SO)).toEqual(await before.get(SO));
    expect(await after.get(SO)).toHaveLength(2);
    // It continues the series instead of starting one: an unchanged value
    // seen again after the restart adds nothing.
    now += 300_000;
    await after.record(SO, { replicas: 4, queueDepth: 40 });
    expect(await after.get(SO)).toHaveLength(2);
  });

  it('two replicas watching the same cluster write one series', async () => {
    const a = history();
    const b = replica();
    // Both see the same changes, a few milliseconds apart.
    for (const [replicas, queueDepth] of [
      [1, 3],
      [2, 15],
      [5, 48],
    ]) {
      now += 60_000;
      await a.record(SO, { replicas, queueDepth });
      now += 7;
      await b.record(SO, { replicas, queueDepth });
    }
    const rows = await knex('keda_status_history').where(SO);
    expect(rows).toHaveLength(3);
    expect((await a.get(SO)).map(s => s.replicas)).toEqual([1, 2, 5]);
    expect(await b.get(SO)).toEqual(await a.get(SO));
  });

  it('a replica that is late never replaces a newer value of the bucket with an older one', async () => {
    const a = history();
    const b = replica();
    now += 10_000;
    const seenEarly = now;
    now += 20_000;
    await a.record(SO, { replicas: 5 }); // seen at +30 s
    // b writes a value it saw at +10 s, later: same bucket, older value.
    const late = new ScalingHistory({
      db: connectAgain(),
      retentionMs: 24 * 3600_000,
      resolutionMs: 60_000,
      now: () => seenEarly,
    });
    extra.push((late as any).db);
    await late.record(SO, { replicas: 2 });
    expect((await b.get(SO)).map(s => s.replicas)).toEqual([5]);
  });

  it('prunes on write: keeps the retention window and the value at its start', async () => {
    const h = new ScalingHistory({
      db: knex,
      retentionMs: 30 * 60_000,
      resolutionMs: 60_000,
      now: () => now,
    });
    // 90 minutes of changes every 15 s: one sample per minute at most.
    for (let i = 0; i < 4 * 90; i++) {
      await h.record(SO, { replicas: i % 7, queueDepth: i });
      now += 15_000;
    }
    // Half an hour of minutes, the bucket being filled and the value at the
    // window's start.
    const rows = await knex('keda_status_history').where(SO);
    expect(rows.length).toBeGreaterThanOrEqual(30);
    expect(rows.length).toBeLessThanOrEqual(32);
    const series = await h.get(SO);
    expect(Date.parse(series[0].time)).toBeLessThanOrEqual(now - 30 * 60_000);
    expect(Date.parse(series[1].time)).toBeGreaterThan(now - 30 * 60_000);
  });

  it('forgets samples older than the retention but keeps the value at the window start', async () => {
    const h = history();
    await h.record(SO, { replicas: 1 });
    now += 3600_000;
    await h.record(SO, { replicas: 2 });
    now += 3600_000;
    await h.record(SO, { replicas: 3 });
    now += 23 * 3600_000 + 1;
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([2, 3]);
    now += 10 * 24 * 3600_000;
    expect((await h.get(SO)).map(s => s.replicas)).toEqual([3]);
  });

  it('keeps series apart and forgets one on request', async () => {
    const h = history();
    const other = { ...SO, name: 'other' };
    const elsewhere = { ...SO, cluster: 'c2' };
    await h.record(SO, { replicas: 1 });
    await h.record(other, { replicas: 2 });
    await h.record(elsewhere, { replicas: 3 });
    await h.forget(SO);
    expect(await h.get(SO)).toEqual([]);
    expect((await h.get(other)).map(s => s.replicas)).toEqual([2]);
    expect((await h.get(elsewhere)).map(s => s.replicas)).toEqual([3]);
    // A new series after forgetting starts afresh.
    await h.record(SO, { replicas: 1 });
    expect(await h.get(SO)).toHaveLength(1);
  });

  it('serves status reads from memory, reading the series again after its own write or a resolution period', async () => {
    const h = history();
    await h.record(SO, { replicas: 1 });
    const queries: string[] = [];
    const count = (q: { sql: string }) => queries.push(q.sql);
    knex.on('query', count);
    try {
      const first = await h.getVersioned(SO);
      expect(first.samples.map(s => s.replicas)).toEqual([1]);
      const reads = queries.length;
      for (let i = 0; i < 10; i++) {
        expect(await h.getVersioned(SO)).toEqual(first);
      }
      expect(queries.length).toBe(reads);

      // Its own write: the next read serves what it has and reads again in
      // the background; the read after that has the new sample.
      now += 60_000;
      await h.record(SO, { replicas: 3 });
      expect((await h.getVersioned(SO)).version).toBe(first.version);
      await new Promise(r => setTimeout(r, 50));
      const after = await h.getVersioned(SO);
      expect(after.samples.map(s => s.replicas)).toEqual([1, 3]);
      expect(after.version).not.toBe(first.version);

      // Another replica's write shows after a resolution period.
      const secondPool = connectAgain();
      extra.push(secondPool);
      const other = history(secondPool);
      now += 60_000;
      await other.record(SO, { replicas: 5 });
      await h.getVersioned(SO);
      await new Promise(r => setTimeout(r, 50));
      expect((await h.getVersioned(SO)).samples.map(s => s.replicas)).toEqual([
        1, 3, 5,
      ]);
    } finally {
      knex.off('query', count);
    }
  });
});
