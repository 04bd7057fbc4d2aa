/*
 * Reliability suite "races" (#16, item 5): randomized races of decisions
 * (approve / reject / withdraw from different callers and instances) and of
 * two requests for one workload, through the real REST API.
 *
 * PostgreSQL: two backend instances on one database — two independent
 * router + service + store stacks, each with its own knex connection pool
 * and HTTP server, in this one Jest process; they share nothing but the
 * database and the (counting) scaffolder. SQLite: one instance, concurrent
 * requests.
 *
 * Every race must end with exactly one deciding decision in the request's
 * log (exactly one provisioning task when it was an approval, none
 * otherwise), the losers answered 409, and at most one open request per
 * workload. KEDA_SOAK=1 runs more races; KEDA_SEED=n replays a seed.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  KEDA_IN_FLIGHT_STATES,
  kedaWorkloadKey,
} from '@keda-self-service/plugin-keda-common';
import {
  reportReliability,
  runs,
  seedFor,
  SeededRandom,
} from '@internal/sandbox';
import knexFactory, { type Knex } from 'knex';
import { JANE, PAT, SAM } from '../__testUtils__/policyPermissions';
import { EXTERNAL_ID, ordersRequest } from '../__testUtils__/requests';
import { migrateKedaRequestStore } from '../KedaRequestStore';
import {
  CountingScaffolder,
  decidingDecisions,
  startRequestStack,
  type ApiAnswer,
  type RequestStack,
} from './__testUtils__/requestStack';

const SEED = seedFor(42);
const RACES = runs(100, 500);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });

type Action = 'approve' | 'reject' | 'withdraw';
const CONTENDERS: Array<{ action: Action; user: string }> = [
  { action: 'approve', user: PAT },
  { action: 'approve', user: SAM },
  { action: 'reject', user: PAT },
  { action: 'reject', user: SAM },
  { action: 'withdraw', user: JANE },
];
const DECISION_OF: Record<Action, string> = {
  approve: 'approved',
  reject: 'rejected',
  withdraw: 'withdrawn',
};

interface Counts {
  decisionRaces: number;
  oneDecision: number;
  approvals: number;
  approvalsWithOneTask: number;
  othersWithoutTask: number;
  creationRaces: number;
  oneAdmitted: number;
  refusedClearly: number;
  duplicateOpen: number;
  failures: string[];
}

const newCounts = (): Counts => ({
  decisionRaces: 0,
  oneDecision: 0,
  approvals: 0,
  approvalsWithOneTask: 0,
  othersWithoutTask: 0,
  creationRaces: 0,
  oneAdmitted: 0,
  refusedClearly: 0,
  duplicateOpen: 0,
  failures: [],
});

const pause = (random: SeededRandom) => {
  const ms = random.int(0, 3);
  return ms === 0
    ? new Promise<void>(r => setImmediate(r))
    : new Promise<void>(r => setTimeout(r, ms));
};

const brief = (a: ApiAnswer) =>
  `${a.status} ${
    typeof a.body === 'object' ? a.body?.error?.message ?? '' : a.body
  }`.slice(0, 300);

/** Runs `count` decision races and `count` creation races on `stacks`. */
async function race(
  label: string,
  stacks: RequestStack[],
  scaffolder: CountingScaffolder,
  random: SeededRandom,
  count: number,
): Promise<Counts> {
  const counts = newCounts();
  scaffolder.latency = () => pause(random);
  const fail = (i: number, what: string) =>
    counts.failures.push(`${label} race ${i} (seed ${SEED}): ${what}`);

  for (let i = 0; i < count; i++) {
    // --- a decision race: 2–4 decisions on one pending request at once ---
    const workload = {
      kind: 'Deployment' as const,
      name: `decide-${label}-${i}`,
    };
    const created = await random
      .pick(stacks)
      .as(JANE)
      .post('/requests', {
        request: ordersRequest({ workload }),
        externalId: EXTERNAL_ID,
      });
    if (created.status !== 201) {
      fail(i, `could not create the request: ${brief(created)}`);
      continue;
    }
    const id = created.body.id as string;
    const contenders = Array.from({ length: random.int(2, 4) }, () => ({
      ...random.pick(CONTENDERS),
      stack: random.pick(stacks),
      delay: random.int(0, 1),
    }));
    counts.decisionRaces++;
    const answers = await Promise.all(
      contenders.map(async c => {
        if (c.delay) await pause(random);
        return c.stack.as(c.user).post(`/requests/${id}/${c.action}`, {
          comment: `${c.action} by ${c.user} on ${c.stack.name}`,
        });
      }),
    );
    const record = await stacks[0].store.get(id);
    const deciding = record ? decidingDecisions(record) : [];
    const winners = answers.filter(a => a.status === 200);
    const losers = answers.filter(a => a.status !== 200);
    const tasks = scaffolder.tasksOf(id);
    const story = `${contenders
      .map(
        (c, k) =>
          `${c.user} ${c.action}@${c.stack.name} → ${brief(answers[k])}`,
      )
      .join('; ')}; log ${record?.decisions
      .map(d => d.decision)
      .join(',')}; tasks ${tasks.length}`;
    if (
      deciding.length === 1 &&
      winners.length === 1 &&
      losers.every(
        a => a.status === 409 && a.body?.error?.name === 'ConflictError',
      ) &&
      DECISION_OF[
        contenders[answers.findIndex(a => a.status === 200)].action
      ] === deciding[0].decision
    ) {
      counts.oneDecision++;
    } else {
      fail(i, `not exactly one decision: ${story}`);
    }
    if (deciding[0]?.decision === 'approved') {
      counts.approvals++;
      const linked =
        record?.state === 'provisioning' &&
        record.provisioning?.taskId === tasks[0] &&
        record.decisions.filter(d => d.decision === 'provisioning').length ===
          1;
      if (tasks.length === 1 && linked) counts.approvalsWithOneTask++;
      else fail(i, `approved without exactly one linked task: ${story}`);
    } else if (deciding.length === 1) {
      if (tasks.length === 0) counts.othersWithoutTask++;
      else fail(i, `a task for a ${deciding[0].decision} request: ${story}`);
    }

    // --- a creation race: 2–3 requests for one workload at once ---
    const contested = {
      kind: 'Deployment' as const,
      name: `create-${label}-${i}`,
    };
    const attempts = Array.from({ length: random.int(2, 3) }, () => ({
      stack: random.pick(stacks),
      user: random.pick([JANE, PAT]),
      // inside the auto-approve guardrails (in flight as `provisioning`) or not
      maxReplicas: random.pick([5, 20]),
    }));
    counts.creationRaces++;
    const results = await Promise.all(
      attempts.map(async a => {
        await pause(random);
        return a.stack.as(a.user).post('/requests', {
          request: ordersRequest({
            workload: contested,
            maxReplicas: a.maxReplicas,
          }),
          externalId: EXTERNAL_ID,
        });
      }),
    );
    const workloadKey = kedaWorkloadKey({
      cluster: 'prod-eu',
      namespace: 'shop',
      workload: contested,
    });
    const open = (await stacks[0].store.activeFor(workloadKey)).filter(r =>
      KEDA_IN_FLIGHT_STATES.includes(r.state),
    );
    if (open.length > 1) counts.duplicateOpen++;
    const admitted = results.filter(r => r.status === 201);
    const refused = results.filter(r => r.status !== 201);
    const told = `${results.map(brief).join('; ')}; open ${open
      .map(r => `${r.id} (${r.state})`)
      .join(', ')}`;
    if (admitted.length === 1 && open.length === 1) {
      counts.oneAdmitted++;
    } else {
      fail(i, `not exactly one open request for ${workloadKey}: ${told}`);
    }
    if (
      refused.every(
        r =>
          r.status === 409 &&
          /already has (request \S+ in flight|an active KEDA request)/.test(
            r.body?.error?.message ?? '',
          ),
      )
    ) {
      counts.refusedClearly++;
    } else {
      fail(i, `a refusal that is not a clear 409: ${told}`);
    }
  }
  return counts;
}

