import type { CoreV1Event } from '@kubernetes/client-node';
import { EventsIndex, trimEvent } from './EventsIndex';

let uids = 0;
function event(
  name: string,
  kind: string,
  reason: string,
  at: string,
  involvedUid?: string,
): CoreV1Event {
  return {
    metadata: {
      name: `${name}.${reason}`,
      namespace: 'orders',
      uid: `e-${++uids}`,
    },
    involvedObject: { kind, name, namespace: 'orders', uid: involvedUid },
    reason,
    message: `${reason} happened`,
    type: reason === 'KEDAScalerFailed' ? 'Warning' : 'Normal',
    lastTimestamp: new Date(at),
  };
}

const SUBJECTS = [
  { kind: 'ScaledObject', name: 'orders-worker' },
  { kind: 'HorizontalPodAutoscaler', name: 'keda-hpa-orders-worker' },
];

describe('EventsIndex', () => {
  it("returns a ScaledObject's and its HPA's events, newest first, and no one else's", () => {
    const index = new EventsIndex();
    index.put(
      event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalerFailed',
        '2026-11-28T06:00:00Z',
      ),
    );
    index.put(
      event(
        'keda-hpa-orders-worker',
        'HorizontalPodAutoscaler',
        'SuccessfulRescale',
        '2026-11-28T06:01:00Z',
      ),
    );
    index.put(
      event(
        'billing-worker',
        'ScaledObject',
        'KEDAScalerFailed',
        '2026-11-28T06:02:00Z',
      ),
    );
    expect(
      index
        .eventsFor('orders', SUBJECTS)
        .map(e => [e.involvedObject.name, e.reason, e.type]),
    ).toEqual([
      ['keda-hpa-orders-worker', 'SuccessfulRescale', 'Normal'],
      ['orders-worker', 'KEDAScalerFailed', 'Warning'],
    ]);
    expect(index.eventsFor('billing', SUBJECTS)).toEqual([]);
  });

  it('changes the version only when an event of the subjects changes or goes', () => {
    const index = new EventsIndex();
    const failed = event(
      'orders-worker',
      'ScaledObject',
      'KEDAScalerFailed',
      '2026-11-28T06:00:00Z',
    );
    index.put(failed);
    const v1 = index.version('orders', SUBJECTS);
    index.put(
      event('billing-worker', 'ScaledObject', 'Other', '2026-11-28T06:00:00Z'),
    );
    expect(index.version('orders', SUBJECTS)).toBe(v1);
    // The same event again (its count went up): a new version.
    index.put({ ...failed, count: 2 });
    const v2 = index.version('orders', SUBJECTS);
    expect(v2).not.toBe(v1);
    expect(index.eventsFor('orders', SUBJECTS)).toHaveLength(1);
    expect(index.eventsFor('orders', SUBJECTS)[0].count).toBe(2);
    index.remove(failed);
    expect(index.version('orders', SUBJECTS)).not.toBe(v2);
    expect(index.eventsFor('orders', SUBJECTS)).toEqual([]);
    expect(index.size).toBe(1);
  });

  it('keeps at most `limit` events per read', () => {
    const index = new EventsIndex(3);
    for (let i = 0; i < 10; i++) {
      index.put(
        event(
          'orders-worker',
          'ScaledObject',
          `R${i}`,
          `2026-11-28T06:0${i}:00Z`,
        ),
      );
    }
    expect(index.eventsFor('orders', SUBJECTS).map(e => e.reason)).toEqual([
      'R9',
      'R8',
      'R7',
    ]);
  });

  it("keeps only the events of the object's uid, and events that name no uid", () => {
    const index = new EventsIndex();
    index.put(
      event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalerFailed',
        '2026-11-28T05:00:00Z',
        'old-uid',
      ),
    );
    index.put(
      event(
        'orders-worker',
        'ScaledObject',
        'ScaledObjectReady',
        '2026-11-28T06:00:00Z',
        'new-uid',
      ),
    );
    index.put(
      event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalersStarted',
        '2026-11-28T06:01:00Z',
      ),
    );
    const current = index.eventsFor('orders', [
      { kind: 'ScaledObject', name: 'orders-worker', uid: 'new-uid' },
    ]);
    expect(current.map(e => [e.reason, e.involvedObject.uid])).toEqual([
      ['KEDAScalersStarted', undefined],
      ['ScaledObjectReady', 'new-uid'],
    ]);
    // Without a known uid, every event of the name is the object's.
    expect(
      index.eventsFor('orders', [
        { kind: 'ScaledObject', name: 'orders-worker' },
      ]),
    ).toHaveLength(3);
  });

  it('dates an event by its latest occurrence, series included, listed (Date) or watched (string)', () => {
    const index = new EventsIndex();
    index.put({
      ...event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalerFailed',
        '2026-11-28T06:00:00Z',
      ),
      lastTimestamp: undefined,
      eventTime: '2026-11-28T06:00:00.000000Z' as any,
      series: { count: 7, lastObservedTime: new Date('2026-11-28T06:05:00Z') },
    } as CoreV1Event);
    expect(index.eventsFor('orders', SUBJECTS)[0]).toMatchObject({
      count: 7,
      firstTimestamp: '2026-11-28T06:00:00.000Z',
      lastTimestamp: '2026-11-28T06:05:00.000Z',
    });
  });

  it('trims a watched event to what the card shows', () => {
    const e = {
      ...event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalerFailed',
        '2026-11-28T06:00:00Z',
        'so-uid',
      ),
      source: { component: 'keda-operator' },
      reportingComponent: 'keda-operator',
      reportingInstance: 'keda-operator-1',
      metadata: {
        name: 'orders-worker.1',
        namespace: 'orders',
        uid: 'e-x',
        resourceVersion: '42',
        managedFields: [{ manager: 'keda' }],
        creationTimestamp: new Date(),
      },
    } as CoreV1Event;
    trimEvent(e);
    expect(Object.keys(e).sort()).toEqual([
      'involvedObject',
      'lastTimestamp',
      'message',
      'metadata',
      'reason',
      'type',
    ]);
    expect(e.metadata).toEqual({
      name: 'orders-worker.1',
      namespace: 'orders',
      uid: 'e-x',
      resourceVersion: '42',
    });
  });
});
