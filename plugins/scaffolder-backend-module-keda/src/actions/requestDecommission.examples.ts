import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Record that the autoscaling of orders-worker was removed',
    example: yaml.stringify({
      steps: [
        {
          id: 'decommissioned',
          action: 'keda:request:decommission',
          name: 'Record the decommission',
          input: {
            entityRef: 'component:default/orders-worker',
            cluster: 'demo-eks',
            namespace: 'orders',
            workloadName: 'orders-worker',
            comment:
              'Manifests removed in platform/gitops#12, scaler role deleted',
          },
        },
      ],
    }),
  },
];
