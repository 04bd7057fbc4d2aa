import type { DatabaseService } from '@backstage/backend-plugin-api';
import type { KedaHistorySample } from '@keda-self-service/plugin-keda-common';
import type { Knex } from 'knex';
// Applies all of the package's migrations (migrations/), this table's too.
import { migrateKedaRequestStore as migrateKedaDatabase } from '../requests/KedaRequestStore';

const TABLE = 'keda_status_history';

/** Which ScaledObject a series belongs to. */
export interface ScaledObjectKey {
  cluster: string;
  namespace: string;
  name: string;
}

/** The values a sample records. */
export interface HistoryValues {
  replicas?: number;
  queueDepth?: number;
}

/** Options of {@link ScalingHistory}. */
export interface ScalingHistoryOptions {
  /** The keda plugin's database, migrated (`migrations/`). */
  db: Knex;
  /** How long samples are kept. */
  retentionMs: number;
  /** Samples closer than this are merged (the later value wins). Default 60 s. */
  resolutionMs?: number;
  /**
   * Buckets a burst of changes may borrow ahead of the clock, so a short
   * spike (0 → 4 → 0 within a minute) keeps its shape instead of being
   * merged away. Default 4; 0 merges every change into the current bucket.
   */
  burst?: number;
  /** The clock samples are taken by; default Date.now. */
  now?: () => number;
  /** Series kept in memory for status reads, least recently read evicted. Default 5,000. */
  maxCachedSeries?: number;
}

/** A series with a version that changes when its samples do. */
export interface VersionedHistory {
  samples: KedaHistorySample[];
  version: string;
}

interface CachedSeries {
  samples: Sample[];
  version: number;
  /** When it was read from the database; -Infinity once a write changed it. */
  loadedAt: number;
  loading?: Promise<void>;
  /** The window last served, kept while the cutoff drops the same samples. */
  served?: { dropped: number; samples: KedaHistorySample[] };
}

interface Row {
  cluster: string;
  namespace: string;
  name: string;
  bucket: number | string;
  sampled_at: number | string;
  replicas: number | null;
  queue_depth: number | null;
}

interface Sample extends HistoryValues {
  /** start of the time bucket, epoch ms */
  bucket: number;
  /** when the value was seen, epoch ms */
  sampledAt: number;
}

const idOf = (key: ScaledObjectKey) =>
  `${key.cluster}/${key.namespace}/${key.name}`;

function sampleOf(row: Row): Sample {
  // PostgreSQL answers bigint columns as strings.
  return {
    bucket: Number(row.bucket),
    sampledAt: Number(row.sampled_at),
    ...(row.replicas !== null ? { replicas: Number(row.replicas) } : {}),
    ...(row.queue_depth !== null
      ? { queueDepth: Number(row.queue_depth) }
      : {}),
  };
}

function toWire(samples: Sample[], drop: number): KedaHistorySample[] {
  return samples.slice(drop).map(({ sampledAt, replicas, queueDepth }) => ({
    time: new Date(sampledAt).toISOString(),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(queueDepth !== undefined ? { queueDepth } : {}),
  }));
}

const sameValues = (a: HistoryValues, b: HistoryValues) =>
  a.replicas === b.replicas && a.queueDepth === b.queueDepth;

/**
 * History of replicas and estimated queue depth per ScaledObject, fed from
 * watch events and kept in the keda plugin's database, so it survives
 * restarts and every backend replica serves the same series.
 *
 * A sample is kept only when a value changed, and at most one per
 * `resolutionMs` bucket. A change in a bucket that already has a sample
 * takes the next bucket, up to `burst` buckets ahead of the clock (the
 * sample keeps the time it was seen), so a burst of changes such as a
 * 0 → 4 → 0 cycle within a minute is kept; beyond that, changes merge into
 * the last bucket (the last value seen wins). A ScaledObject so costs at
 * most retention / resolution + 2 + burst rows (1,446 for 24 h at one per
 * minute: the window, the buckets being filled and the value at its start).
 * Rows older than the retention are deleted when a series is written,
 * except the newest of them: the value at the start of the window.
 *
 * Several replicas watch the same clusters and record the same changes: the
 * bucket is the row's key, a second write of it only replaces a value seen
 * earlier (`sampled_at`), so each sample is stored once and a late replica
 * never overwrites a newer value with an older one.
 */
