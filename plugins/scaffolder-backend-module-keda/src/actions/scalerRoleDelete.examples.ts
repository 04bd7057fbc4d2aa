import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Delete the scaler role of orders-worker after its manifests were removed',
    example: yaml.stringify({
      steps: [
        {
          id: 'delete-role',
          action: 'keda:aws:scaler-role:delete',
          name: 'Delete the scaler role',
          input: {
            cluster: 'demo-eks',
            namespace: 'orders',
            workloadName: 'orders-worker',
            queueUrl:
              'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
          },
        },
      ],
    }),
  },
];
