import type { CoreV1Event } from '@kubernetes/client-node';
import { EventsReader } from './EventsReader';

function event(
  name: string,
  kind: string,
  reason: string,
  at: string,
): CoreV1Event {
  return {
    metadata: { name: `${name}.${reason}` },
    involvedObject: { kind, name },
    reason,
    message: `${reason} happened`,
    type: reason === 'KEDAScalerFailed' ? 'Warning' : 'Normal',
    lastTimestamp: new Date(at),
  };
}

describe('EventsReader', () => {
  let now = 0;
  const subjects = [
    { kind: 'ScaledObject', name: 'orders-worker' },
    { kind: 'HorizontalPodAutoscaler', name: 'keda-hpa-orders-worker' },
  ];

  beforeEach(() => {
    now = 1_000_000;
  });

  function reader(
    listEvents = jest.fn(async (_c: string, _ns: string, selector: string) =>
      selector.includes('ScaledObject')
        ? [
            event(
              'orders-worker',
              'ScaledObject',
              'KEDAScalerFailed',
              '2026-11-28T06:00:00Z',
            ),
          ]
        : [
            event(
              'keda-hpa-orders-worker',
              'HorizontalPodAutoscaler',
              'SuccessfulRescale',
              '2026-11-28T06:01:00Z',
            ),
          ],
    ),
  ) {
    return {
      listEvents,
      events: new EventsReader({ listEvents, ttlMs: 10_000, now: () => now }),
    };
  }

  it('reads events of the ScaledObject and its HPA by field selector, newest first', async () => {
    const { listEvents, events } = reader();
    const result = await events.read('demo', 'orders', subjects);
    expect(listEvents.mock.calls.map(c => c.slice(0, 3))).toEqual([
      [
        'demo',
        'orders',
        'involvedObject.kind=ScaledObject,involvedObject.name=orders-worker',
      ],
      [
        'demo',
        'orders',
        'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=keda-hpa-orders-worker',
      ],
    ]);
    expect(result.map(e => e.reason)).toEqual([
      'SuccessfulRescale',
      'KEDAScalerFailed',
    ]);
    expect(result[0]).toMatchObject({
      type: 'Normal',
      involvedObject: {
        kind: 'HorizontalPodAutoscaler',
        name: 'keda-hpa-orders-worker',
      },
      lastTimestamp: '2026-11-28T06:01:00.000Z',
    });
  });

  it('reuses a read within the TTL and reads again after it', async () => {
    const { listEvents, events } = reader();
    await events.read('demo', 'orders', subjects);
    now += 9_999;
    await events.read('demo', 'orders', subjects);
    expect(listEvents).toHaveBeenCalledTimes(2);
    now += 2;
    await events.read('demo', 'orders', subjects);
    expect(listEvents).toHaveBeenCalledTimes(4);
  });

  it('shares one read between concurrent callers', async () => {
    const { listEvents, events } = reader();
    await Promise.all(
      [1, 2, 3].map(() => events.read('demo', 'orders', subjects)),
    );
    expect(listEvents).toHaveBeenCalledTimes(2);
  });

  it('serves the previous answer when a read fails', async () => {
    const listEvents = jest.fn(async () => [
      event(
        'orders-worker',
        'ScaledObject',
        'ScaledObjectReady',
        '2026-11-28T06:00:00Z',
      ),
    ]);
    const onError = jest.fn();
    const events = new EventsReader({
      listEvents,
      ttlMs: 1,
      now: () => now,
      onError,
    });
    await events.read('demo', 'orders', subjects.slice(0, 1));
    listEvents.mockRejectedValueOnce(new Error('connection refused'));
    now += 10;
    const result = await events.read('demo', 'orders', subjects.slice(0, 1));
    expect(result.map(e => e.reason)).toEqual(['ScaledObjectReady']);
    // The failed refresh ran in the background.
    await new Promise(r => setTimeout(r, 0));
    expect(
      (await events.read('demo', 'orders', subjects.slice(0, 1))).map(
        e => e.reason,
      ),
    ).toEqual(['ScaledObjectReady']);
    expect(onError).toHaveBeenCalledWith(
      expect.any(Error),
      'demo/orders/ScaledObject:orders-worker',
    );
  });

  it('bounds the number of cached keys', async () => {
    const listEvents = jest.fn(async () => []);
    const events = new EventsReader({
      listEvents,
      ttlMs: 60_000,
      now: () => now,
      maxEntries: 2,
    });
    for (const name of ['a', 'b', 'c'])
      await events.read('demo', 'ns', [{ kind: 'ScaledObject', name }]);
    await events.read('demo', 'ns', [{ kind: 'ScaledObject', name: 'a' }]);
    // 'a' was evicted, so it is read again.
    expect(listEvents).toHaveBeenCalledTimes(4);
  });
  it("keeps only the events of the object's uid, and events that name no uid", async () => {
    const withUid = (e: CoreV1Event, uid?: string): CoreV1Event => ({
      ...e,
      involvedObject: { ...e.involvedObject, uid },
    });
    const listEvents = jest.fn(async () => [
      withUid(
        event(
          'orders-worker',
          'ScaledObject',
          'KEDAScalerFailed',
          '2026-11-28T05:00:00Z',
        ),
        'old-uid',
      ),
      withUid(
        event(
          'orders-worker',
          'ScaledObject',
          'ScaledObjectReady',
          '2026-11-28T06:00:00Z',
        ),
        'new-uid',
      ),
      event(
        'orders-worker',
        'ScaledObject',
        'KEDAScalersStarted',
        '2026-11-28T06:01:00Z',
      ),
    ]);
    const events = new EventsReader({ listEvents, ttlMs: 0, now: () => now });
    const current = await events.read('demo', 'orders', [
      { kind: 'ScaledObject', name: 'orders-worker', uid: 'new-uid' },
    ]);
    expect(current.map(e => [e.reason, e.involvedObject.uid])).toEqual([
      ['KEDAScalersStarted', undefined],
      ['ScaledObjectReady', 'new-uid'],
    ]);
    // Without a known uid, every event of the name is the object's.
    const byName = await events.read('demo', 'orders', [
      { kind: 'ScaledObject', name: 'orders-worker' },
    ]);
    expect(byName).toHaveLength(3);
  });

  it('dates an event by its latest occurrence, series included', async () => {
    const listEvents = jest.fn(async () => [
      {
        ...event(
          'orders-worker',
          'ScaledObject',
          'KEDAScalerFailed',
          '2026-11-28T06:00:00Z',
        ),
        lastTimestamp: undefined,
        eventTime: new Date('2026-11-28T06:00:00Z'),
        series: {
          count: 7,
          lastObservedTime: new Date('2026-11-28T06:05:00Z'),
        },
      } as CoreV1Event,
    ]);
    const events = new EventsReader({ listEvents, ttlMs: 0, now: () => now });
    const [e] = await events.read('demo', 'orders', subjects.slice(0, 1));
    expect(e).toMatchObject({
      count: 7,
      firstTimestamp: '2026-11-28T06:00:00.000Z',
      lastTimestamp: '2026-11-28T06:05:00.000Z',
    });
  });
});

