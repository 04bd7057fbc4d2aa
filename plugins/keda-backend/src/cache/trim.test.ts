import type {
  HorizontalPodAutoscaler,
  ScaledObject,
  ScaleTarget,
} from '../kubernetes/types';
import { trimHpa, trimScaledObject, trimScaleTarget } from './trim';

const metadata = (name: string) => ({
  name,
  namespace: 'team-a',
  uid: `uid-${name}`,
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: new Date('2026-01-01T00:00:00Z'),
  labels: { 'backstage.io/kubernetes-id': 'orders' },
  annotations: { 'autoscaling.keda.sh/paused-replicas': '0' },
  finalizers: ['finalizer.keda.sh'],
  ownerReferences: [
    { apiVersion: 'v1', kind: 'Thing', name: 'owner', uid: 'owner-uid' },
  ],
});

const identity = {
  name: 'orders',
  namespace: 'team-a',
  uid: 'uid-orders',
  resourceVersion: '42',
  labels: { 'backstage.io/kubernetes-id': 'orders' },
};

describe('what the watch cache keeps', () => {
  it('keeps of a ScaledObject its identity, labels, annotations, spec and the status fields that are read', () => {
    const conditions = [
      {
        type: 'Ready',
        status: 'True',
        reason: 'ScaledObjectReady',
        message: 'ok',
      },
    ];
    const spec = {
      scaleTargetRef: { name: 'orders' },
      triggers: [{ type: 'aws-sqs-queue', metadata: { queueLength: '5' } }],
    };
    const so = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: metadata('orders'),
      spec,
      status: {
        conditions,
        hpaName: 'keda-hpa-orders',
        externalMetricNames: ['s0-aws-sqs-queue-orders'],
        lastActiveTime: '2026-01-01T00:00:00Z',
        pausedReplicaCount: 0,
        health: { 's0-aws-sqs-queue-orders': { status: 'Happy' } },
        scaleTargetKind: 'apps/v1.Deployment',
        scaleTargetGVKR: { group: 'apps', kind: 'Deployment' },
      },
    } as unknown as ScaledObject;

    trimScaledObject(so);

    expect(so.metadata).toEqual({
      ...identity,
      annotations: { 'autoscaling.keda.sh/paused-replicas': '0' },
    });
    expect(so.spec).toBe(spec);
    expect(so.status).toEqual({
      conditions,
      hpaName: 'keda-hpa-orders',
      externalMetricNames: ['s0-aws-sqs-queue-orders'],
      lastActiveTime: '2026-01-01T00:00:00Z',
      pausedReplicaCount: 0,
      health: { 's0-aws-sqs-queue-orders': { status: 'Happy' } },
      scaleTargetKind: 'apps/v1.Deployment',
    });
    expect(so.status).not.toHaveProperty('scaleTargetGVKR');
  });

  it('keeps of an HPA its identity, labels and status', () => {
    const status = {
      currentReplicas: 2,
      desiredReplicas: 3,
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' },
      ],
    };
    const hpa = {
      metadata: metadata('orders'),
      spec: { minReplicas: 1, maxReplicas: 10 },
      status,
    } as unknown as HorizontalPodAutoscaler;

    trimHpa(hpa);

    expect(hpa.metadata).toEqual(identity);
    expect(hpa.spec).toBeUndefined();
    expect(hpa.status).toBe(status);
  });

  it('keeps of a workload its identity, labels, spec.replicas and selector, and status.replicas', () => {
    const workload = {
      metadata: metadata('orders'),
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'orders' } },
        template: { spec: { containers: [{ name: 'worker', image: 'x' }] } },
      },
      status: {
        replicas: 2,
        readyReplicas: 2,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    } as unknown as ScaleTarget;

    trimScaleTarget(workload);

    expect(workload.metadata).toEqual(identity);
    expect(workload.spec).toEqual({
      replicas: 2,
      selector: { matchLabels: { app: 'orders' } },
    });
    expect(workload.status).toEqual({ replicas: 2 });
  });

  it('leaves objects without a status alone', () => {
    const so = {
      metadata: metadata('orders'),
      spec: { scaleTargetRef: { name: 'orders' } },
    } as unknown as ScaledObject;
    trimScaledObject(so);
    expect(so.status).toBeUndefined();
  });
});
