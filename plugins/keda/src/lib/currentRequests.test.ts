import type {
  EntityKedaStatus,
  ScaledObjectStatus,
} from '@keda-self-service/plugin-keda-common';
import { currentRequestIds } from './currentRequests';

function status(
  provenances: Array<ScaledObjectStatus['provenance']>,
  pendingRequests?: EntityKedaStatus['pendingRequests'],
): EntityKedaStatus {
  return {
    entityRef: 'component:default/orders-worker',
    scaledObjects: provenances.map(
      (provenance, i) =>
        ({ name: `so-${i}`, provenance } as ScaledObjectStatus),
    ),
    clusters: [],
    ...(pendingRequests ? { pendingRequests } : {}),
    generatedAt: '2026-01-01T00:00:00.000Z',
  } as EntityKedaStatus;
}

describe('currentRequestIds', () => {
  it('collects provisioned and failed requests from ScaledObjects and pending requests', () => {
    expect(
      currentRequestIds(
        status(
          [
            { requestId: 'req-2', requestState: 'provisioned' },
            undefined,
            { requestId: 'req-2', requestState: 'provisioned' },
          ],
          [
            { requestId: 'req-1', requestState: 'failed' },
            { requestId: 'req-3', requestState: 'pending' },
          ],
        ),
      ),
    ).toEqual(['req-1', 'req-2']);
  });

  it('ignores objects without a request and requests still in flight or closed', () => {
    expect(
      currentRequestIds(
        status(
          [
            { pullRequestUrl: 'http://x' },
            { requestId: 'r', requestState: 'decommissioned' },
          ],
          [{ requestId: 'p', requestState: 'provisioning' }],
        ),
      ),
    ).toEqual([]);
  });
});
