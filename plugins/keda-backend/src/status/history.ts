import type { KedaHistorySample } from '@internal/plugin-keda-common';

/** Options of {@link ScalingHistory}. */
export interface ScalingHistoryOptions {
  /** How long samples are kept. */
  retentionMs: number;
  /** Samples closer than this are merged (the later value wins). Default 60 s. */
  resolutionMs?: number;
  now?: () => number;
}

interface StoredSample extends KedaHistorySample {
  bucket: number;
}

/**
 * In-memory history of replicas and estimated queue depth per ScaledObject,
 * fed from watch events. A sample is kept only when a value changed, and at
 * most one per `resolutionMs` (the last value seen in that interval), so a
 * ScaledObject costs at most retention / resolution samples (1,440 for
 * 24 h at one per minute). Each backend replica keeps its own history from
 * its own watch; it starts empty after a restart.
 */
export class ScalingHistory {
  private readonly series = new Map<string, StoredSample[]>();
  private readonly retentionMs: number;
  private readonly resolutionMs: number;
  private readonly now: () => number;

  constructor(options: ScalingHistoryOptions) {
    this.retentionMs = options.retentionMs;
    this.resolutionMs = options.resolutionMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  record(key: string, value: { replicas?: number; queueDepth?: number }) {
    const now = this.now();
    const bucket = Math.floor(now / this.resolutionMs);
    const samples = this.series.get(key) ?? [];
    const last = samples[samples.length - 1];
    if (
      last &&
      last.replicas === value.replicas &&
      last.queueDepth === value.queueDepth
    ) {
      return;
    }
    const sample: StoredSample = {
      time: new Date(now).toISOString(),
      bucket,
      ...value,
    };
    if (last && last.bucket === bucket) {
      samples[samples.length - 1] = sample;
      // Merging may make the sample equal to the one before: drop the repeat.
      const before = samples[samples.length - 2];
      if (
        before &&
        before.replicas === sample.replicas &&
        before.queueDepth === sample.queueDepth
      ) {
        samples.pop();
      }
    } else {
      samples.push(sample);
    }
    this.series.set(key, samples);
    this.prune(key, now);
  }

  get(key: string): KedaHistorySample[] {
    this.prune(key, this.now());
    return (this.series.get(key) ?? []).map(
      ({ bucket: _bucket, ...sample }) => sample,
    );
  }

  forget(key: string) {
    this.series.delete(key);
  }

  /** Number of ScaledObjects with history, for tests and metrics. */
  get size() {
    return this.series.size;
  }

  private prune(key: string, now: number) {
    const samples = this.series.get(key);
    if (!samples) return;
    const cutoff = now - this.retentionMs;
    // Keep the newest sample older than the cutoff: it is the value at the
    // start of the window, without it a steady line would vanish.
    let drop = 0;
    while (
      drop < samples.length - 1 &&
      Date.parse(samples[drop + 1].time) <= cutoff
    ) {
      drop++;
    }
    if (drop > 0) samples.splice(0, drop);
  }
}
