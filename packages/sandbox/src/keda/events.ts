import crypto from 'node:crypto';
import { KubernetesObject, KubernetesObjectStore } from '../kubernetes/store';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

function timestamp(ms: number) {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * A core/v1 Event recorder like client-go's: the event is named
 * `<object>.<hex nanos>`, and an identical event (same object, type, reason,
 * message, source) is not duplicated but counted — client-go's correlator,
 * which keeps a failing scaler from flooding the namespace every poll.
 */
export class EventRecorder {
  constructor(
    private readonly store: KubernetesObjectStore,
    private readonly component: string,
    private readonly now: () => number,
  ) {}

  record(involved: KubernetesObject, event: EventSpec): KubernetesObject {
    const namespace = involved.metadata!.namespace ?? 'default';
    const at = timestamp(this.now());
    const existing = this.store
      .list('events', {
        namespace,
        fieldSelector: `involvedObject.uid=${involved.metadata!.uid},reason=${
          event.reason
        },type=${event.type}`,
      })
      .items.find(
        e =>
          e.message === event.message && e.source?.component === this.component,
      );
    if (existing) {
      return this.store.patch(
        'events',
        namespace,
        existing.metadata!.name!,
        { count: (existing.count ?? 1) + 1, lastTimestamp: at },
        'merge',
      );
    }
    const nanos =
      BigInt(this.now()) * 1_000_000n + BigInt(crypto.randomInt(1_000_000));
    return this.store.create('events', namespace, {
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
  }
}
