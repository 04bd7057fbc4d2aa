import type {
  KedaProvenance,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import { LRUCache } from 'lru-cache';
import type { KedaProvenanceSource } from '../service/KedaStatusService';
import type { KedaRequestStore } from './KedaRequestStore';

// Requests the entity card still shows while no ScaledObject carries them:
// waiting for approval, being provisioned, or provisioned and waiting for
// the pull request to be merged and applied.
const SHOWN_STATES: KedaRequestState[] = [
  'pending',
  'approved',
  'provisioning',
  'provisioned',
  'failed',
];

function provenanceOf(record: KedaRequestRecord): KedaProvenance {
  return {
    requestId: record.id,
    requestState: record.state,
    ...(record.pullRequest ? { pullRequestUrl: record.pullRequest.url } : {}),
  };
}

/**
 * How long a read of the request store is reused for status answers. Writes
 * through this instance drop it at once; a write by another backend replica
 * shows within this time.
 */
export const PROVENANCE_CACHE_TTL_MS = 5_000;

/**
 * Feeds the status API's `provenance` and `pendingRequests` from the request
 * store (the hook `KedaStatusService` offers as `provenance`). Reads are
 * reused briefly, so polling cards cost no query each; the store's writes
 * clear them.
 */
export class KedaRequestProvenance implements KedaProvenanceSource {
  private readonly records = new LRUCache<
    string,
    Promise<KedaRequestRecord | null>
  >({ max: 5_000, ttl: PROVENANCE_CACHE_TTL_MS });
  private readonly pending = new LRUCache<string, Promise<KedaRequestRecord[]>>(
    { max: 5_000, ttl: PROVENANCE_CACHE_TTL_MS },
  );

  constructor(
    private readonly store: Pick<KedaRequestStore, 'get' | 'list'> &
      Partial<Pick<KedaRequestStore, 'onWrite'>>,
  ) {
    store.onWrite?.(() => {
      this.records.clear();
      this.pending.clear();
    });
  }

  async enrich(provenance: KedaProvenance): Promise<KedaProvenance> {
    if (!provenance.requestId) return provenance;
    const record = await this.cached(this.records, provenance.requestId, () =>
      this.store.get(provenance.requestId!).then(r => r ?? null),
    );
    if (!record) return provenance;
    return {
      ...provenance,
      requestState: record.state,
      pullRequestUrl: record.pullRequest?.url ?? provenance.pullRequestUrl,
    };
  }

  async pendingFor(
    entityRef: string,
    visibleRequestIds: string[],
  ): Promise<KedaProvenance[]> {
    const visible = new Set(visibleRequestIds);
    const records = await this.cached(this.pending, entityRef, () =>
      this.store.list({ entityRef, state: SHOWN_STATES }),
    );
    return records.filter(r => !visible.has(r.id)).map(provenanceOf);
  }

  /** Concurrent readers share one query; a failed one is not kept. */
  private cached<T>(
    cache: LRUCache<string, Promise<T>>,
    key: string,
    read: () => Promise<T>,
  ): Promise<T> {
    let value = cache.get(key);
    if (!value) {
      value = read();
      cache.set(key, value);
      value.catch(() => {
        if (cache.get(key) === value) cache.delete(key);
      });
    }
    return value;
  }
}
