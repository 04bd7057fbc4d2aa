/*
 * Reliability suite "database-faults" (#16, item 6): the store's database
 * fails in the middle of a change made through the REST API.
 *
 * PostgreSQL: a second connection (the saboteur) takes a lock the change
 * needs — the request's row (the state write), the decision log (the log
 * write, after the state was written in the same transaction) or, for an
 * approval, the request's row while the provisioning task is being linked —
 * so the change's transaction blocks mid-way; then the saboteur terminates
 * that backend with pg_terminate_backend() and lets go. Nothing in the
 * plugin knows: it only sees its connection dropped.
 *
 * SQLite (the portal's local database, on disk): another connection holds
 * the database — reading (the change's COMMIT finds it locked, after its
 * writes) or writing (the change's first write finds it locked).
 *
 * Each fault must leave the request unchanged or fully moved (state,
 * decision log and provisioning task all or nothing), the answer must be a
 * clear 503 (or, on SQLite, the documented 409 for a locked database; or
 * 200 when the change was completed in full), never a 500 or a 200 with a
 * half-done change, and the same call afterwards must work.
 * KEDA_SOAK=1 runs more faults; KEDA_SEED=n replays a seed.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import type { KedaRequestRecord } from '@keda-self-service/plugin-keda-common';
import {
  reportReliability,
  runs,
  seedFor,
  SeededRandom,
} from '@internal/sandbox';
import knexFactory, { type Knex } from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JANE, PAT } from '../__testUtils__/policyPermissions';
import { EXTERNAL_ID, ordersRequest } from '../__testUtils__/requests';
import { KedaRequestStore, migrateKedaRequestStore } from '../KedaRequestStore';
import {
  CountingScaffolder,
  startRequestStack,
  type ApiAnswer,
  type RequestStack,
} from './__testUtils__/requestStack';

const SEED = seedFor(9);
const PG_FAULTS = runs(20, 100);
const SQLITE_FAULTS = runs(12, 60);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });

type Operation = 'create' | 'approve' | 'reject' | 'withdraw';
type Point = 'state write' | 'log write' | 'task link' | 'commit';

interface Fault {
  op: Operation;
  point: Point;
}

interface Counts {
  faults: number;
  unchanged: number;
  moved: number;
  halfDone: number;
  answered503: number;
  answered409Locked: number;
  answered2xxMoved: number;
  otherAnswers: number;
  retriesWorked: number;
  byPoint: Record<string, number>;
  byOp: Record<string, number>;
  failures: string[];
}

const newCounts = (): Counts => ({
  faults: 0,
  unchanged: 0,
  moved: 0,
  halfDone: 0,
  answered503: 0,
  answered409Locked: 0,
  answered2xxMoved: 0,
  otherAnswers: 0,
  retriesWorked: 0,
  byPoint: {},
  byOp: {},
  failures: [],
});

const brief = (a: ApiAnswer) =>
  `${a.status} ${
    typeof a.body === 'object'
      ? a.body?.error?.message ?? a.body?.state
      : a.body
  }`.slice(0, 400);

/** A 503 that names the database as unavailable, says retrying is safe, and leaks nothing. */
function clear503(a: ApiAnswer): boolean {
  const message: string = a.body?.error?.message ?? '';
  return (
    a.status === 503 &&
    a.body?.error?.name === 'ServiceUnavailableError' &&
    /database is unavailable/.test(message) &&
    /retry|try again/i.test(message) &&
    !/\b(select|insert|update|delete)\b|keda_request|\$\d|postgres(ql)?:\/\/|password/i.test(
      message,
    ) &&
    !a.body?.error?.stack &&
    !a.body?.error?.cause
  );
}

/** SQLite's documented answer to a decision meeting a locked database. */
const locked409 = (a: ApiAnswer) =>
  a.status === 409 &&
  /being changed by another decision right now; reload it and try again/.test(
    a.body?.error?.message ?? '',
  );

/** What the request looks like, as far as a change is concerned. */
interface Snapshot {
  /** the workload's requests (create) or the request (decisions) */
  records: KedaRequestRecord[];
  tasks: number;
}

const EXPECTED: Record<Operation, { state: string; decisions: string[] }> = {
  create: { state: 'pending', decisions: ['created'] },
  approve: { state: 'provisioning', decisions: ['approved', 'provisioning'] },
  reject: { state: 'rejected', decisions: ['rejected'] },
  withdraw: { state: 'withdrawn', decisions: ['withdrawn'] },
};

