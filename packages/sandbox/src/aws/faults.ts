/*
 * Fault knobs for reliability tests: per service/operation, answer with a
 * throttling or 5xx error, reset the connection without answering and/or
 * add latency, a bounded number of times, with a probability drawn from a
 * seeded PRNG (the same seed and calls give the same faults), before the
 * call is performed or after it (the effect happened, the answer is lost).
 * Errors use the codes each SDK recognises (throttling codes are retried by
 * the SDK's standard retry strategy, 5xx and connection resets are retried
 * as transient).
 */
import { SeededRandom } from '../reliability';
import { AwsError } from './wire';

export type AwsServiceName = 'iam' | 'sts' | 'sqs' | 'eks' | 'access-analyzer';
/** `reset`: the connection is destroyed without an answer (ECONNRESET / socket hang up). */
export type FaultError = 'throttle' | 'unavailable' | 'internal' | 'reset';

export interface FaultRule {
  /** Service the rule applies to; all services when omitted. */
  service?: AwsServiceName;
  /** Operation name (`GetQueueAttributes`, `AssumeRole`, `DescribeCluster` …); all when omitted. */
  operation?: string;
  /** Error to answer with instead of performing the call. */
  error?: FaultError;
  /** Delay before answering (applies to errors and successes). */
  latencyMs?: number;
  /** Apply to this many matching calls, then expire; unlimited when omitted. */
  times?: number;
  /**
   * Chance (0..1) that a matching call is faulted, drawn from the
   * injector's seeded PRNG (`seed` of the rule set); always when omitted.
   * `times` counts the calls the rule was applied to.
   */
  probability?: number;
  /**
   * `before` (default): the fault replaces the call, nothing is performed.
   * `after`: the call is performed (state changed), then the answer is
   * delayed by `latencyMs` and/or replaced by the error or a reset — the
   * response lost on the way back that makes a client retry an effect that
   * already happened.
   */
  phase?: 'before' | 'after';
}

/** Rules plus the seed their probabilities are drawn with. */
export interface FaultRuleSet {
  faults: FaultRule[];
  seed?: number;
  /** answers only: calls faulted since the rules were set, and calls that matched a rule */
  faulted?: number;
  matched?: number;
}

/** What to do to one call: before performing it, and after. */
export interface FaultOutcome {
  latencyMs: number;
  error?: AwsError;
  /** destroy the connection without answering */
  reset?: boolean;
  /** applied after the call was performed (undefined when nothing is) */
  after?: { latencyMs: number; error?: AwsError; reset?: boolean };
}

const FAULT_ERRORS: Record<
  Exclude<FaultError, 'reset'>,
  Record<AwsServiceName, { code: string; status: number; message: string }>
> = {
  throttle: {
    iam: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    sts: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    sqs: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    eks: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
    'access-analyzer': {
      code: 'ThrottlingException',
      status: 429,
      message: 'Rate exceeded',
    },
  },
  unavailable: {
    iam: {
      code: 'ServiceUnavailable',
      status: 503,
      message: 'Service is unavailable. Please try again.',
    },
    sts: {
      code: 'ServiceUnavailable',
      status: 503,
      message: 'Service is unavailable. Please try again.',
    },
    sqs: {
      code: 'ServiceUnavailable',
      status: 503,
      message: 'Service is unavailable. Please try again.',
    },
    eks: {
      code: 'ServiceUnavailableException',
      status: 503,
      message: 'Service is unavailable. Please try again.',
    },
    'access-analyzer': {
      code: 'ServiceUnavailableException',
      status: 503,
      message: 'Service is unavailable. Please try again.',
    },
  },
  internal: {
    iam: {
      code: 'InternalFailure',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    },
    sts: {
      code: 'InternalFailure',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    },
    sqs: {
      code: 'InternalFailure',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    },
    eks: {
      code: 'ServerException',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    },
    'access-analyzer': {
      code: 'InternalServerException',
      status: 500,
      message: 'We encountered an internal error. Please try again.',
    },
  },
};

const SERVICES = new Set(['iam', 'sts', 'sqs', 'eks', 'access-analyzer']);
const ERRORS = new Set(['throttle', 'unavailable', 'internal', 'reset']);

/** Validate rules from the admin endpoint; messages name the field at fault. */
export function parseFaultRules(input: unknown): FaultRule[] {
  return parseFaultRuleSet(input).faults;
}

