import { historySpanText, sparklineSeries } from './sparkline';

const t = (minute: number) =>
  new Date(Date.UTC(2026, 10, 28, 6, minute)).toISOString();

describe('sparklineSeries', () => {
  it('maps time to x and value to y on a 0..max scale inside the padding', () => {
    const series = sparklineSeries(
      [
        { time: t(0), replicas: 0 },
        { time: t(5), replicas: 2 },
        { time: t(10), replicas: 4 },
      ],
      'replicas',
      104,
      44,
      2,
    );
    expect(series.path).toBe('M2 42 L52 22 L102 2');
    expect(series).toMatchObject({ min: 0, max: 4, latest: 4 });
  });

  it('places irregular samples by their time, not their index', () => {
    const series = sparklineSeries(
      [
        { time: t(0), queueDepth: 10 },
        { time: t(1), queueDepth: 10 },
        { time: t(10), queueDepth: 10 },
      ],
      'queueDepth',
      100,
      20,
      0,
    );
    expect(series.path).toBe('M0 0 L10 0 L100 0');
  });

  it('breaks the line where a sample has no value instead of inventing one', () => {
    const series = sparklineSeries(
      [
        { time: t(0), queueDepth: 4 },
        { time: t(1) },
        { time: t(2), queueDepth: 4 },
      ],
      'queueDepth',
      20,
      10,
      0,
    );
    expect(series.path).toBe('M0 0 M20 0');
  });

  it('sorts samples by time', () => {
    const series = sparklineSeries(
      [
        { time: t(10), replicas: 1 },
        { time: t(0), replicas: 1 },
      ],
      'replicas',
      10,
      10,
      0,
    );
    expect(series.path).toBe('M0 0 L10 0');
    expect(series.latest).toBe(1);
  });

  it('draws an all-zero series on the baseline rather than dividing by zero', () => {
    const series = sparklineSeries(
      [
        { time: t(0), queueDepth: 0 },
        { time: t(1), queueDepth: 0 },
      ],
      'queueDepth',
      10,
      10,
      0,
    );
    expect(series.path).toBe('M0 10 L10 10');
  });

  it('returns an empty path when the field never has a value', () => {
    expect(
      sparklineSeries([{ time: t(0), replicas: 1 }], 'queueDepth', 10, 10).path,
    ).toBe('');
  });
});

describe('historySpanText', () => {
  it('describes the covered time span', () => {
    expect(historySpanText([{ time: t(0) }, { time: t(30) }])).toBe(
      'the last 30 minutes',
    );
  });
});