const describeCounts = (c: Counts) =>
  `${c.oneDecision}/${c.decisionRaces} decision races with exactly one deciding decision (${c.approvalsWithOneTask}/${c.approvals} approvals with exactly one provisioning task, ${c.othersWithoutTask} rejections/withdrawals with none), ${c.oneAdmitted}/${c.creationRaces} creation races with exactly one request admitted (${c.refusedClearly} with the others refused by a clear 409), ${c.duplicateOpen} duplicate open requests`;

it(`races of decisions and of requests for one workload (seed ${SEED})`, async () => {
  const random = new SeededRandom(SEED);
  const parts: string[] = [];
  const failures: string[] = [];
  const clean = (c: Counts) =>
    c.failures.length === 0 &&
    c.duplicateOpen === 0 &&
    c.oneDecision === c.decisionRaces &&
    c.approvalsWithOneTask === c.approvals &&
    c.oneAdmitted === c.creationRaces &&
    c.refusedClearly === c.creationRaces;
  let allClean = true;

  // PostgreSQL: two instances, each with its own connection pool.
  let first: Knex | undefined;
  let unreachable: string | undefined;
  if (!databases.supports('POSTGRES_15')) {
    unreachable = 'not configured';
  } else {
    try {
      first = await databases.init('POSTGRES_15');
    } catch (e) {
      unreachable = `not reachable: ${(e as Error).message}`;
    }
  }
  if (first) {
    await migrateKedaRequestStore(first);
    const config = (first.client as any).config;
    const pools = [knexFactory({ ...config }), knexFactory({ ...config })];
    const scaffolder = new CountingScaffolder();
    const stacks = await Promise.all(
      pools.map((knex, k) =>
        startRequestStack({ name: `pg-${'AB'[k]}`, knex, scaffolder }),
      ),
    );
    try {
      const counts = await race('pg', stacks, scaffolder, random, RACES);
      parts.push(`PostgreSQL, 2 instances: ${describeCounts(counts)}`);
      failures.push(...counts.failures);
      allClean &&= clean(counts);
    } finally {
      await Promise.all(stacks.map(s => s.stop()));
      await Promise.all(pools.map(p => p.destroy()));
    }
  } else {
    parts.push(`PostgreSQL skipped (${unreachable})`);
  }

  // SQLite: one instance, concurrent requests.
  const sqlite = await databases.init('SQLITE_3');
  await migrateKedaRequestStore(sqlite);
  const scaffolder = new CountingScaffolder();
  const stack = await startRequestStack({
    name: 'sqlite',
    knex: sqlite,
    scaffolder,
  });
  try {
    const counts = await race('sqlite', [stack], scaffolder, random, RACES);
    parts.push(`SQLite, 1 instance: ${describeCounts(counts)}`);
    failures.push(...counts.failures);
    allClean &&= clean(counts);
  } finally {
    await stack.stop();
  }

  reportReliability(
    'races',
    `races (seed ${SEED}): ${RACES} decision races + ${RACES} creation races per database; ${parts.join(
      '; ',
    )}`,
  );
  expect({ seed: SEED, failures: failures.slice(0, 20) }).toEqual({
    seed: SEED,
    failures: [],
  });
  expect({ seed: SEED, allClean }).toEqual({ seed: SEED, allClean: true });
}, 600_000);
