/*
 * Shared by the reliability suites (#16): a seeded random source, the run
 * counts (short in the test command, long with KEDA_SOAK=1) and the summary
 * line each suite prints and leaves in artifacts/reliability/ for the test
 * command to print at the end.
 */
import fs from 'node:fs';
import path from 'node:path';

/** True when the long (soak) variants are asked for: `KEDA_SOAK=1`. */
export const soak = (): boolean => process.env.KEDA_SOAK === '1';

/** The number of runs: `short` in the test command, `long` with KEDA_SOAK=1. */
export function runs(short: number, long: number): number {
  return soak() ? long : short;
}

/** The seed of a suite: KEDA_SEED when set (to replay a run), else the suite's fixed one. */
export function seedFor(fixed: number): number {
  const fromEnv = Number(process.env.KEDA_SEED);
  return Number.isInteger(fromEnv) && process.env.KEDA_SEED !== ''
    ? fromEnv
    : fixed;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

function repositoryRoot(from = process.cwd()): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'backstage.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/**
 * Prints a suite's summary and leaves it in artifacts/reliability/<suite>.txt,
 * which the test command prints after Jest. One line, counts first, e.g.
 * `bad input: 180 cases, 180 rejected before side effects, 180 with the field named`.
 */
export function reportReliability(suite: string, summary: string): void {
  const line = `${summary}${soak() ? ' (KEDA_SOAK=1)' : ''}`;
  const dir = path.join(repositoryRoot(), 'artifacts', 'reliability');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${suite}.txt`), `${line}\n`);
  // eslint-disable-next-line no-console
  console.log(`[reliability] ${line}`);
}
