import { ScalingHistory } from './history';

describe('ScalingHistory', () => {
  const start = Date.parse('2026-11-28T06:00:00Z');
  let now = start;
  const history = () =>
    new ScalingHistory({
      retentionMs: 24 * 3600_000,
      resolutionMs: 60_000,
      now: () => now,
    });

  beforeEach(() => {
    now = start;
  });

  it('keeps a sample per change', () => {
    const h = history();
    h.record('c/ns/so', { replicas: 1, queueDepth: 3 });
    now += 120_000;
    h.record('c/ns/so', { replicas: 2, queueDepth: 12 });
    expect(h.get('c/ns/so')).toEqual([
      { time: '2026-11-28T06:00:00.000Z', replicas: 1, queueDepth: 3 },
      { time: '2026-11-28T06:02:00.000Z', replicas: 2, queueDepth: 12 },
    ]);
  });

  it('ignores repeats of the same values', () => {
    const h = history();
    h.record('k', { replicas: 1 });
    now += 300_000;
    h.record('k', { replicas: 1 });
    expect(h.get('k')).toHaveLength(1);
  });

  it('keeps at most one sample per minute: the last value seen in it', () => {
    const h = history();
    h.record('k', { replicas: 1 });
    now += 61_000;
    h.record('k', { replicas: 2 });
    now += 10_000;
    h.record('k', { replicas: 3 });
    expect(h.get('k').map(s => s.replicas)).toEqual([1, 3]);
  });

  it('drops a merged sample that ends up equal to the previous one', () => {
    const h = history();
    h.record('k', { replicas: 1 });
    now += 61_000;
    h.record('k', { replicas: 2 });
    now += 1_000;
    h.record('k', { replicas: 1 });
    expect(h.get('k').map(s => s.replicas)).toEqual([1]);
  });

  it('forgets samples older than the retention but keeps the value at the window start', () => {
    const h = history();
    h.record('k', { replicas: 1 });
    now += 3600_000;
    h.record('k', { replicas: 2 });
    now += 3600_000;
    h.record('k', { replicas: 3 });
    now += 23 * 3600_000 + 1;
    expect(h.get('k').map(s => s.replicas)).toEqual([2, 3]);
    now += 10 * 24 * 3600_000;
    expect(h.get('k').map(s => s.replicas)).toEqual([3]);
  });

  it('bounds memory: a day of changes every 15 s stays at one sample per minute', () => {
    const h = history();
    for (let i = 0; i < 4 * 60 * 24; i++) {
      h.record('k', { replicas: i % 7, queueDepth: i });
      now += 15_000;
    }
    expect(h.get('k').length).toBeLessThanOrEqual(24 * 60 + 1);
  });

  it('keeps series apart and forgets one on request', () => {
    const h = history();
    h.record('a', { replicas: 1 });
    h.record('b', { replicas: 2 });
    h.forget('a');
    expect(h.get('a')).toEqual([]);
    expect(h.get('b')).toHaveLength(1);
    expect(h.size).toBe(1);
  });
});
