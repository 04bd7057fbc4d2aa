/*
 * The markdown report: one table per object count, then the ratio targets
 * with PASS/MISS (see bench/README.md for how to read them).
 */

export interface RouteRow {
  label: string;
  conditional: boolean;
  p50One: number;
  p99One: number;
  p50Many: number;
  p99Many: number;
  reqPerSecMany: number;
  /** Non-watch Kubernetes API requests counted at the proxies ÷ responses. */
  apiPerRead: number;
  notModifiedShare: number;
  etagShare: number;
  /** Answers counted in the 1-client and the 50-client run. */
  responsesOne: number;
  responsesMany: number;
  /** The most frequent non-watch API requests, per read. */
  topApiRequests: Array<{ request: string; perRead: number }>;
}

export interface CountResult {
  objects: number;
  clusters: number;
  direct: RouteRow[];
  delayed: RouteRow[];
  latencyMs: number;
  /** Sorted, ms; Infinity = not visible within the timeout. */
  freshness: number[];
  rssBefore: number;
  rssAfter: number;
  /** The watch cache alone, measured in its own process (bench/cacheMemory.ts). */
  cache?: {
    heapEmptyBytes: number;
    heapFullBytes: number;
    cachedObjects: number;
    collections: number;
  };
}

export interface Target {
  name: string;
  value: string;
  pass: boolean | undefined;
}

const MB = 2 ** 20;
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '∞');
const fixed = (n: number, digits = 1) =>
  Number.isFinite(n) ? n.toFixed(digits) : 'n/a';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

const row = (rows: RouteRow[], label: string) => {
  const found = rows.find(r => r.label === label);
  if (!found) throw new Error(`no row ${label}`);
  return found;
};

/** Memory target: ≤ 50 MB at 10,000 objects (shown, not judged, at other counts). */
const MEMORY_TARGET_MB = 50;
const MEMORY_TARGET_OBJECTS = 10_000;

export function evaluateTargets(result: CountResult): Target[] {
  const floor = row(result.direct, 'catalog by-name (floor)');
  const status = row(result.direct, 'keda status');
  const services = row(result.direct, 'k8s plugin services');
  const statusDelayed = row(result.delayed, 'keda status');
  const conditional = row(result.direct, 'keda status + If-None-Match');
  const conditionalDelayed = row(result.delayed, 'keda status + If-None-Match');
  const deltaMb = (result.rssAfter - result.rssBefore) / MB;
  const cacheMb = result.cache
    ? (result.cache.heapFullBytes - result.cache.heapEmptyBytes) / MB
    : NaN;
  const p95 = percentile(result.freshness, 95);
  const maxApiPerRead = Math.max(
    status.apiPerRead,
    statusDelayed.apiPerRead,
    conditional.apiPerRead,
    conditionalDelayed.apiPerRead,
  );
  return [
    {
      name: 'status p50 @1 client ≤ 1.3× catalog floor',
      value: `${ms(status.p50One)} ms vs ${ms(floor.p50One)} ms (${fixed(
        status.p50One / floor.p50One,
        2,
      )}×)`,
      pass: status.p50One <= 1.3 * floor.p50One,
    },
    {
      name: 'status req/s @50 ≥ 0.9× catalog floor',
      value: `${fixed(status.reqPerSecMany, 0)} vs ${fixed(
        floor.reqPerSecMany,
        0,
      )} (${fixed(status.reqPerSecMany / floor.reqPerSecMany, 2)}×)`,
      pass: status.reqPerSecMany >= 0.9 * floor.reqPerSecMany,
    },
    {
      name: 'status req/s @50 ≥ 3× k8s plugin services',
      value: `${fixed(status.reqPerSecMany, 0)} vs ${fixed(
        services.reqPerSecMany,
        0,
      )} (${fixed(status.reqPerSecMany / services.reqPerSecMany, 1)}×)`,
      pass: status.reqPerSecMany >= 3 * services.reqPerSecMany,
    },
    {
      // "Unchanged within noise": p50 at most 20 % (+0.5 ms) higher and
      // req/s at least 80 % of the run without injected latency.
      name: `status unchanged with ${result.latencyMs} ms API latency`,
      value: `p50 ${ms(statusDelayed.p50One)} vs ${ms(
        status.p50One,
      )} ms, req/s ${fixed(statusDelayed.reqPerSecMany, 0)} vs ${fixed(
        status.reqPerSecMany,
        0,
      )}`,
      pass:
        statusDelayed.p50One <= 1.2 * status.p50One + 0.5 &&
        statusDelayed.reqPerSecMany >= 0.8 * status.reqPerSecMany,
    },
    {
      // ≤ 0.001 tolerates one watch re-list during thousands of reads.
      name: '0 Kubernetes API requests per status read',
      value: `${fixed(maxApiPerRead, 4)} (worst of the four status rows)`,
      pass: maxApiPerRead <= 0.001,
    },
    {
      name: `watch cache memory ≤ ${MEMORY_TARGET_MB} MB at ${MEMORY_TARGET_OBJECTS.toLocaleString(
        'en-US',
      )}`,
      value: `${fixed(cacheMb)} MB heap at ${result.objects.toLocaleString(
        'en-US',
      )} (backend RSS +${fixed(deltaMb)} MB)`,
      pass:
        result.objects === MEMORY_TARGET_OBJECTS
          ? cacheMb <= MEMORY_TARGET_MB
          : undefined,
    },
    {
      name: 'freshness p95 ≤ 1 s',
      value: `${ms(p95)} ms`,
      pass: p95 <= 1000,
    },
  ];
}

