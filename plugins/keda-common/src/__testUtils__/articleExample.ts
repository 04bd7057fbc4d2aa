// The article's setup: EKS + KEDA in account 111111111111, the queue in
// 222222222222, both in eu-west-1. Shared by the plan tests and the README.
import type {
  KedaClusterSpec,
  KedaGuardrails,
  KedaRolesConfig,
} from '../config';
import type { KedaPlanInput } from '../plan';

export const articleCluster: KedaClusterSpec = {
  name: 'prod-eu',
  accountId: '111111111111',
  region: 'eu-west-1',
  oidcIssuer:
    'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
  kedaVersion: '2.20.2',
  identity: 'irsa',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    // keda-node's default for cluster prod-eu (one operator role per cluster)
    roleName: 'keda-operator-prod-eu',
  },
  gitops: {
    repoUrl: 'github.com?owner=acme&repo=gitops',
    path: 'clusters/{cluster}/{namespace}/{name}',
  },
};

export const articleRoles: KedaRolesConfig = {
  path: '/keda/',
  namePrefix: 'keda-sqs-',
  tags: { 'cost-center': 'platform' },
};

export const articleGuardrails: KedaGuardrails = {
  allowedQueueAccounts: ['222222222222'],
  maxReplicas: 50,
  autoApprove: { maxReplicas: 20, queueAccounts: ['222222222222'] },
};

export const articleInput: KedaPlanInput = {
  request: {
    entityRef: 'component:default/orders-worker',
    cluster: 'prod-eu',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
    minReplicas: 0,
    maxReplicas: 20,
    queueLength: 5,
    requestId: 'req-0001',
  },
  cluster: articleCluster,
  roles: articleRoles,
  guardrails: articleGuardrails,
  // Fixed so the README is reproducible; real plans generate a fresh one.
  externalId: '5d41402abc4b2a76b9719d911017c592',
  requester: 'user:default/jane.doe',
};
