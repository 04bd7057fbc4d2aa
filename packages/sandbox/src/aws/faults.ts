/*
 * Fault knobs for reliability tests: per service/operation, answer with a
 * throttling or 5xx error and/or add latency, a bounded number of times.
 * Errors use the codes each SDK recognises (throttling codes are retried by
 * the SDK's standard retry strategy, 5xx are retried as transient).
 */
import { AwsError } from './wire';

export type AwsServiceName = 'iam' | 'sts' | 'sqs' | 'eks' | 'access-analyzer';
export type FaultError = 'throttle' | 'unavailable' | 'internal';

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
}

const FAULT_ERRORS: Record<FaultError, Record<AwsServiceName, { code: string; status: number; message: string }>> = {
  throttle: {
    iam: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    sts: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    sqs: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    eks: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
    'access-analyzer': { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
  },
  unavailable: {
    iam: { code: 'ServiceUnavailable', status: 503, message: 'Service is unavailable. Please try again.' },
    sts: { code: 'ServiceUnavailable', status: 503, message: 'Service is unavailable. Please try again.' },
    sqs: { code: 'ServiceUnavailable', status: 503, message: 'Service is unavailable. Please try again.' },
    eks: { code: 'ServiceUnavailableException', status: 503, message: 'Service is unavailable. Please try again.' },
    'access-analyzer': { code: 'ServiceUnavailableException', status: 503, message: 'Service is unavailable. Please try again.' },
  },
  internal: {
    iam: { code: 'InternalFailure', status: 500, message: 'We encountered an internal error. Please try again.' },
    sts: { code: 'InternalFailure', status: 500, message: 'We encountered an internal error. Please try again.' },
    sqs: { code: 'InternalFailure', status: 500, message: 'We encountered an internal error. Please try again.' },
    eks: { code: 'ServerException', status: 500, message: 'We encountered an internal error. Please try again.' },
    'access-analyzer': { code: 'InternalServerException', status: 500, message: 'We encountered an internal error. Please try again.' },
  },
};

const SERVICES = new Set(['iam', 'sts', 'sqs', 'eks', 'access-analyzer']);
const ERRORS = new Set(['throttle', 'unavailable', 'internal']);

/** Validate rules from the admin endpoint; messages name the field at fault. */
export function parseFaultRules(input: unknown): FaultRule[] {
  const list = (input as { faults?: unknown })?.faults ?? input;
  if (!Array.isArray(list)) throw new Error('faults must be an array of rules, e.g. {"faults":[{"service":"sqs","error":"throttle"}]}');
  return list.map((raw, i) => {
    const r = raw as Record<string, unknown>;
    if (r.service !== undefined && !SERVICES.has(String(r.service))) {
      throw new Error(`faults[${i}].service must be one of iam, sts, sqs, eks, access-analyzer`);
    }
    if (r.error !== undefined && !ERRORS.has(String(r.error))) {
      throw new Error(`faults[${i}].error must be one of throttle, unavailable, internal`);
    }
    for (const field of ['latencyMs', 'times'] as const) {
      if (r[field] !== undefined && (!Number.isInteger(r[field]) || (r[field] as number) < 0)) {
        throw new Error(`faults[${i}].${field} must be a non-negative integer`);
      }
    }
    if (r.error === undefined && r.latencyMs === undefined) {
      throw new Error(`faults[${i}] needs an error or a latencyMs, or it does nothing`);
    }
    return r as FaultRule;
  });
}

export class FaultInjector {
  private rules: FaultRule[] = [];

  set(rules: FaultRule[]): void {
    this.rules = rules.map(r => ({ ...r }));
  }

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map(r => ({ ...r }));
  }

  /** Consume the rules matching a call: total latency and the first error, if any. */
  take(service: AwsServiceName, operation: string): { latencyMs: number; error?: AwsError } {
    let latencyMs = 0;
    let error: AwsError | undefined;
    for (const rule of this.rules) {
      if (rule.service && rule.service !== service) continue;
      if (rule.operation && rule.operation !== operation) continue;
      if (rule.times !== undefined) {
        if (rule.times <= 0) continue;
        rule.times -= 1;
      }
      latencyMs += rule.latencyMs ?? 0;
      if (rule.error && !error) {
        const spec = FAULT_ERRORS[rule.error][service];
        error = new AwsError(spec.code, spec.message, { status: spec.status });
      }
    }
    this.rules = this.rules.filter(r => r.times === undefined || r.times > 0);
    return { latencyMs, error };
  }
}