function classify(
  fault: Fault,
  before: Snapshot,
  after: Snapshot,
): 'unchanged' | 'moved' | 'half-done' {
  const shape = (s: Snapshot) =>
    JSON.stringify({
      records: s.records.map(r => [r.state, r.decisions.map(d => d.decision)]),
      tasks: s.tasks,
    });
  if (shape(before) === shape(after)) return 'unchanged';
  const expected = EXPECTED[fault.op];
  if (fault.op === 'create') {
    const [only, ...more] = after.records;
    return before.records.length === 0 &&
      more.length === 0 &&
      only?.state === expected.state &&
      only.decisions.map(d => d.decision).join() ===
        expected.decisions.join() &&
      after.tasks === 0
      ? 'moved'
      : 'half-done';
  }
  const [was] = before.records;
  const [now] = after.records;
  const tasks = fault.op === 'approve' ? 1 : 0;
  return now?.state === expected.state &&
    now.decisions.map(d => d.decision).join() ===
      [...was.decisions.map(d => d.decision), ...expected.decisions].join() &&
    after.tasks === before.tasks + tasks &&
    (fault.op !== 'approve' || Boolean(now.provisioning?.taskId))
    ? 'moved'
    : 'half-done';
}

/**
 * How the saboteur catches the change mid-way; `arm` returns a function that
 * ends the fault (drops the change's connection, or just lets go) and
 * releases the saboteur.
 */
interface Saboteur {
  points(op: Operation): Point[];
  /** takes the lock now; returns the release */
  lock(
    point: Point,
    op: Operation,
    requestId?: string,
  ): Promise<() => Promise<void>>;
  /**
   * PG: waits until the change is blocked and drops its connection. SQLite:
   * waits for the answer (the change fails on its own after the busy timeout).
   */
  drop(answer: Promise<unknown>): Promise<void>;
}

async function runFaults(options: {
  label: string;
  stack: RequestStack;
  observer: KedaRequestStore;
  scaffolder: CountingScaffolder;
  saboteur: Saboteur;
  random: SeededRandom;
  count: number;
}): Promise<Counts> {
  const { label, stack, observer, scaffolder, saboteur, random } = options;
  const counts = newCounts();
  const fail = (i: number, fault: Fault, what: string) =>
    counts.failures.push(
      `${label} fault ${i} (${fault.op} at the ${fault.point}, seed ${SEED}): ${what}`,
    );

  // every operation as often as the others, in a seeded order
  let order: Operation[] = [];
  for (let i = 0; i < options.count; i++) {
    if (order.length === 0) {
      order = random.shuffle<Operation>([
        'create',
        'approve',
        'reject',
        'withdraw',
      ]);
    }
    const op = order.pop()!;
    const fault: Fault = { op, point: random.pick(saboteur.points(op)) };
    try {
      await (async () => {
        const workload = {
          kind: 'Deployment' as const,
          name: `fault-${label}-${i}`,
        };
        const request = ordersRequest({ workload });
        let id: string | undefined;
        if (op !== 'create') {
          const created = await stack.as(JANE).post('/requests', {
            request,
            externalId: EXTERNAL_ID,
          });
          if (created.status !== 201) {
            fail(i, fault, `could not create the request: ${brief(created)}`);
            return;
          }
          id = created.body.id;
        }
        const snapshot = async (): Promise<Snapshot> => {
          if (op === 'create') {
            const records = (await observer.list()).filter(
              r => r.plan.request.workload.name === workload.name,
            );
            return { records, tasks: 0 };
          }
          return {
            records: [(await observer.get(id!))!],
            tasks: scaffolder.tasksOf(id!).length,
          };
        };
        const call = () =>
          op === 'create'
            ? stack
                .as(JANE)
                .post('/requests', { request, externalId: EXTERNAL_ID })
            : stack
                .as(op === 'withdraw' ? JANE : PAT)
                .post(`/requests/${id}/${op}`, {
                  comment: `${op} while the database fails`,
                });

        const before = await snapshot();
        counts.faults++;
        counts.byPoint[fault.point] = (counts.byPoint[fault.point] ?? 0) + 1;
        counts.byOp[op] = (counts.byOp[op] ?? 0) + 1;
        let release: (() => Promise<void>) | undefined;
        let armed: Promise<void> | undefined;
        if (fault.point === 'task link') {
          // the task is started; the lock is taken before its id is answered
          armed = new Promise<void>((resolve, reject) => {
            scaffolder.beforeAnswer = async requestId => {
              scaffolder.beforeAnswer = undefined;
              try {
                release = await saboteur.lock(fault.point, op, requestId);
                resolve();
              } catch (e) {
                reject(e);
              }
            };
          });
        } else {
          release = await saboteur.lock(fault.point, op, id);
        }
        const answer = call();
        try {
          if (armed) await armed;
          await saboteur.drop(answer);
        } catch (e) {
          fail(i, fault, `the fault was not injected: ${(e as Error).message}`);
        } finally {
          scaffolder.beforeAnswer = undefined;
          await release?.();
        }
        const answered = await answer;
        const after = await snapshot();
        const outcome = classify(fault, before, after);
        const story = `answered ${brief(answered)}; before ${JSON.stringify(
          before.records.map(r => r.decisions.map(d => d.decision)),
        )}, after ${JSON.stringify(
          after.records.map(r => [r.state, r.decisions.map(d => d.decision)]),
        )}, tasks ${before.tasks} → ${after.tasks}`;
        if (outcome === 'unchanged') counts.unchanged++;
        else if (outcome === 'moved') counts.moved++;
        else {
          counts.halfDone++;
          fail(i, fault, `half-done: ${story}`);
        }
        if (clear503(answered)) counts.answered503++;
        else if (locked409(answered) && outcome === 'unchanged') {
          counts.answered409Locked++;
        } else if (
          answered.status >= 200 &&
          answered.status < 300 &&
          outcome === 'moved'
        ) {
          counts.answered2xxMoved++;
        } else {
          counts.otherAnswers++;
          fail(i, fault, `not a clear answer: ${story}`);
        }

        // The same call again, the database being back: it works.
        const again = await call();
        const final = await snapshot();
        const done = classify(fault, before, final) === 'moved';
        const worked =
          outcome === 'unchanged'
            ? again.status >= 200 && again.status < 300 && done
            : // already made: a decision is refused naming who decided
              again.status === 409 && done;
        if (worked) counts.retriesWorked++;
        else
          fail(i, fault, `the retry did not work: ${brief(again)}; ${story}`);
      })();
    } catch (e) {
      // the store wedged (or the run broke off): counted, and the run stops
      counts.otherAnswers++;
      fail(i, fault, `the run broke off: ${e}`);
      break;
    }
  }
  return counts;
}

