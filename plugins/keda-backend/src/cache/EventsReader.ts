import type { KedaEvent } from '@internal/plugin-keda-common';
import type { CoreV1Event } from '@kubernetes/client-node';
import { toIso } from '../status/buildScaledObjectStatus';

/** Lists core/v1 events of a namespace matching a field selector. */
export type ListEvents = (
  cluster: string,
  namespace: string,
  fieldSelector: string,
) => Promise<CoreV1Event[]>;

export interface EventsReaderOptions {
  listEvents: ListEvents;
  /** How long a read is reused. 0 reads on every request. */
  ttlMs: number;
  /** Most recent events returned per ScaledObject. Default 20. */
  limit?: number;
  /** Entries kept at most, oldest evicted first. Default 5,000. */
  maxEntries?: number;
  /**
   * How long a read waits for a fresh answer before serving the previous
   * one (or none); the request goes on and its answer is kept for the next
   * read. Default 2 s: a hung API server does not hang the status.
   */
  waitMs?: number;
  now?: () => number;
  onError?: (error: unknown, key: string) => void;
}

interface Entry {
  at: number;
  events?: KedaEvent[];
  /** Changes whenever the events read differ from the previous read. */
  version: number;
  pending?: Promise<KedaEvent[]>;
}

/** Events with the version of their answer (see {@link EventsReader.readVersioned}). */
export interface VersionedEvents {
  events: KedaEvent[];
  version: number;
}

export interface EventSubject {
  kind: string;
  name: string;
  /**
   * The object's uid, when known: only events naming this uid (or no uid at
   * all) are its own, so a deleted and re-created object with the same name
   * does not inherit the old one's events.
   */
  uid?: string;
}

/** The latest of the times an event says it last happened. */
function lastOccurrence(e: CoreV1Event): string | undefined {
  const times = [
    e.series?.lastObservedTime,
    e.lastTimestamp,
    e.eventTime,
    e.firstTimestamp,
  ]
    .map(toIso)
    .filter((t): t is string => t !== undefined)
    .map(t => ({ t, ms: Date.parse(t) }))
    .filter(({ ms }) => Number.isFinite(ms));
  if (!times.length) return undefined;
  return times.reduce((a, b) => (b.ms > a.ms ? b : a)).t;
}

function belongsTo(e: CoreV1Event, subject: EventSubject): boolean {
  const uid = e.involvedObject?.uid;
  return !subject.uid || !uid || uid === subject.uid;
}

function toKedaEvent(e: CoreV1Event): KedaEvent {
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: e.message ?? '',
    involvedObject: {
      kind: e.involvedObject?.kind ?? '',
      name: e.involvedObject?.name ?? '',
      ...(e.involvedObject?.uid ? { uid: e.involvedObject.uid } : {}),
    },
    count: e.series?.count ?? e.count ?? undefined,
    firstTimestamp: toIso(e.firstTimestamp ?? e.eventTime),
    lastTimestamp: lastOccurrence(e),
  };
}

/**
 * Reads the events of a ScaledObject and its HPA (events are not watched:
 * they are many, short-lived and only wanted when someone looks), with a
 * field selector on `involvedObject`, and keeps the answer.
 *
 * Readers never wait for a refresh: an answer older than the TTL is served
 * as it is while one request, in the background, reads it again (concurrent
 * readers share it). Only the first read of a key waits, at most `waitMs`.
 * So a page of cards or a polling UI costs at most one request per key and
 * TTL, and a slow or hung API server never slows a status read down. A
 * failed read keeps the previous answer (or none).
 */
export class EventsReader {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly limit: number;
  private readonly maxEntries: number;
  private readonly waitMs: number;
  private versions = 0;

  constructor(private readonly options: EventsReaderOptions) {
    this.now = options.now ?? Date.now;
    this.limit = options.limit ?? 20;
    this.maxEntries = options.maxEntries ?? 5_000;
    this.waitMs = options.waitMs ?? 2_000;
  }

  async read(
    cluster: string,
    namespace: string,
    subjects: EventSubject[],
  ): Promise<KedaEvent[]> {
    return (await this.readVersioned(cluster, namespace, subjects)).events;
  }

  /**
   * The events with a version that changes only when they do: a status
   * built from them can be reused (and its ETag kept) while it stays.
   */
  async readVersioned(
    cluster: string,
    namespace: string,
    subjects: EventSubject[],
  ): Promise<VersionedEvents> {
    const key = `${cluster}/${namespace}/${subjects
      .map(s => `${s.kind}:${s.name}${s.uid ? `@${s.uid}` : ''}`)
      .join(',')}`;
    const entry = this.entries.get(key);
    const fresh = entry?.events && this.now() - entry.at < this.options.ttlMs;
    if (!fresh) this.refresh(key, cluster, namespace, subjects);
    const current = this.entries.get(key)!;
    if (current.events) {
      return { events: current.events, version: current.version };
    }
    // The first read of this key: wait for it, but not forever.
    const events = await this.waitFor(current.pending!, undefined);
    return {
      events,
      version: this.entries.get(key)?.version ?? current.version,
    };
  }

  /** Starts a read of the key unless one is running. */
  private refresh(
    key: string,
    cluster: string,
    namespace: string,
    subjects: EventSubject[],
  ) {
    const entry = this.entries.get(key);
    if (entry?.pending) return;
    const keep = (events: KedaEvent[] | undefined) => {
      const before = this.entries.get(key);
      const same =
        before?.events !== undefined &&
        events !== undefined &&
        JSON.stringify(before.events) === JSON.stringify(events);
      this.store(key, {
        at: this.now(),
        events: events ?? before?.events ?? [],
        version: same ? before!.version : ++this.versions,
      });
    };
    const pending = this.fetch(cluster, namespace, subjects).then(
      events => {
        keep(events);
        return events;
      },
      error => {
        this.options.onError?.(error, key);
        keep(undefined);
        return this.entries.get(key)?.events ?? [];
      },
    );
    this.store(key, {
      at: entry?.at ?? 0,
      events: entry?.events,
      version: entry?.version ?? ++this.versions,
      pending,
    });
  }

  /** The fresh answer, or the previous one if it takes longer than waitMs. */
  private waitFor(
    pending: Promise<KedaEvent[]>,
    previous: KedaEvent[] | undefined,
  ): Promise<KedaEvent[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<KedaEvent[]>(resolve => {
      timer = setTimeout(() => resolve(previous ?? []), this.waitMs);
      timer.unref?.();
    });
    return Promise.race([pending, late]).finally(() => clearTimeout(timer));
  }

  private store(key: string, entry: Entry) {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  private async fetch(
    cluster: string,
    namespace: string,
    subjects: EventSubject[],
  ) {
    // Selected by kind and name, then filtered by uid here: events written
    // without an involvedObject.uid still match by name.
    const lists = await Promise.all(
      subjects.map(async s =>
        (
          await this.options.listEvents(
            cluster,
            namespace,
            `involvedObject.kind=${s.kind},involvedObject.name=${s.name}`,
          )
        ).filter(e => belongsTo(e, s)),
      ),
    );
    return lists
      .flat()
      .map(toKedaEvent)
      .sort((a, b) =>
        (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? ''),
      )
      .slice(0, this.limit);
  }
}