describe('EventsReader against a server that does not answer', () => {
  it('serves the previous events after waitMs instead of hanging, and keeps the late answer', async () => {
    let answer: ((events: any[]) => void) | undefined;
    let calls = 0;
    const reader = new EventsReader({
      ttlMs: 0,
      waitMs: 50,
      listEvents: async () => {
        calls++;
        if (calls === 1) {
          return [
            {
              reason: 'First',
              involvedObject: { kind: 'ScaledObject', name: 'a' },
            },
          ] as any;
        }
        // Half-open: accepted, not answered (until we say so).
        return new Promise(resolve => {
          answer = resolve;
        });
      },
    });
    const subjects = [{ kind: 'ScaledObject', name: 'a' }];
    expect((await reader.read('c', 'ns', subjects)).map(e => e.reason)).toEqual(
      ['First'],
    );
    // The second read's request hangs; the read answers anyway.
    expect((await reader.read('c', 'ns', subjects)).map(e => e.reason)).toEqual(
      ['First'],
    );
    // A read while it still hangs shares the request and does not wait either.
    expect((await reader.read('c', 'ns', subjects)).map(e => e.reason)).toEqual(
      ['First'],
    );
    expect(calls).toBe(2);
    answer!([
      {
        reason: 'Late',
        involvedObject: { kind: 'ScaledObject', name: 'a' },
      },
    ]);
    await new Promise(r => setTimeout(r, 0));
    // The late answer is kept: the next read (whose own request hangs
    // again) serves it.
    expect((await reader.read('c', 'ns', subjects)).map(e => e.reason)).toEqual(
      ['Late'],
    );
    expect(calls).toBe(3);
  });

  it('never makes a reader wait for a refresh: an expired answer is served while it is read again', async () => {
    let now = 0;
    let release: (() => void) | undefined;
    let calls = 0;
    const reasons = ['First', 'Second'];
    const events = new EventsReader({
      ttlMs: 10_000,
      now: () => now,
      listEvents: async () => {
        const reason = reasons[calls++];
        if (calls > 1) await new Promise<void>(r => (release = r));
        return [
          { reason, involvedObject: { kind: 'ScaledObject', name: 'a' } },
        ] as any;
      },
    });
    const one = [{ kind: 'ScaledObject', name: 'a' }];
    const first = await events.readVersioned('c', 'ns', one);
    expect(first.events.map(e => e.reason)).toEqual(['First']);
    now += 10_000;
    // Expired: served at once, the refresh hangs in the background.
    const stale = await events.readVersioned('c', 'ns', one);
    expect(stale).toEqual(first);
    expect(calls).toBe(2);
    release!();
    await new Promise(r => setTimeout(r, 0));
    const fresh = await events.readVersioned('c', 'ns', one);
    expect(fresh.events.map(e => e.reason)).toEqual(['Second']);
    expect(fresh.version).not.toBe(first.version);
    expect(calls).toBe(2);
  });

  it('keeps the version when a refresh reads the same events', async () => {
    let now = 0;
    const subjects = [{ kind: 'ScaledObject', name: 'a' }];
    const listEvents = jest.fn(async () => [
      { reason: 'Same', involvedObject: { kind: 'ScaledObject', name: 'a' } },
    ]);
    const events = new EventsReader({
      ttlMs: 10_000,
      now: () => now,
      listEvents: listEvents as any,
    });
    const first = await events.readVersioned('demo', 'orders', subjects);
    now += 10_001;
    await events.readVersioned('demo', 'orders', subjects);
    await new Promise(r => setTimeout(r, 0));
    const again = await events.readVersioned('demo', 'orders', subjects);
    expect(listEvents).toHaveBeenCalledTimes(2);
    expect(again.version).toBe(first.version);
    expect(again.events).toEqual(first.events);
  });
});