const describeCounts = (c: Counts) =>
  `${c.faults} faults (${Object.entries(c.byOp)
    .map(([op, n]) => `${n} ${op}`)
    .join(', ')}; ${Object.entries(c.byPoint)
    .map(([point, n]) => `${n} at the ${point}`)
    .join(', ')}): ${c.unchanged} unchanged, ${c.moved} fully moved, ${
    c.halfDone
  } half-done; ${c.answered503} answered a clear 503, ${
    c.answered409Locked
      ? `${c.answered409Locked} the documented 409 (locked), `
      : ''
  }${c.answered2xxMoved} answered 2xx fully moved, ${
    c.otherAnswers
  } other answers (500, or 2xx not fully moved); ${c.retriesWorked}/${
    c.faults
  } retries afterwards worked`;

const clean = (c: Counts) =>
  c.failures.length === 0 &&
  c.halfDone === 0 &&
  c.otherAnswers === 0 &&
  c.retriesWorked === c.faults &&
  c.unchanged + c.moved === c.faults;

/** PostgreSQL: locks from a second connection, then pg_terminate_backend. */
function postgresSaboteur(knex: Knex): Saboteur {
  let trx: Knex.Transaction | undefined;
  let saboteurPid: number | undefined;
  return {
    points: op =>
      op === 'approve'
        ? ['state write', 'log write', 'task link']
        : ['state write', 'log write'],
    async lock(point, op, requestId) {
      trx = await knex.transaction();
      saboteurPid = (await trx.raw('select pg_backend_pid() as pid')).rows[0]
        .pid;
      if (point === 'log write') {
        await trx.raw(
          'lock table keda_request_decisions in share row exclusive mode',
        );
      } else if (op === 'create') {
        await trx.raw('lock table keda_requests in share row exclusive mode');
      } else {
        await trx.raw('select id from keda_requests where id = ? for update', [
          requestId!,
        ]);
      }
      const mine = trx;
      return async () => {
        await mine.rollback().catch(() => {});
      };
    },
    async drop() {
      for (let waited = 0; waited < 600; waited++) {
        const { rows } = await knex.raw(
          `select pid from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'
              and pid <> pg_backend_pid() and pid <> ?`,
          [saboteurPid!],
        );
        if (rows.length > 0) {
          for (const { pid } of rows) {
            await knex.raw('select pg_terminate_backend(?)', [pid]);
          }
          return;
        }
        await new Promise(r => setTimeout(r, 25));
      }
      throw new Error('the change never blocked on the lock');
    },
  };
}

