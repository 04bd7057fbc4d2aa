import type {
  KedaProvenance,
  KedaRequestRecord,
  KedaRequestState,
} from '@internal/plugin-keda-common';
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
 * Feeds the status API's `provenance` and `pendingRequests` from the request
 * store (the hook `KedaStatusService` offers as `provenance`).
 */
export class KedaRequestProvenance implements KedaProvenanceSource {
  constructor(private readonly store: Pick<KedaRequestStore, 'get' | 'list'>) {}

  async enrich(provenance: KedaProvenance): Promise<KedaProvenance> {
    if (!provenance.requestId) return provenance;
    const record = await this.store.get(provenance.requestId);
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
    const records = await this.store.list({ entityRef, state: SHOWN_STATES });
    return records.filter(r => !visible.has(r.id)).map(provenanceOf);
  }
}
