/*
 * One route under load with autocannon (programmatic API). Latencies come
 * from autocannon's per-response timings (hrtime, sub-millisecond), kept
 * here rather than read from its integer-millisecond histogram.
 */
import autocannon from 'autocannon';
import { percentile } from './report';

export interface RouteSpec {
  /** Row label in the table. */
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Send the previous answer's ETag as If-None-Match (per connection). */
  conditional?: boolean;
}

export interface LoadResult {
  connections: number;
  responses: number;
  seconds: number;
  p50: number;
  p99: number;
  reqPerSec: number;
  /** Status code → count. */
  statuses: Record<number, number>;
  errors: number;
  timeouts: number;
  /** Responses that carried an ETag header. */
  withEtag: number;
}

function headerValue(headers: Record<string, unknown>, name: string) {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return String(value);
  }
  return undefined;
}

export async function load(options: {
  baseUrl: string;
  token: string;
  route: RouteSpec;
  connections: number;
  seconds: number;
}): Promise<LoadResult> {
  const { baseUrl, token, route, connections, seconds } = options;
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let withEtag = 0;
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
  };
  if (route.body !== undefined) headers['content-type'] = 'application/json';
  const body =
    route.body === undefined ? undefined : JSON.stringify(route.body);
  // The ETag of the latest answer, sent back as If-None-Match. Shared by
  // the connections (they all read the same entity, as tabs of one card
  // would): autocannon clears a connection's `context` every time it comes
  // back to the start of its request list, that is after every request here.
  let lastEtag: string | undefined;
  const requests = [
    {
      method: route.method,
      path: route.path,
      headers,
      body,
      setupRequest: (request: any) => {
        if (!route.conditional || !lastEtag) return request;
        return {
          ...request,
          headers: { ...request.headers, 'if-none-match': lastEtag },
        };
      },
      onResponse: (
        _status: number,
        _body: string,
        _context: unknown,
        h: any,
      ) => {
        const etag = headerValue(h, 'etag');
        if (etag) {
          withEtag += 1;
          lastEtag = etag;
        }
      },
    },
  ];
  const instance = autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    requests,
    timeout: 30,
  } as any);
  instance.on(
    'response',
    (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    },
  );
  const result: any = await instance;
  latencies.sort((a, b) => a - b);
  const elapsed = result.duration || seconds;
  return {
    connections,
    responses: latencies.length,
    seconds: elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    reqPerSec: latencies.length / elapsed,
    statuses,
    errors: result.errors ?? 0,
    timeouts: result.timeouts ?? 0,
    withEtag,
  };
}
