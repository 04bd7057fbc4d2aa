import { TestDatabases } from '@backstage/backend-test-utils';
import { reportReliability } from '@internal/sandbox';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'yaml';
import {
  SIDE_EFFECT_KINDS,
  startBadInputWorld,
  type BadInputWorld,
  type SideEffects,
} from './__testUtils__/badInputWorld';
import {
  recordRequest,
  surfacesOf,
  type Outcome,
  type ProgressTarget,
  type Surface,
} from './__testUtils__/badInputSurfaces';

/*
 * Reliability (#16 item 1): the bad-input corpus. Every case of
 * badInput.corpus.yaml goes through every surface it lists — the template's
 * form, the scaffolder actions (input schema, then handler) and the keda
 * backend's REST API — and must be refused before any side effect (no AWS,
 * GitHub or Kubernetes call, no write in the keda backend, no file in the
 * workspace; each counted around the case) with a message naming the field.
 * Data-driven, so there is no seed and no soak variant: KEDA_SOAK=1 runs the
 * same corpus.
 */

jest.setTimeout(180_000);

interface CorpusCase {
  id: string;
  field: string;
  value?: unknown;
  repeat?: {
    text?: string;
    item?: unknown;
    times: number;
    prefix?: string;
    suffix?: string;
  };
  surfaces: string[];
  names?: string[];
}

const CORPUS_FILE = path.join(__dirname, 'badInput.corpus.yaml');
const corpus = yaml.parse(fs.readFileSync(CORPUS_FILE, 'utf8'), {
  maxAliasCount: -1,
}).cases as CorpusCase[];

function valueOf(c: CorpusCase): unknown {
  if (!c.repeat) return c.value;
  const { text, item, times, prefix = '', suffix = '' } = c.repeat;
  if (item !== undefined) return Array.from({ length: times }, () => item);
  return `${prefix}${(text ?? '').repeat(times)}${suffix}`;
}

/** The words one of which the message must contain. */
function namesOf(c: CorpusCase, surfacePath: string): string[] {
  if (c.names) return c.names;
  const canonical = c.field.replace(
    /^(request|progress|github|manifests)\./,
    '',
  );
  return [...new Set([canonical, surfacePath.replace(/\.\d+\./g, '.')])];
}

const shorten = (s: string, n = 300) =>
  s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;

interface Run {
  caseId: string;
  surface: string;
  outcome: Outcome;
  effects: Partial<SideEffects>;
  named: boolean;
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('bad input corpus (#16 item 1)', () => {
  let world: BadInputWorld;
  let surfaces: Map<string, Surface>;
  let progressTarget: ProgressTarget = {
    id: 'unknown',
    scalerRoleArn: '',
    taskId: 'unknown',
  };

  const effectsOf = async (send: () => Promise<Outcome>) => {
    const before = await world.sideEffects();
    const outcome = await send();
    const after = await world.sideEffects();
    const effects: Partial<SideEffects> = {};
    for (const kind of SIDE_EFFECT_KINDS) {
      if (after[kind] !== before[kind])
        effects[kind] = after[kind] - before[kind];
    }
    return { outcome, effects };
  };

  beforeAll(async () => {
    world = await startBadInputWorld(databases);
    surfaces = surfacesOf(world, () => progressTarget);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('the corpus is well-formed: ≥ 150 cases, unique ids, every surface takes its field', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    const ids = corpus.map(c => c.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const unknown = corpus.flatMap(c =>
      c.surfaces
        .filter(s => !surfaces.get(s)?.pathOf(c.field))
        .map(s => `${c.id}: ${s} does not take ${c.field}`),
    );
    expect(unknown).toEqual([]);
  });

  it('the controls: the valid base input goes through every surface, and its side effects are counted', async () => {
    // The request the progress surface reports on: auto-approved
    // (provisioning), so that a progress report moves it.
    progressTarget = await recordRequest(world, 'progress-control');
    const problems: string[] = [];
    for (const [n, surface] of [...surfaces.values()].entries()) {
      const workload = `control-${n + 1}`;
      const { outcome, effects } = await effectsOf(() =>
        surface.control(workload),
      );
      const total = Object.values(effects).reduce((a, b) => a + (b ?? 0), 0);
      // The form and the read-only endpoints accept without side effects;
      // every other surface gets as far as one (some then fail: the
      // stand-ins answer 404, the chain is not onboarded).
      const readOnly = ['form', 'POST /plan', 'POST /requests/preflight'];
      if (readOnly.includes(surface.id) ? outcome.rejected : total === 0) {
        problems.push(
          `${surface.id}: ${
            outcome.rejected ? 'rejected' : 'accepted'
          } with side effects ${JSON.stringify(effects)}: ${shorten(
            outcome.message,
            600,
          )}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('every case is rejected before any side effect, with a message naming the field', async () => {
    // the cases report on a request of their own, still provisioning
    progressTarget = await recordRequest(world, 'progress-target');
    const runs: Run[] = [];
    for (const c of corpus) {
      const value = valueOf(c);
      for (const id of c.surfaces) {
        const surface = surfaces.get(id)!;
        const surfacePath = surface.pathOf(c.field)!;
        const recorded = await world.requestIds();
        const { outcome, effects } = await effectsOf(() =>
          surface.send(c.field, value),
        );
        await world.forgetRequestsExcept(recorded);
        const names = namesOf(c, surfacePath);
        runs.push({
          caseId: c.id,
          surface: id,
          outcome,
          effects,
          named:
            outcome.rejected && names.some(n => outcome.message.includes(n)),
        });
      }
    }

    const byCase = new Map<string, Run[]>();
    for (const run of runs) {
      byCase.set(run.caseId, [...(byCase.get(run.caseId) ?? []), run]);
    }
    const clean = (r: Run) =>
      r.outcome.rejected && Object.keys(r.effects).length === 0;
    const cases = byCase.size;
    const rejected = [...byCase.values()].filter(rs => rs.every(clean)).length;
    const named = [...byCase.values()].filter(rs =>
      rs.every(r => r.named),
    ).length;
    reportReliability(
      'bad-input',
      `bad input: ${cases} cases, ${rejected} rejected before side effects, ${named} with the field named (${
        runs.length
      } sends through ${surfaces.size} surfaces: the form, ${
        [...surfaces.keys()].filter(s => s.startsWith('keda:')).length
      } actions, ${
        [...surfaces.keys()].filter(s => s.startsWith('POST ')).length
      } REST endpoints; seed-free: data-driven)`,
    );

    const verdict = (r: Run) => {
      if (!r.outcome.rejected) return 'ACCEPTED';
      if (Object.keys(r.effects).length) {
        return `rejected AFTER side effects ${JSON.stringify(r.effects)}`;
      }
      return 'rejected without naming the field';
    };
    const failures = runs
      .filter(r => !clean(r) || !r.named)
      .map(
        r =>
          `${r.caseId} via ${r.surface}: ${verdict(r)}${
            r.outcome.message ? ` — ${shorten(r.outcome.message)}` : ''
          }`,
      );
    expect(failures).toEqual([]);
    expect([rejected, named]).toEqual([cases, cases]);
  });
});
