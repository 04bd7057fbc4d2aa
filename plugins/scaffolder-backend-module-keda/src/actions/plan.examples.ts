import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Plan autoscaling of orders-worker on cluster demo-eks on the depth of a queue in account 222222222222',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'keda:plan',
          name: 'Plan KEDA autoscaling',
          input: {
            request: {
              entityRef: 'component:default/orders-worker',
              cluster: 'demo-eks',
              namespace: 'orders',
              workload: { kind: 'Deployment', name: 'orders-worker' },
              kubernetesId: 'orders-worker',
              queueUrl:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
              minReplicas: 0,
              maxReplicas: 10,
              queueLength: 5,
            },
          },
        },
      ],
    }),
  },
  {
    description:
      'Re-plan a stored request with its ExternalId pinned, with the advanced options and the legacy aws-eks provider',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'keda:plan',
          name: 'Plan KEDA autoscaling (legacy provider)',
          input: {
            externalId: '5d41402abc4b2a76b9719d911017c592',
            request: {
              entityRef: 'component:default/billing-worker',
              cluster: 'demo-eks',
              namespace: 'billing',
              workload: { kind: 'StatefulSet', name: 'billing-worker' },
              kubernetesId: 'billing-worker',
              queueUrl:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/billing-queue',
              minReplicas: 1,
              maxReplicas: 30,
              queueLength: 10,
              activationQueueLength: 2,
              pollingInterval: 15,
              cooldownPeriod: 120,
              scaleOnInFlight: false,
              scaleOnDelayed: true,
              providerMode: 'aws-eks',
              serviceAccountName: 'billing-worker',
            },
          },
        },
      ],
    }),
  },
  {
    description:
      'Locate the manifests and the scaler role of a workload for decommission, without asking the keda backend',
    example: yaml.stringify({
      steps: [
        {
          id: 'plan',
          action: 'keda:plan',
          name: 'Locate manifests and role',
          input: {
            locateOnly: true,
            request: {
              entityRef: 'component:default/orders-worker',
              cluster: 'demo-eks',
              namespace: 'orders',
              workload: { name: 'orders-worker' },
              kubernetesId: 'orders-worker',
              queueUrl:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
              maxReplicas: 1,
            },
          },
        },
      ],
    }),
  },
];
