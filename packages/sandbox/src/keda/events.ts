import crypto from 'node:crypto';
import { KubernetesObject, KubernetesObjectStore } from '../kubernetes/store';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** client-go's EventAggregator: 10 similar events within 10 minutes… */
const AGGREGATE_AFTER = 10;
const AGGREGATE_WINDOW_MS = 10 * 60_000;
/** …and kube-apiserver's default `--event-ttl`. */
const EVENT_TTL_MS = 60 * 60_000;
const COMBINED_PREFIX = '(combined from similar events): ';
/** How often a namespace is swept for expired events. */
const EXPIRY_SWEEP_MS = 60_000;

function timestamp(ms: number) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * A core/v1 Event recorder that behaves like client-go's: events are named
 * `<object>.<hex nanos>`; an identical event (object, type, reason, message,
 * source) is counted instead of duplicated; after ten similar events (same
 * but for the message) within ten minutes, further ones are folded into one
 * "(combined from similar events)" event; events expire after an hour. So a
 * scaler failing every poll (each AWS error has its own RequestID) leaves a
 * bounded, readable trail.
 */
export class EventRecorder {
  /**
   * `namespace/uid` of an involved object → names of this component's events
   * about it, so recording does not scan every event in the namespace. Built
   * from the store once per namespace (events from before a restart).
   */
  private readonly byInvolved = new Map<string, Set<string>>();
  private readonly indexed = new Set<string>();
  private readonly lastSweep = new Map<string, number>();

  constructor(
    private readonly store: KubernetesObjectStore,
    private readonly component: string,
    private readonly now: () => number,
  ) {}

  private indexKey(namespace: string, uid: string | undefined) {
    return `${namespace}/${uid}`;
  }

  private remember(event: KubernetesObject) {
    const key = this.indexKey(
      event.metadata!.namespace!,
      event.involvedObject?.uid,
    );
    let names = this.byInvolved.get(key);
    if (!names) {
      names = new Set();
      this.byInvolved.set(key, names);
    }
    names.add(event.metadata!.name!);
  }

  private indexNamespace(namespace: string) {
    if (this.indexed.has(namespace)) return;
    this.indexed.add(namespace);
    for (const event of this.store.list('events', { namespace }).items) {
      if (event.source?.component === this.component) this.remember(event);
    }
  }

  /** This component's stored events about `uid`, reading each by name. */
  private eventsAbout(namespace: string, uid: string | undefined) {
    this.indexNamespace(namespace);
    const key = this.indexKey(namespace, uid);
    const names = this.byInvolved.get(key);
    const events: KubernetesObject[] = [];
    for (const name of [...(names ?? [])].sort()) {
      const event = this.store.find('events', namespace, name);
      // Gone (expired, deleted by someone else): forget it.
      if (event) events.push(event);
      else names!.delete(name);
    }
    if (names?.size === 0) this.byInvolved.delete(key);
    return events;
  }

  /** Deletes expired events, sweeping a namespace at most once a minute. */
  private expire(namespace: string, at: number) {
    const swept = this.lastSweep.get(namespace);
    if (swept !== undefined && at - swept < EXPIRY_SWEEP_MS && at >= swept) {
      return;
    }
    this.lastSweep.set(namespace, at);
    for (const event of this.store.list('events', { namespace }).items) {
      const last = Date.parse(
        event.lastTimestamp ?? event.metadata?.creationTimestamp ?? '',
      );
      if (Number.isFinite(last) && last < at - EVENT_TTL_MS) {
        this.store.delete('events', namespace, event.metadata!.name!);
      }
    }
  }

  private bump(event: KubernetesObject, at: string, message?: string) {
    return this.store.patch(
      'events',
      event.metadata!.namespace,
      event.metadata!.name!,
      {
        count: (event.count ?? 1) + 1,
        lastTimestamp: at,
        ...(message ? { message } : {}),
      },
      'merge',
    );
  }

  record(involved: KubernetesObject, event: EventSpec): KubernetesObject {
    const namespace = involved.metadata!.namespace ?? 'default';
    const nowMs = this.now();
    const at = timestamp(nowMs);
    this.expire(namespace, nowMs);
    const similar = this.eventsAbout(namespace, involved.metadata!.uid).filter(
      e => e.reason === event.reason && e.type === event.type,
    );
    const identical = similar.find(e => e.message === event.message);
    if (identical) return this.bump(identical, at);
    const recent = similar.filter(
      e => Date.parse(e.lastTimestamp) >= nowMs - AGGREGATE_WINDOW_MS,
    );
    if (recent.length >= AGGREGATE_AFTER) {
      const combined = recent.find(e => e.message.startsWith(COMBINED_PREFIX));
      if (combined)
        return this.bump(combined, at, COMBINED_PREFIX + event.message);
      return this.create(involved, namespace, nowMs, at, {
        ...event,
        message: COMBINED_PREFIX + event.message,
      });
    }
    return this.create(involved, namespace, nowMs, at, event);
  }

  private create(
    involved: KubernetesObject,
    namespace: string,
    nowMs: number,
    at: string,
    event: EventSpec,
  ) {
    const nanos =
      BigInt(nowMs) * 1_000_000n + BigInt(crypto.randomInt(1_000_000));
    const created = this.store.create('events', namespace, {
      metadata: {
        name: `${involved.metadata!.name}.${nanos.toString(16)}`,
        namespace,
      },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata!.name,
        namespace,
        uid: involved.metadata!.uid,
        resourceVersion: involved.metadata!.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: '',
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      eventTime: null,
    });
    this.remember(created);
    return created;
  }
}
