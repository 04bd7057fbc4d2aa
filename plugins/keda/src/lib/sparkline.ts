import type { KedaHistorySample } from '@keda-self-service/plugin-keda-common';

/** A drawable series: an SVG path plus the numbers the caption needs. */
export interface SparklineSeries {
  /** SVG path data (`M x y L x y …`); gaps in the data start a new `M`. */
  path: string;
  min?: number;
  max?: number;
  latest?: number;
}

/**
 * Maps one field of the history onto an SVG box of `width × height`.
 *
 * X is proportional to sample time (samples may be irregular when the watch
 * reconnected); Y spans 0..max so a flat queue reads as flat, not as noise.
 * Samples without a value break the line instead of interpolating a value
 * nobody measured.
 */
export function sparklineSeries(
  history: KedaHistorySample[],
  field: 'replicas' | 'queueDepth',
  width: number,
  height: number,
  padding = 2,
): SparklineSeries {
  const samples = history
    .map(s => ({ t: Date.parse(s.time), v: s[field] }))
    .filter(s => !Number.isNaN(s.t))
    .sort((a, b) => a.t - b.t);
  const values = samples
    .map(s => s.v)
    .filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return { path: '' };

  const min = Math.min(...values);
  const max = Math.max(...values);
  const t0 = samples[0].t;
  const span = samples[samples.length - 1].t - t0;
  const yTop = Math.max(max, 1);
  const innerW = width - 2 * padding;
  const innerH = height - 2 * padding;
  const round = (n: number) => Math.round(n * 10) / 10;

  let path = '';
  let penDown = false;
  for (const { t, v } of samples) {
    if (typeof v !== 'number') {
      penDown = false;
      continue;
    }
    const x = padding + (span === 0 ? innerW : ((t - t0) / span) * innerW);
    const y = padding + innerH - (v / yTop) * innerH;
    path += `${path ? ' ' : ''}${penDown ? 'L' : 'M'}${round(x)} ${round(y)}`;
    penDown = true;
  }
  const latest = [...samples].reverse().find(s => typeof s.v === 'number')?.v;
  return { path, min, max, latest };
}

/** Duration covered by the history, e.g. "30 minutes", for the caption. */
export function historySpanText(history: KedaHistorySample[]): string {
  const times = history.map(s => Date.parse(s.time)).filter(t => !isNaN(t));
  if (times.length < 2) return 'the last sample';
  const minutes = Math.round(
    (Math.max(...times) - Math.min(...times)) / 60_000,
  );
  if (minutes < 1) return 'the last minute';
  if (minutes < 120) return `the last ${minutes} minutes`;
  return `the last ${Math.round(minutes / 60)} hours`;
}
