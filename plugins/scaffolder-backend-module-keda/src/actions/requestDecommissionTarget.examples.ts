import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Find the request to remove from the component and the id the KedaRequestPicker field chose',
    example: yaml.stringify({
      steps: [
        {
          id: 'target',
          action: 'keda:request:decommission-target',
          name: 'Find the autoscaling to remove',
          input: {
            entityRef: 'component:default/orders-worker',
            requestId: 'req-0001',
          },
        },
      ],
    }),
  },
  {
    description:
      "Without an id: the component's only current request (the queue URL, if still passed, must match it)",
    example: yaml.stringify({
      steps: [
        {
          id: 'target',
          action: 'keda:request:decommission-target',
          name: 'Find the autoscaling to remove',
          input: {
            entityRef: 'component:default/orders-worker',
            queueUrl:
              'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
          },
        },
      ],
    }),
  },
];
