import { mockServices } from '@backstage/backend-test-utils';
import { EntityStatusSignals } from './EntityStatusSignals';

const ORDERS = 'component:default/orders-worker';
const BILLING = 'component:default/billing-worker';
const byId = (id: string, namespace?: string) => ({
  requirements: [
    { key: 'backstage.io/kubernetes-id', operator: '=' as const, value: id },
  ],
  namespace,
});
const labelled = (id: string, namespace = 'shop') => ({
  namespace,
  labels: { 'backstage.io/kubernetes-id': id },
});

describe('EntityStatusSignals', () => {
  let now: number;
  let published: Array<{
    channel: string;
    message: unknown;
    recipients: unknown;
  }>;
  let signals: EntityStatusSignals;

  beforeEach(() => {
    jest.useFakeTimers();
    now = Date.parse('2026-11-28T06:00:00Z');
    published = [];
    signals = new EntityStatusSignals({
      signals: {
        publish: async (signal: any) => {
          published.push(signal);
        },
      },
      logger: mockServices.logger.mock(),
      followMs: 600_000,
      coalesceMs: 1_000,
      now: () => now,
    });
  });

  afterEach(() => {
    signals.stop();
    jest.useRealTimers();
  });

  it('signals the followed entity whose objects changed, with its ref only', async () => {
    signals.follow(ORDERS, byId('orders-worker'));
    signals.follow(BILLING, byId('billing-worker'));
    signals.changed([labelled('orders-worker')]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(published).toEqual([
      {
        recipients: { type: 'broadcast' },
        channel: `keda:status:${ORDERS}`,
        message: { entityRef: ORDERS },
      },
    ]);
  });

  it('makes one signal of a burst of changes', async () => {
    signals.follow(ORDERS, byId('orders-worker'));
    for (let i = 0; i < 5; i++) signals.changed([labelled('orders-worker')]);
    await jest.advanceTimersByTimeAsync(999);
    expect(published).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(published).toHaveLength(1);
    signals.changed([labelled('orders-worker')]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(published).toHaveLength(2);
  });

  it('respects the namespace the entity is limited to', async () => {
    signals.follow(ORDERS, byId('orders-worker', 'shop'));
    signals.changed([labelled('orders-worker', 'other')]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(published).toHaveLength(0);
  });

  it('stops following an entity nobody asked about for a while', async () => {
    signals.follow(ORDERS, byId('orders-worker'));
    now += 600_001;
    signals.changed([labelled('orders-worker')]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(published).toHaveLength(0);
    expect(signals.size).toBe(0);
  });

  it('sends nothing pending after stop', async () => {
    signals.follow(ORDERS, byId('orders-worker'));
    signals.changed([labelled('orders-worker')]);
    signals.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(published).toHaveLength(0);
  });
});
