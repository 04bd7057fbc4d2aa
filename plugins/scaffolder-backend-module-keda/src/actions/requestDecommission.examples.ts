import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Record that the autoscaling of request req-0001 (the one the template removed) is gone',
    example: yaml.stringify({
      steps: [
        {
          id: 'decommissioned',
          action: 'keda:request:decommission',
          name: 'Record the decommission',
          input: {
            requestId: 'req-0001',
            entityRef: 'component:default/orders-worker',
            comment:
              'Manifests removed in platform/gitops#12, scaler role deleted',
          },
        },
      ],
    }),
  },
  {
    description:
      'Record that the autoscaling of orders-worker was removed, by workload (earlier form)',
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
