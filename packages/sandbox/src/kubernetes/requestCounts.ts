/** The Kubernetes API verb of a request, as audit logs and RBAC name it. */
export type RequestVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

/** API requests served since start (or the last reset), for benchmarks. */
export interface RequestCounts {
  /** When counting started (ISO 8601). */
  since: string;
  total: number;
  byVerb: Partial<Record<RequestVerb, number>>;
  /**
   * By resource (`plural.group`, `plural` for the core group, with
   * `/status` or `/scale` for subresources), then by verb.
   */
  byResource: Record<string, Partial<Record<RequestVerb, number>>>;
}

/** The verb of a resource request, from its method and URL. */
export function verbOf(
  method: string,
  hasName: boolean,
  isWatch: boolean,
): RequestVerb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (isWatch) return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/** Counts resource requests by verb and resource. */
export class RequestCounter {
  private counts: RequestCounts;

  constructor(private readonly now: () => number = Date.now) {
    this.counts = this.empty();
  }

  private empty(): RequestCounts {
    return {
      since: new Date(this.now()).toISOString(),
      total: 0,
      byVerb: {},
      byResource: {},
    };
  }

  count(verb: RequestVerb, resource: string) {
    this.counts.total += 1;
    this.counts.byVerb[verb] = (this.counts.byVerb[verb] ?? 0) + 1;
    const forResource = (this.counts.byResource[resource] ??= {});
    forResource[verb] = (forResource[verb] ?? 0) + 1;
  }

  /** A copy of the counts. */
  snapshot(): RequestCounts {
    return JSON.parse(JSON.stringify(this.counts));
  }

  reset() {
    this.counts = this.empty();
  }
}