export class ScalingHistory {
  /**
   * Creates the history on the plugin database, applying the package's
   * migrations unless `database.migrations.skip` is set.
   */
  static async create(
    options: Omit<ScalingHistoryOptions, 'db'> & { database: DatabaseService },
  ): Promise<ScalingHistory> {
    const { database, ...rest } = options;
    const db = await database.getClient();
    if (!database.migrations?.skip) {
      await migrateKedaDatabase(db);
    }
    return new ScalingHistory({ ...rest, db });
  }

  private readonly db: Knex;
  private readonly retentionMs: number;
  private readonly resolutionMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  /** the last two samples of each series this instance touched */
  private readonly tails = new Map<string, Sample[]>();
  /** writes of one series run one after another, in the order seen */
  private readonly queues = new Map<string, Promise<void>>();
  /** Series read for status answers, so a read costs no query (see getVersioned). */
  private readonly cached = new Map<string, CachedSeries>();
  private readonly maxCachedSeries: number;
  private versions = 0;

  constructor(options: ScalingHistoryOptions) {
    this.maxCachedSeries = options.maxCachedSeries ?? 5_000;
    this.db = options.db;
    this.retentionMs = options.retentionMs;
    this.resolutionMs = options.resolutionMs ?? 60_000;
    this.burst = Math.max(0, Math.floor(options.burst ?? 4));
    this.now = options.now ?? Date.now;
  }

  /**
   * Records the values seen now. Resolves once written; writes of one
   * series are applied in the order of the calls.
   */
  record(key: ScaledObjectKey, values: HistoryValues): Promise<void> {
    // The time of the change, not of the write.
    const at = this.now();
    return this.enqueue(key, () => this.write(key, values, at));
  }

  /** Removes a series (its ScaledObject was deleted). */
  forget(key: ScaledObjectKey): Promise<void> {
    return this.enqueue(key, async () => {
      this.tails.delete(idOf(key));
      try {
        await this.db(TABLE).where(key).delete();
      } finally {
        this.cached.delete(idOf(key));
      }
    });
  }

  /** The series inside the retention window, oldest first, read from the database. */
  async get(key: ScaledObjectKey): Promise<KedaHistorySample[]> {
    const samples = await this.load(key);
    return toWire(samples, this.beforeWindow(samples));
  }

  /**
   * The series inside the retention window for a status read, from memory:
   * a series is read from the database on its first read, and again in the
   * background (readers get the copy they have meanwhile) when this
   * instance wrote to it or after a resolution period, which is when
   * another replica may have added a sample. The version changes with the
   * samples served.
   */
  async getVersioned(key: ScaledObjectKey): Promise<VersionedHistory> {
    const id = idOf(key);
    let entry = this.cached.get(id);
    if (!entry) {
      const samples = await this.load(key);
      entry = this.cached.get(id) ?? {
        samples,
        version: ++this.versions,
        loadedAt: this.now(),
      };
      this.keep(id, entry);
    } else if (
      !entry.loading &&
      this.now() - entry.loadedAt >= this.resolutionMs
    ) {
      this.reload(key, entry);
    }
    const dropped = this.beforeWindow(entry.samples);
    if (entry.served?.dropped !== dropped) {
      entry.served = { dropped, samples: toWire(entry.samples, dropped) };
    }
    return {
      samples: entry.served.samples,
      version: `${entry.version}.${dropped}`,
    };
  }

  private reload(key: ScaledObjectKey, entry: CachedSeries) {
    const id = idOf(key);
    entry.loading = this.load(key)
      .then(samples => {
        const changed =
          JSON.stringify(samples) !== JSON.stringify(entry.samples);
        this.keep(id, {
          samples,
          version: changed ? ++this.versions : entry.version,
          loadedAt: this.now(),
        });
      })
      .catch(() => {
        // Keep serving what we have; the next read tries again.
        entry.loadedAt = this.now();
      })
      .finally(() => {
        entry.loading = undefined;
      });
  }

  private keep(id: string, entry: CachedSeries) {
    this.cached.delete(id);
    this.cached.set(id, entry);
    while (this.cached.size > this.maxCachedSeries) {
      this.cached.delete(this.cached.keys().next().value!);
    }
  }

  private async load(key: ScaledObjectKey): Promise<Sample[]> {
    const rows: Row[] = await this.db(TABLE)
      .where(key)
      .orderBy('bucket', 'asc');
    return rows.map(sampleOf);
  }

