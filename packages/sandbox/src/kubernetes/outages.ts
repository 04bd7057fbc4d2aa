/*
 * Outage knobs for reliability tests of watch clients (issue #16): what a
 * cluster's API server looks like to a client when the network or the
 * server fails. Reached through the stand-in's admin endpoints
 * (`/_sandbox/outages`), never through the Kubernetes API.
 *
 * - `drop`: every open watch connection is cut mid-stream (the socket is
 *   destroyed, no terminating chunk), as a load balancer restart does.
 * - `down`: for `durationMs` the server is unreachable: open connections are
 *   destroyed and new ones are closed as soon as they are accepted (the
 *   admin endpoints too); then it serves again by itself.
 * - `gone`: the history is compacted past every resourceVersion a client
 *   holds (as etcd's compaction while the cluster keeps writing) and open
 *   watches end normally: each resume gets an `ERROR` event with a 410
 *   `Expired` Status, and the client must re-list.
 * - `half-open`: for `durationMs` the server stops talking without closing
 *   anything: open watches go silent (no events, no bookmarks, no end) and
 *   new API requests are accepted and never answered, after sending the
 *   response headers (`headers: true`) or nothing. The silenced
 *   connections stay silent after the outage, like connections a NAT
 *   forgot; only the client can give up on them.
 */

export type OutageKind = 'drop' | 'down' | 'gone' | 'half-open';

export interface OutageRequest {
  outage: OutageKind;
  /** How long `down` and `half-open` last (required for them). */
  durationMs?: number;
  /** `half-open`: send response headers before going silent (default false). */
  headers?: boolean;
}

/** What the server saw, for tests to count reconnects and re-lists. */
export interface OutageCounters {
  /** Collection GETs (lists) per resource plural. */
  lists: Record<string, number>;
  /** Watch requests per resource plural (first watches and resumes). */
  watches: Record<string, number>;
  /** Watch requests that carried a resourceVersion (resumes). */
  watchResumes: number;
  /** Watches answered with 410 Gone (resourceVersion too old). */
  goneAnswered: number;
  /** Watch connections cut by `drop` (or destroyed by `down`). */
  watchesCut: number;
  /** Connections closed on accept while `down`. */
  connectionsRefused: number;
  /** Requests accepted and never answered while `half-open`. */
  requestsHeld: number;
  /** Watches silenced by `half-open`. */
  watchesSilenced: number;
}

/** The server's connections right now (to check that nothing piles up). */
export interface OpenConnections {
  /** Watch streams being served (silenced ones excluded). */
  watches: number;
  /** Silenced watches and held requests whose client has not closed them yet. */
  silent: number;
  /** TCP connections open. */
  sockets: number;
}

export interface OutageStatus {
  /** Outages in effect now (`drop` and `gone` are instantaneous, never listed). */
  active: Array<{ outage: OutageKind; endsInMs: number; headers?: boolean }>;
  counters: OutageCounters;
  open: OpenConnections;
}

const KINDS: OutageKind[] = ['drop', 'down', 'gone', 'half-open'];
const MAX_DURATION_MS = 10 * 60_000;

/** Validates an admin request body; throws with a message naming the field. */
export function parseOutageRequest(input: unknown): OutageRequest {
  const body = (input ?? {}) as Record<string, unknown>;
  const outage = body.outage as OutageKind;
  if (!KINDS.includes(outage)) {
    throw new Error(`outage must be one of ${KINDS.join(', ')}`);
  }
  const durationMs = body.durationMs;
  if (outage === 'down' || outage === 'half-open') {
    if (
      typeof durationMs !== 'number' ||
      !Number.isInteger(durationMs) ||
      durationMs <= 0 ||
      durationMs > MAX_DURATION_MS
    ) {
      throw new Error(
        `durationMs must be an integer between 1 and ${MAX_DURATION_MS} for ${outage}`,
      );
    }
  } else if (durationMs !== undefined) {
    throw new Error(`${outage} is instantaneous: durationMs is not accepted`);
  }
  if (body.headers !== undefined && typeof body.headers !== 'boolean') {
    throw new Error('headers must be a boolean');
  }
  if (body.headers !== undefined && outage !== 'half-open') {
    throw new Error('headers only applies to half-open');
  }
  return {
    outage,
    ...(durationMs !== undefined ? { durationMs: durationMs as number } : {}),
    ...(body.headers !== undefined ? { headers: body.headers as boolean } : {}),
  };
}

export function emptyCounters(): OutageCounters {
  return {
    lists: {},
    watches: {},
    watchResumes: 0,
    goneAnswered: 0,
    watchesCut: 0,
    connectionsRefused: 0,
    requestsHeld: 0,
    watchesSilenced: 0,
  };
}

interface Window {
  until: number;
  timer: NodeJS.Timeout;
  headers?: boolean;
}

/**
 * The outages in effect. Windows end by themselves (a timer), so a `down`
 * server needs nobody to reach it to come back.
 */
export class OutageState {
  private readonly windows = new Map<'down' | 'half-open', Window>();
  counters: OutageCounters = emptyCounters();

  /** Starts a window; a second one of the same kind replaces the first. */
  open(kind: 'down' | 'half-open', durationMs: number, headers?: boolean) {
    this.close(kind);
    const timer = setTimeout(() => this.windows.delete(kind), durationMs);
    this.windows.set(kind, { until: Date.now() + durationMs, timer, headers });
  }

  close(kind: 'down' | 'half-open') {
    const window = this.windows.get(kind);
    if (window) clearTimeout(window.timer);
    this.windows.delete(kind);
  }

  clear() {
    for (const kind of [...this.windows.keys()]) this.close(kind);
  }

  isActive(kind: 'down' | 'half-open'): boolean {
    return this.windows.has(kind);
  }

  headersWhileHalfOpen(): boolean {
    return this.windows.get('half-open')?.headers ?? false;
  }

  active(): OutageStatus['active'] {
    return [...this.windows.entries()].map(([outage, w]) => ({
      outage,
      endsInMs: Math.max(0, w.until - Date.now()),
      ...(w.headers !== undefined ? { headers: w.headers } : {}),
    }));
  }

  count(kind: 'lists' | 'watches', plural: string) {
    this.counters[kind][plural] = (this.counters[kind][plural] ?? 0) + 1;
  }
}
