import {
  KEDA_CURRENT_STATES,
  type EntityKedaStatus,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';

/**
 * Ids of the entity's current requests (provisioned or failed: what its
 * workloads have now, and what the decommission template removes), as the
 * status API reports them on its ScaledObjects and among the requests not
 * yet visible on a cluster. Sorted, without duplicates.
 */
export function currentRequestIds(status: EntityKedaStatus): string[] {
  const provenances = [
    ...status.scaledObjects.flatMap(so =>
      so.provenance ? [so.provenance] : [],
    ),
    ...(status.pendingRequests ?? []),
  ];
  const ids = provenances
    .filter(
      p =>
        p.requestId &&
        KEDA_CURRENT_STATES.includes(p.requestState as KedaRequestState),
    )
    .map(p => p.requestId!);
  return [...new Set(ids)].sort();
}
