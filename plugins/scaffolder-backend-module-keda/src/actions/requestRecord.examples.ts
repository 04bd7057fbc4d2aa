import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Record the request with the pull request the publish step opened',
    example: yaml.stringify({
      steps: [
        {
          id: 'record',
          action: 'keda:request:record',
          name: 'Record the request',
          input: {
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
            externalId: '0123456789abcdef0123456789abcdef',
            pullRequest: {
              url: 'https://github.com/platform/gitops/pull/7',
              number: 7,
              repoUrl: 'github.com?owner=platform&repo=gitops',
            },
          },
        },
      ],
    }),
  },
];