function routeTable(result: CountResult): string {
  const lines = [
    '| route | API latency | p50 1 client (ms) | p99 1 client (ms) | p50 50 clients (ms) | p99 50 clients (ms) | req/s 50 clients | API requests/read | answers 1 / 50 clients | notes |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const [rows, latency] of [
    [result.direct, '0 ms'],
    [result.delayed, `${result.latencyMs} ms`],
  ] as const) {
    for (const r of rows) {
      const notes = [
        r.conditional
          ? `304: ${fixed(r.notModifiedShare * 100)} %, ETag on ${fixed(
              r.etagShare * 100,
            )} % of answers`
          : '',
        r.topApiRequests
          .filter(t => t.perRead >= 0.0005)
          .map(t => `${t.request} ${fixed(t.perRead, 3)}/read`)
          .join(', '),
      ]
        .filter(Boolean)
        .join('; ');
      lines.push(
        `| ${r.label} | ${latency} | ${ms(r.p50One)} | ${ms(r.p99One)} | ${ms(
          r.p50Many,
        )} | ${ms(r.p99Many)} | ${fixed(r.reqPerSecMany, 0)} | ${fixed(
          r.apiPerRead,
          3,
        )} | ${r.responsesOne} / ${r.responsesMany} | ${notes} |`,
      );
    }
  }
  return lines.join('\n');
}

/** One run of the template's AWS steps (bench/templateRun.ts). */
export interface TemplateRunRow {
  ms: number;
  calls: Record<string, number>;
  total: number;
  writes: number;
}

function templateTable(runs: { first: TemplateRunRow; rerun: TemplateRunRow }) {
  const row = (label: string, r: TemplateRunRow) =>
    `| ${label} | ${fixed(r.ms)} | ${r.total} | ${r.writes} | ${Object.entries(
      r.calls,
    )
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([call, n]) => `${call} ${n}`)
      .join(', ')} |`;
  return [
    '## Template run (keda:plan → keda:manifests:write → keda:scaler-role:ensure)',
    '',
    "The template's action handlers in-process against the AWS stand-in; the",
    "pull request and the scaffolder's own overhead are not included.",
    '',
    '| run | time (ms) | AWS calls | writes | calls |',
    '|---|---|---|---|---|',
    row('first run', runs.first),
    row('re-run (same task)', runs.rerun),
    '',
  ].join('\n');
}

export function renderReport(
  results: CountResult[],
  targets: (result: CountResult) => Target[],
  machine: string,
  problems: string[],
  templateRuns?: { first: TemplateRunRow; rerun: TemplateRunRow },
): string {
  const parts = ['# keda status route benchmark', '', machine, ''];
  if (templateRuns) parts.push(templateTable(templateRuns));
  for (const result of results) {
    const fresh = result.freshness;
    parts.push(
      `## ${result.objects.toLocaleString('en-US')} ScaledObjects over ${
        result.clusters
      } clusters`,
      '',
      routeTable(result),
      '',
      `- freshness (status patch → visible in keda status, ${
        fresh.length
      } samples): p50 ${ms(percentile(fresh, 50))} ms, p95 ${ms(
        percentile(fresh, 95),
      )} ms`,
      `- backend RSS: ${fixed(
        result.rssBefore / MB,
      )} MB before seeding, ${fixed(
        result.rssAfter / MB,
      )} MB after, delta ${fixed(
        (result.rssAfter - result.rssBefore) / MB,
      )} MB (includes garbage not yet collected and heap kept for later)`,
      result.cache
        ? `- watch cache alone (its own process, V8 heap in use after a full GC): ${fixed(
            result.cache.heapEmptyBytes / MB,
          )} MB synced and empty, ${fixed(
            result.cache.heapFullBytes / MB,
          )} MB holding ${result.cache.cachedObjects.toLocaleString(
            'en-US',
          )} objects in ${
            result.cache.collections
          } watched collections: ${fixed(
            (result.cache.heapFullBytes - result.cache.heapEmptyBytes) / MB,
          )} MB`
        : '- watch cache alone: not measured',
      '',
      '| target | measured | result |',
      '|---|---|---|',
      ...targets(result).map(
        t =>
          `| ${t.name} | ${t.value} | ${
            t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS'
          } |`,
      ),
      '',
    );
  }
  if (problems.length) {
    parts.push(
      '## Problems (the run failed)',
      '',
      ...problems.map(p => `- ${p}`),
      '',
    );
  }
  return parts.join('\n');
}
