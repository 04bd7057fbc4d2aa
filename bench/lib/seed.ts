/*
 * Seeds ScaledObjects through the Kubernetes API of the stand-ins (directly,
 * not through the counting proxies): for each one its Deployment, the HPA
 * KEDA would own (`keda-hpa-<name>`) and a realistic status on all three.
 */
import type { StandInCluster } from './processes';
import { BENCH_ENTITY_NAME } from './config';

/** ScaledObjects per namespace: keeps the stand-in's per-namespace admission checks small. */
const PER_NAMESPACE = 100;
/** ScaledObjects of the bench entity (the rest belong to other entities). */
export const BENCH_SCALED_OBJECTS = 10;
const CONCURRENCY = 24;

export interface SeededObject {
  cluster: StandInCluster;
  namespace: string;
  name: string;
  entity: string;
}

export class KubeClient {
  constructor(private readonly token: string) {}

  async request(
    cluster: StandInCluster,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<any> {
    const response = await fetch(`${cluster.directUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'content-type':
          method === 'PATCH'
            ? 'application/merge-patch+json'
            : 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `${method} ${cluster.name}${path}: ${response.status} ${text.slice(
          0,
          300,
        )}`,
      );
    }
    return text ? JSON.parse(text) : undefined;
  }
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** The plan: N objects round-robin over the clusters; the bench entity's come last. */
export function planObjects(
  total: number,
  clusters: StandInCluster[],
): SeededObject[] {
  const others = Math.max(0, total - BENCH_SCALED_OBJECTS);
  const objects: SeededObject[] = [];
  for (let i = 0; i < others; i++) {
    const entity = `svc-${Math.floor(i / 10)}`;
    objects.push({
      cluster: clusters[i % clusters.length],
      namespace: `team-${Math.floor(i / (PER_NAMESPACE * clusters.length))}`,
      name: `${entity}-w${i}`,
      entity,
    });
  }
  for (let i = 0; i < Math.min(total, BENCH_SCALED_OBJECTS); i++) {
    objects.push({
      cluster: clusters[i % clusters.length],
      namespace: BENCH_ENTITY_NAME,
      name: `${BENCH_ENTITY_NAME}-w${i}`,
      entity: BENCH_ENTITY_NAME,
    });
  }
  return objects;
}

const metricName = (name: string) => `s0-aws-sqs-queue-${name}`;

/** KEDA's status for a ready, active ScaledObject; `message` marks the Ready condition. */
export function scaledObjectStatus(
  name: string,
  message = 'ScaledObject is defined correctly and is ready for scaling',
) {
  return {
    conditions: [
      { type: 'Ready', status: 'True', reason: 'ScaledObjectReady', message },
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
      {
        type: 'Paused',
        status: 'False',
        reason: 'ScaledObjectUnpaused',
        message: 'pause annotation removed for ScaledObject',
      },
    ],
    hpaName: `keda-hpa-${name}`,
    externalMetricNames: [metricName(name)],
    health: {
      [metricName(name)]: { numberOfFailures: 0, status: 'Happy' },
    },
    originalReplicaCount: 1,
    lastActiveTime: new Date().toISOString(),
    scaleTargetKind: 'apps/v1.Deployment',
    scaleTargetGVKR: {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      resource: 'deployments',
    },
  };
}

async function seedOne(kube: KubeClient, o: SeededObject) {
  const { cluster, namespace, name, entity } = o;
  const labels = { 'backstage.io/kubernetes-id': entity };
  const apps = `/apis/apps/v1/namespaces/${namespace}/deployments`;
  await kube.request(cluster, 'POST', apps, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...labels } },
        spec: { containers: [{ name: 'worker', image: `${entity}:1` }] },
      },
    },
  });
  await kube.request(cluster, 'PATCH', `${apps}/${name}/status`, {
    status: {
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    },
  });
  const keda = `/apis/keda.sh/v1alpha1/namespaces/${namespace}/scaledobjects`;
  const so = await kube.request(cluster, 'POST', keda, {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name, labels },
    spec: {
      scaleTargetRef: { name },
      minReplicaCount: 0,
      maxReplicaCount: 10,
      triggers: [
        {
          type: 'aws-sqs-queue',
          authenticationRef: { name: 'bench-sqs' },
          metadata: {
            queueURL: `https://sqs.eu-west-1.amazonaws.com/222222222222/${name}`,
            queueLength: '5',
            awsRegion: 'eu-west-1',
          },
        },
      ],
    },
  });
  await kube.request(cluster, 'PATCH', `${keda}/${name}/status`, {
    status: scaledObjectStatus(name),
  });
  const hpas = `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`;
  const hpaName = `keda-hpa-${name}`;
  await kube.request(cluster, 'POST', hpas, {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: hpaName,
      labels: { 'scaledobject.keda.sh/name': name, ...labels },
      ownerReferences: [
        {
          apiVersion: 'keda.sh/v1alpha1',
          kind: 'ScaledObject',
          name,
          uid: so.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: {
      minReplicas: 1,
      maxReplicas: 10,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      metrics: [
        {
          type: 'External',
          external: {
            metric: {
              name: metricName(name),
              selector: {
                matchLabels: { 'scaledobject.keda.sh/name': name },
              },
            },
            target: { type: 'AverageValue', averageValue: '5' },
          },
        },
      ],
    },
  });
  await kube.request(cluster, 'PATCH', `${hpas}/${hpaName}/status`, {
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      lastScaleTime: new Date().toISOString(),
      currentMetrics: [
        {
          type: 'External',
          external: {
            metric: { name: metricName(name) },
            current: { averageValue: '4500m' },
          },
        },
      ],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' },
        { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
        {
          type: 'ScalingLimited',
          status: 'False',
          reason: 'DesiredWithinRange',
        },
      ],
    },
  });
}

/** Namespaces and one TriggerAuthentication per namespace, then the objects. */
export async function seed(
  kube: KubeClient,
  objects: SeededObject[],
): Promise<void> {
  const namespaces = new Map<string, SeededObject>();
  for (const o of objects)
    namespaces.set(`${o.cluster.name}/${o.namespace}`, o);
  await pool([...namespaces.values()], CONCURRENCY, async o => {
    await kube.request(o.cluster, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: o.namespace },
    });
    await kube.request(
      o.cluster,
      'POST',
      `/apis/keda.sh/v1alpha1/namespaces/${o.namespace}/triggerauthentications`,
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'TriggerAuthentication',
        metadata: { name: 'bench-sqs' },
        spec: {
          podIdentity: {
            provider: 'aws',
            roleArn: `arn:aws:iam::222222222222:role/keda/keda-sqs-${o.namespace}`,
          },
        },
      },
    );
  });
  // The bench entity's objects strictly after the others: once they are
  // visible through the watches, everything before them is too.
  const bench = objects.filter(o => o.entity === BENCH_ENTITY_NAME);
  const others = objects.filter(o => o.entity !== BENCH_ENTITY_NAME);
  await pool(others, CONCURRENCY, o => seedOne(kube, o));
  await pool(bench, CONCURRENCY, o => seedOne(kube, o));
}
