import type {
  HorizontalPodAutoscaler,
  ScaledObject,
  TriggerAuthentication,
} from '../kubernetes/types';
import type { V1Deployment } from '@kubernetes/client-node';

/** Realistic objects as KEDA 2.20 and Kubernetes write them, for tests. */
export const OPERATOR_ROLE = 'arn:aws:iam::111111111111:role/keda-operator';
export const SCALER_ROLE =
  'arn:aws:iam::222222222222:role/keda/keda-sqs-orders';
export const QUEUE_URL =
  'https://sqs.eu-west-1.amazonaws.com/222222222222/orders';

export function scaledObject(
  overrides: Partial<ScaledObject['metadata']> = {},
): ScaledObject {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: 'orders-worker',
      namespace: 'orders',
      labels: { 'backstage.io/kubernetes-id': 'orders-worker' },
      annotations: {
        'keda.backstage.io/request-id': 'req-123',
        'keda.backstage.io/pull-request-url':
          'https://github.com/acme/gitops/pull/7',
      },
      ...overrides,
    },
    spec: {
      scaleTargetRef: { name: 'orders-worker' },
      minReplicaCount: 0,
      maxReplicaCount: 20,
      triggers: [
        {
          type: 'aws-sqs-queue',
          authenticationRef: { name: 'orders-sqs' },
          metadata: {
            queueURL: QUEUE_URL,
            queueLength: '10',
            activationQueueLength: '2',
            awsRegion: 'eu-west-1',
          },
        },
      ],
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'ScaledObjectReady',
          message: 'ScaledObject is defined correctly and is ready for scaling',
        },
        {
          type: 'Active',
          status: 'True',
          reason: 'ScalerActive',
          message: 'Scaling is performed because triggers are active',
        },
        {
          type: 'Fallback',
          status: 'False',
          reason: 'NoFallbackFound',
          message: 'No fallbacks are active on this scaled object',
        },
        { type: 'Paused', status: 'False' },
      ],
      hpaName: 'keda-hpa-orders-worker',
      externalMetricNames: ['s0-aws-sqs-orders'],
      lastActiveTime: '2026-11-28T05:59:00Z',
      originalReplicaCount: 1,
      health: { 's0-aws-sqs-orders': { numberOfFailures: 0, status: 'Happy' } },
      scaleTargetKind: 'apps/v1.Deployment',
    },
  };
}

export function hpa(
  averageValue = '1334m',
  replicas = 3,
): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: 'keda-hpa-orders-worker',
      namespace: 'orders',
      labels: { 'scaledobject.keda.sh/name': 'orders-worker' },
    },
    spec: {
      minReplicas: 1,
      maxReplicas: 20,
      scaleTargetRef: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'orders-worker',
      },
    },
    status: {
      currentReplicas: replicas,
      desiredReplicas: replicas,
      lastScaleTime: '2026-11-28T05:58:00Z' as any,
      currentMetrics: [
        {
          type: 'External',
          external: {
            metric: { name: 's0-aws-sqs-orders' },
            current: { averageValue: averageValue as any },
          },
        },
      ],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' },
        { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
      ],
    },
  };
}

export function deployment(
  replicas = 3,
  specReplicas = replicas,
): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'orders-worker', namespace: 'orders' },
    spec: {
      replicas: specReplicas,
      selector: { matchLabels: { app: 'orders-worker' } },
      template: { metadata: { labels: { app: 'orders-worker' } } },
    },
    status: { replicas, readyReplicas: replicas },
  };
}

export function triggerAuthentication(
  podIdentity: NonNullable<TriggerAuthentication['spec']['podIdentity']> = {
    provider: 'aws',
    roleArn: SCALER_ROLE,
    externalID: 'ext-123',
  },
): TriggerAuthentication {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name: 'orders-sqs', namespace: 'orders' },
    spec: { podIdentity },
  };
}
