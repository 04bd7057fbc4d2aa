import type { KedaEvent } from '@keda-self-service/plugin-keda-common';
import type { CoreV1Event } from '@kubernetes/client-node';
import { toIso } from '../status/buildScaledObjectStatus';

/** An object whose events are asked for. */
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

/**
 * An event time as ISO 8601 with milliseconds, whether it was listed (a
 * Date) or watched (a string, MicroTime with microseconds for eventTime).
 */
function eventTime(value: unknown): string | undefined {
  const text = toIso(value);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : text;
}

/** The latest of the times an event says it last happened. */
function lastOccurrence(e: CoreV1Event): string | undefined {
  const times = [
    e.series?.lastObservedTime,
    e.lastTimestamp,
    e.eventTime,
    e.firstTimestamp,
  ]
    .map(eventTime)
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

/** The wire shape of an event. */
export function toKedaEvent(e: CoreV1Event): KedaEvent {
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
    firstTimestamp: eventTime(e.firstTimestamp ?? e.eventTime),
    lastTimestamp: lastOccurrence(e),
  };
}

const KEPT_EVENT_FIELDS = new Set<string>([
  'apiVersion',
  'kind',
  'metadata',
  'involvedObject',
  'type',
  'reason',
  'message',
  'count',
  'series',
  'firstTimestamp',
  'lastTimestamp',
  'eventTime',
]);

/**
 * Keeps only what {@link toKedaEvent} and the index read of a watched
 * event (the cache holds every event of every ScaledObject and HPA).
 */
export function trimEvent(e: CoreV1Event) {
  const { metadata, involvedObject } = e;
  e.metadata = {
    name: metadata?.name,
    namespace: metadata?.namespace,
    uid: metadata?.uid,
    resourceVersion: metadata?.resourceVersion,
  };
  e.involvedObject = {
    kind: involvedObject?.kind,
    name: involvedObject?.name,
    namespace: involvedObject?.namespace,
    uid: involvedObject?.uid,
  };
  for (const key of Object.keys(e) as Array<keyof CoreV1Event>) {
    if (!KEPT_EVENT_FIELDS.has(key)) delete e[key];
  }
}

const subjectKey = (namespace: string, kind: string, name: string) =>
  `${namespace}/${kind}/${name}`;

/**
 * The events of ScaledObjects and HPAs kept from a watch, by the object
 * they are about, so a status read finds an object's events without a
 * request or a scan. Each object's events carry a version that changes
 * whenever one of them does.
 */
export class EventsIndex {
  private readonly bySubject = new Map<string, Map<string, CoreV1Event>>();
  private readonly versions = new Map<string, number>();
  private changes = 0;

  constructor(private readonly limit = 20) {}

  put(event: CoreV1Event) {
    const key = this.keyOf(event);
    let events = this.bySubject.get(key);
    if (!events) this.bySubject.set(key, (events = new Map()));
    events.set(this.idOf(event), event);
    this.versions.set(key, ++this.changes);
  }

  remove(event: CoreV1Event) {
    const key = this.keyOf(event);
    const events = this.bySubject.get(key);
    if (!events?.delete(this.idOf(event))) return;
    if (events.size === 0) {
      this.bySubject.delete(key);
      this.versions.delete(key);
    } else {
      this.versions.set(key, ++this.changes);
    }
  }

  /** Changes whenever an event of one of the subjects does. */
  version(namespace: string, subjects: EventSubject[]): string {
    return subjects
      .map(s => this.versions.get(subjectKey(namespace, s.kind, s.name)) ?? 0)
      .join('.');
  }

  /** The subjects' events, newest first, at most `limit`. */
  eventsFor(namespace: string, subjects: EventSubject[]): KedaEvent[] {
    return subjects
      .flatMap(s =>
        [
          ...(this.bySubject
            .get(subjectKey(namespace, s.kind, s.name))
            ?.values() ?? []),
        ].filter(e => belongsTo(e, s)),
      )
      .map(toKedaEvent)
      .sort((a, b) =>
        (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? ''),
      )
      .slice(0, this.limit);
  }

  /** Events held (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const events of this.bySubject.values()) n += events.size;
    return n;
  }

  private keyOf(event: CoreV1Event) {
    return subjectKey(
      event.involvedObject?.namespace ?? event.metadata?.namespace ?? 'default',
      event.involvedObject?.kind ?? '',
      event.involvedObject?.name ?? '',
    );
  }

  private idOf(event: CoreV1Event) {
    return (
      event.metadata?.uid ??
      `${event.metadata?.namespace}/${event.metadata?.name}`
    );
  }
}