  /**
   * How many samples lie before the window. The newest sample older than
   * the cutoff is kept: it is the value at the start of the window, without
   * it a steady line would vanish.
   */
  private beforeWindow(samples: Sample[]): number {
    const cutoff = this.now() - this.retentionMs;
    let drop = 0;
    while (drop < samples.length - 1 && samples[drop + 1].sampledAt <= cutoff) {
      drop++;
    }
    return drop;
  }

  private enqueue(key: ScaledObjectKey, fn: () => Promise<void>) {
    const id = idOf(key);
    const before = this.queues.get(id) ?? Promise.resolve();
    const next = before.then(fn, fn);
    this.queues.set(id, next);
    const done = () => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    };
    next.then(done, done);
    return next;
  }

  private async tail(key: ScaledObjectKey): Promise<Sample[]> {
    const id = idOf(key);
    let tail = this.tails.get(id);
    if (!tail) {
      const rows: Row[] = await this.db(TABLE)
        .where(key)
        .orderBy('bucket', 'desc')
        .limit(2);
      tail = rows.map(sampleOf).reverse();
      this.tails.set(id, tail);
    }
    return tail;
  }

  private async write(key: ScaledObjectKey, values: HistoryValues, at: number) {
    const id = idOf(key);
    try {
      await this.writeSample(key, values, at);
    } finally {
      // Read again (in the background) by the next status read.
      const entry = this.cached.get(id);
      if (entry) entry.loadedAt = -Infinity;
    }
  }

  private async writeSample(
    key: ScaledObjectKey,
    values: HistoryValues,
    at: number,
  ) {
    const id = idOf(key);
    try {
      const tail = await this.tail(key);
      const last = tail[tail.length - 1];
      if (last && sameValues(last, values)) return;
      const current = Math.floor(at / this.resolutionMs) * this.resolutionMs;
      let bucket = current;
      if (last && last.bucket >= current && at >= last.sampledAt) {
        // The bucket is taken: borrow the next one while the burst allows.
        // (A value seen before the last sample, from a late replica, only
        // competes for its own bucket, where the newer value wins.)
        const next = last.bucket + this.resolutionMs;
        bucket =
          next <= current + this.burst * this.resolutionMs ? next : last.bucket;
      }
      const sample: Sample = { bucket, sampledAt: at, ...values };
      if (last && last.bucket === bucket) {
        const before = tail[tail.length - 2];
        if (before && sameValues(before, values)) {
          // Merging made the bucket equal to the sample before: drop it.
          await this.db(TABLE)
            .where({ ...key, bucket })
            .andWhere('sampled_at', '<=', at)
            .delete();
          this.tails.set(id, [before]);
          return;
        }
        await this.upsert(key, sample);
        this.tails.set(id, [...tail.slice(0, -1), sample]);
        return;
      }
      await this.upsert(key, sample);
      this.tails.set(id, [...tail, sample].slice(-2));
      await this.prune(key, at);
    } catch (e) {
      // Read the series again next time rather than trust a guess.
      this.tails.delete(id);
      throw e;
    }
  }

  /** One row per bucket; a later value of the bucket replaces an earlier one. */
  private async upsert(key: ScaledObjectKey, sample: Sample) {
    await this.db(TABLE)
      .insert({
        ...key,
        bucket: sample.bucket,
        sampled_at: sample.sampledAt,
        replicas: sample.replicas ?? null,
        queue_depth: sample.queueDepth ?? null,
      })
      .onConflict(['cluster', 'namespace', 'name', 'bucket'])
      .merge(['sampled_at', 'replicas', 'queue_depth'])
      .where(`${TABLE}.sampled_at`, '<', sample.sampledAt);
  }

  /** Deletes the series' rows before the window, keeping its start value. */
  private async prune(key: ScaledObjectKey, at: number) {
    const cutoff = at - this.retentionMs;
    const anchor = await this.db(TABLE)
      .where(key)
      .andWhere('sampled_at', '<=', cutoff)
      .max({ at: 'sampled_at' })
      .first();
    if (anchor?.at !== null && anchor?.at !== undefined) {
      await this.db(TABLE)
        .where(key)
        .andWhere('sampled_at', '<', Number(anchor.at))
        .delete();
    }
  }
}
