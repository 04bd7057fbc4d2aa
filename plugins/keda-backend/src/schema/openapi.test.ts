import type { EntityKedaStatus } from '@keda-self-service/plugin-keda-common';
import { openApiErrors, openApiResponseErrors } from '../__testUtils__/openApi';
import {
  deployment,
  hpa,
  OPERATOR_ROLE,
  scaledObject,
  triggerAuthentication,
} from '../__fixtures__/objects';
import { buildScaledObjectStatus } from '../status/buildScaledObjectStatus';

/** A status with every optional field filled, as the service builds it. */
function fullStatus(): EntityKedaStatus {
  const so = scaledObject({
    annotations: {
      'keda.backstage.io/request-id': 'req-1',
      'autoscaling.keda.sh/paused-replicas': '1',
    },
  });
  so.spec.idleReplicaCount = 0;
  so.status!.conditions![0] = {
    type: 'Ready',
    status: 'False',
    reason: 'ScaledObjectCheckFailed',
    message: 'x',
    lastTransitionTime: '2026-11-28T06:00:00Z',
  };
  const status = buildScaledObjectStatus({
    cluster: {
      name: 'demo-eks',
      accountId: '111111111111',
      operatorRoleArn: OPERATOR_ROLE,
    },
    scaledObject: so,
    hpa: hpa(),
    scaleTarget: { found: true, object: deployment() },
    findTriggerAuthentication: () =>
      triggerAuthentication({ provider: 'aws-eks', identityOwner: 'workload' }),
    events: [
      {
        type: 'Warning',
        reason: 'KEDAScalerFailed',
        message:
          'api error AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.',
        involvedObject: {
          kind: 'ScaledObject',
          name: 'orders-worker',
          uid: '3f1c2b9e-0000-4000-8000-000000000001',
        },
        count: 3,
        firstTimestamp: '2026-11-28T05:00:00Z',
        lastTimestamp: '2026-11-28T06:00:00Z',
      },
    ],
    history: [{ time: '2026-11-28T06:00:00.000Z', replicas: 3, queueDepth: 4 }],
  });
  status.provenance = { ...status.provenance, requestState: 'approved' };
  // Only set at zero replicas, which this status is not.
  status.triggers[0].idle = true;
  return {
    entityRef: 'component:default/orders-worker',
    scaledObjects: [status],
    clusters: [
      {
        cluster: 'demo-eks',
        synced: true,
        stale: true,
        lastSyncTime: '2026-11-28T06:00:00.000Z',
        error: 'connect ECONNREFUSED',
      },
    ],
    pendingRequests: [{ requestId: 'req-2', requestState: 'pending' }],
    generatedAt: '2026-11-28T06:00:01.000Z',
  };
}

describe('openapi.yaml', () => {
  it('describes a fully populated status exactly (no undocumented fields)', () => {
    const body = JSON.parse(JSON.stringify(fullStatus()));
    expect(body.scaledObjects[0].diagnoses.length).toBeGreaterThan(0);
    expect(openApiErrors('EntityKedaStatus', body)).toEqual([]);
    expect(openApiResponseErrors('/status', '200', body)).toEqual([]);
  });

  it('rejects a field the spec does not document', () => {
    const body = JSON.parse(JSON.stringify(fullStatus()));
    body.scaledObjects[0].replicas.surprise = 1;
    expect(openApiErrors('EntityKedaStatus', body)).toEqual([
      expect.stringContaining('must NOT have additional properties'),
    ]);
  });

  it('rejects a health the spec does not list', () => {
    const body = JSON.parse(JSON.stringify(fullStatus()));
    body.scaledObjects[0].health = 'Broken';
    expect(openApiErrors('EntityKedaStatus', body)).toEqual([
      expect.stringContaining(
        '/scaledObjects/0/health must be equal to one of the allowed values',
      ),
    ]);
  });

  it('describes GET /clusters', () => {
    expect(
      openApiResponseErrors('/clusters', '200', {
        clusters: [
          { cluster: 'a', synced: false, stale: true },
          {
            cluster: 'b',
            synced: true,
            stale: false,
            title: 'Production EU',
            accountId: '111111111111',
            region: 'eu-west-1',
          },
        ],
      }),
    ).toEqual([]);
  });
});
