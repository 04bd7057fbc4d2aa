import { ConfigReader } from '@backstage/config';
import {
  kedaWorkloadKey,
  plan,
  type KedaRequestInput,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  KedaClusterService,
  readKedaConfig,
  type KedaAwsClientFactory,
  type KedaConfig,
} from '@keda-self-service/plugin-keda-node';
import type { NewKedaRequest } from '../KedaRequestStore';

// The article's setup: EKS in 111111111111, queues in 222222222222
// (auto-approved up to 10 replicas) and 333333333333 (always reviewed).
export const APPROVER_GROUP = 'group:default/platform-team';

export const testConfigData = {
  keda: {
    clusters: [
      {
        name: 'prod-eu',
        url: 'https://127.0.0.1:6443',
        serviceAccountToken: 'unused',
        accountId: '111111111111',
        region: 'eu-west-1',
        oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
        kedaVersion: '2.20.2',
        gitops: {
          repoUrl: 'github.com?owner=acme&repo=gitops',
          path: 'clusters/{cluster}/{namespace}/{name}',
        },
      },
    ],
    roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
    guardrails: {
      allowedQueueAccounts: ['222222222222', '333333333333'],
      maxReplicas: 50,
      autoApprove: { maxReplicas: 10, queueAccounts: ['222222222222'] },
      allowedSqsEndpoints: ['https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com'],
    },
    approvals: { approverGroups: [APPROVER_GROUP] },
  },
};

export const testKedaConfig = readKedaConfig(new ConfigReader(testConfigData));

/**
 * keda-node's cluster service over `keda`, as the plugin wires it. Without
 * `aws` the world has no AWS: its clusters configure their OIDC issuer.
 */
export function testClusterService(
  keda: KedaConfig = testKedaConfig,
  aws?: KedaAwsClientFactory,
): KedaClusterService {
  return new KedaClusterService({
    keda: () => keda,
    aws: () => {
      if (aws) return aws;
      throw new Error(
        'This test world has no AWS: configure keda.clusters[].oidcIssuer',
      );
    },
  });
}

/** A request that needs approval (maxReplicas above the auto-approve 10). */
export function ordersRequest(
  overrides: Partial<KedaRequestInput> = {},
): KedaRequestInput {
  return {
    entityRef: 'component:default/orders-worker',
    cluster: 'prod-eu',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    minReplicas: 0,
    maxReplicas: 20,
    ...overrides,
  };
}

export const EXTERNAL_ID = '5d41402abc4b2a76b9719d911017c592';

/** A workload key of its own, for tests that store several requests. */
export const ownWorkload = (id: string) => ({
  workloadKey: `prod-eu/shop/Deployment/${id}`,
});

/** A store row for `ordersRequest`, planned with the test config. */
export function newOrdersRequest(
  id: string,
  overrides: Partial<NewKedaRequest> = {},
): NewKedaRequest {
  const request = ordersRequest({ requestId: id });
  const kedaPlan = plan({
    request,
    cluster: clusterSpecOf(testKedaConfig.clusters[0]),
    roles: testKedaConfig.roles,
    guardrails: testKedaConfig.guardrails,
    externalId: EXTERNAL_ID,
    requester: 'user:default/jane.doe',
  });
  return {
    id,
    entityRef: 'component:default/orders-worker',
    requester: 'user:default/jane.doe',
    owner: 'group:default/team-orders',
    cluster: 'prod-eu',
    queueUrl: kedaPlan.queue.url,
    state: 'pending',
    autoApproved: false,
    approvalReasons: kedaPlan.guardrails.reasons.map(r => r.message),
    plan: kedaPlan,
    workloadKey: kedaWorkloadKey(kedaPlan.request),
    externalId: EXTERNAL_ID,
    ...overrides,
  };
}