/** SQLite: another connection holds the database (reading or writing). */
function sqliteSaboteur(knex: Knex): Saboteur {
  return {
    points: () => ['commit', 'state write'],
    async lock(point) {
      const trx = await knex.transaction();
      if (point === 'commit') {
        // a reader: the change writes, then its COMMIT finds the database locked
        await trx.raw('select count(*) from keda_requests');
      } else {
        // a writer: the change's first write finds the database locked
        await trx.raw(
          "update keda_requests set updated_at = updated_at where id = 'none'",
        );
      }
      return async () => {
        await trx.rollback().catch(() => {});
      };
    },
    drop: async answer => {
      await answer;
    },
  };
}

it(`database faults mid-transaction (seed ${SEED})`, async () => {
  const random = new SeededRandom(SEED);
  const parts: string[] = [];
  const failures: string[] = [];
  let allClean = true;

  // PostgreSQL
  let first: Knex | undefined;
  let unreachable: string | undefined;
  if (!databases.supports('POSTGRES_15')) unreachable = 'not configured';
  else {
    try {
      first = await databases.init('POSTGRES_15');
    } catch (e) {
      unreachable = `not reachable: ${(e as Error).message}`;
    }
  }
  if (first) {
    await migrateKedaRequestStore(first);
    const config = (first.client as any).config;
    // (knex logs the dropped connections to the console otherwise)
    const quiet = { warn() {}, error() {}, debug() {}, deprecate() {} };
    const storePool = knexFactory({ ...config, log: quiet });
    const saboteurPool = knexFactory({ ...config });
    const scaffolder = new CountingScaffolder();
    const stack = await startRequestStack({
      name: 'pg',
      knex: storePool,
      scaffolder,
    });
    try {
      const counts = await runFaults({
        label: 'pg',
        stack,
        observer: new KedaRequestStore(saboteurPool),
        scaffolder,
        saboteur: postgresSaboteur(saboteurPool),
        random,
        count: PG_FAULTS,
      });
      parts.push(
        `PostgreSQL, connection dropped mid-transaction (pg_terminate_backend): ${describeCounts(
          counts,
        )}`,
      );
      failures.push(...counts.failures);
      allClean &&= clean(counts);
    } finally {
      await stack.stop();
      await storePool.destroy();
      await saboteurPool.destroy();
    }
  } else {
    parts.push(`PostgreSQL skipped (${unreachable})`);
  }

  // SQLite, on disk as in the portal
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keda-faults-'));
  const filename = path.join(dir, 'keda.sqlite');
  const sqlite = (busyTimeoutMs: number) =>
    knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        afterCreate: (conn: any, done: (e: unknown, c: unknown) => void) => {
          conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
          done(null, conn);
        },
      },
    });
  const storeDb = sqlite(200);
  const saboteurDb = sqlite(0);
  const observerDb = sqlite(5000);
  try {
    await migrateKedaRequestStore(storeDb);
    const scaffolder = new CountingScaffolder();
    const stack = await startRequestStack({
      name: 'sqlite',
      knex: storeDb,
      scaffolder,
    });
    try {
      const counts = await runFaults({
        label: 'sqlite',
        stack,
        observer: new KedaRequestStore(observerDb),
        scaffolder,
        saboteur: sqliteSaboteur(saboteurDb),
        random,
        count: SQLITE_FAULTS,
      });
      parts.push(
        `SQLite, database locked by another connection: ${describeCounts(
          counts,
        )}`,
      );
      failures.push(...counts.failures);
      allClean &&= clean(counts);
    } finally {
      await stack.stop();
    }
  } finally {
    await Promise.all([storeDb, saboteurDb, observerDb].map(k => k.destroy()));
    fs.rmSync(dir, { recursive: true, force: true });
  }

  reportReliability(
    'database-faults',
    `database faults (seed ${SEED}): ${parts.join('; ')}`,
  );
  expect({ seed: SEED, failures: failures.slice(0, 20) }).toEqual({
    seed: SEED,
    failures: [],
  });
  expect({ seed: SEED, allClean }).toEqual({ seed: SEED, allClean: true });
}, 600_000);