/** Validate `{ faults, seed? }` (or a bare list) from the admin endpoint. */
export function parseFaultRuleSet(input: unknown): FaultRuleSet {
  const list = (input as { faults?: unknown })?.faults ?? input;
  if (!Array.isArray(list))
    throw new Error(
      'faults must be an array of rules, e.g. {"faults":[{"service":"sqs","error":"throttle"}]}',
    );
  const seed = Array.isArray(input)
    ? undefined
    : (input as { seed?: unknown })?.seed;
  if (
    seed !== undefined &&
    (!Number.isInteger(seed) ||
      (seed as number) < 0 ||
      (seed as number) > 0xffffffff)
  ) {
    throw new Error('seed must be an integer from 0 to 4294967295');
  }
  const faults = list.map((raw, i) => {
    const r = raw as Record<string, unknown>;
    if (r.service !== undefined && !SERVICES.has(String(r.service))) {
      throw new Error(
        `faults[${i}].service must be one of iam, sts, sqs, eks, access-analyzer`,
      );
    }
    if (r.error !== undefined && !ERRORS.has(String(r.error))) {
      throw new Error(
        `faults[${i}].error must be one of throttle, unavailable, internal, reset`,
      );
    }
    for (const field of ['latencyMs', 'times'] as const) {
      if (
        r[field] !== undefined &&
        (!Number.isInteger(r[field]) || (r[field] as number) < 0)
      ) {
        throw new Error(`faults[${i}].${field} must be a non-negative integer`);
      }
    }
    if (
      r.probability !== undefined &&
      (typeof r.probability !== 'number' ||
        !(r.probability >= 0 && r.probability <= 1))
    ) {
      throw new Error(`faults[${i}].probability must be a number from 0 to 1`);
    }
    if (r.phase !== undefined && r.phase !== 'before' && r.phase !== 'after') {
      throw new Error(`faults[${i}].phase must be before or after`);
    }
    if (r.error === undefined && r.latencyMs === undefined) {
      throw new Error(
        `faults[${i}] needs an error or a latencyMs, or it does nothing`,
      );
    }
    return r as FaultRule;
  });
  return { faults, ...(seed !== undefined ? { seed: seed as number } : {}) };
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private random = new SeededRandom(0);
  private seed?: number;
  private faulted = 0;
  private matched = 0;

  /** Replace the rules; `seed` restarts the PRNG the probabilities are drawn from (default 0). */
  set(rules: FaultRule[], seed?: number): void {
    this.rules = rules.map(r => ({ ...r }));
    this.seed = seed;
    this.random = new SeededRandom(seed ?? 0);
    this.faulted = 0;
    this.matched = 0;
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
    this.faulted = 0;
    this.matched = 0;
  }

  list(): FaultRule[] {
    return this.rules.map(r => ({ ...r }));
  }

  /** The rules and the seed, as GET /_sandbox/faults answers. */
  ruleSet(): FaultRuleSet {
    return {
      faults: this.list(),
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
      faulted: this.faulted,
      matched: this.matched,
    };
  }

  /**
   * Consume the rules matching a call: total latency and the first error or
   * reset, before the call and after it. A rule with a probability draws
   * once per matching call (in rule order), so a seed replays the same faults
   * for the same sequence of calls.
   */
  take(service: AwsServiceName, operation: string): FaultOutcome {
    const before: { latencyMs: number; error?: AwsError; reset?: boolean } = {
      latencyMs: 0,
    };
    let after:
      | { latencyMs: number; error?: AwsError; reset?: boolean }
      | undefined;
    let matched = false;
    let applied = false;
    for (const rule of this.rules) {
      if (rule.service && rule.service !== service) continue;
      if (rule.operation && rule.operation !== operation) continue;
      if (rule.times !== undefined && rule.times <= 0) continue;
      matched = true;
      if (
        rule.probability !== undefined &&
        !this.random.chance(rule.probability)
      )
        continue;
      applied = true;
      if (rule.times !== undefined) rule.times -= 1;
      const target =
        rule.phase === 'after' ? (after ??= { latencyMs: 0 }) : before;
      target.latencyMs += rule.latencyMs ?? 0;
      if (rule.error && !target.error && !target.reset) {
        if (rule.error === 'reset') {
          target.reset = true;
        } else {
          const spec = FAULT_ERRORS[rule.error][service];
          target.error = new AwsError(spec.code, spec.message, {
            status: spec.status,
          });
        }
      }
    }
    this.rules = this.rules.filter(r => r.times === undefined || r.times > 0);
    if (matched) this.matched += 1;
    if (applied) this.faulted += 1;
    return { ...before, ...(after ? { after } : {}) };
  }
}
