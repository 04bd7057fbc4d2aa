import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Onboard cluster demo-eks: operator role plus Helm values for the GitOps pull request',
    example: yaml.stringify({
      steps: [
        {
          id: 'operator',
          action: 'keda:aws:operator-role:ensure',
          name: 'KEDA operator role',
          input: {
            cluster: 'demo-eks',
            valuesPath: 'gitops/clusters/demo-eks/keda/values.yaml',
          },
        },
      ],
    }),
  },
];
