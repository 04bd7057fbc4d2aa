import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "Provision the scaler role in the requester's own run when the plan is auto-approved",
    example: yaml.stringify({
      steps: [
        {
          id: 'provision',
          action: 'keda:aws:scaler-role:ensure',
          name: 'Create the scaler role',
          if: '${{ steps.plan.output.autoApproved }}',
          input: {
            autoApproved: true,
            externalId: '0123456789abcdef0123456789abcdef',
            request: {
              entityRef: 'component:default/orders-worker',
              cluster: 'demo-eks',
              namespace: 'orders',
              workload: { name: 'orders-worker' },
              kubernetesId: 'orders-worker',
              queueUrl:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
              maxReplicas: 10,
            },
          },
        },
      ],
    }),
  },
  {
    description:
      'Provision after approval (platform template): the stored request and ExternalId, on behalf of the requester',
    example: yaml.stringify({
      steps: [
        {
          id: 'provision',
          action: 'keda:aws:scaler-role:ensure',
          name: 'Create the scaler role',
          input: {
            externalId: 'fedcba9876543210fedcba9876543210',
            requester: 'user:default/dana',
            request: {
              entityRef: 'component:default/orders-worker',
              cluster: 'demo-eks',
              namespace: 'orders',
              workload: { name: 'orders-worker' },
              kubernetesId: 'orders-worker',
              queueUrl:
                'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
              maxReplicas: 40,
              requestId: 'req-0042',
            },
          },
        },
      ],
    }),
  },
];
