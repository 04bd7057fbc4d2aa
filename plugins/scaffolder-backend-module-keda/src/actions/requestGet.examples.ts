import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Load the approved request the provisioning template was started for',
    example: yaml.stringify({
      steps: [
        {
          id: 'load',
          action: 'keda:request:get',
          name: 'Load the request',
          input: { id: 'req-0042' },
        },
      ],
    }),
  },
];
