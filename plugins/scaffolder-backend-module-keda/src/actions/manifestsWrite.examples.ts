import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      "Write the plan step's files under gitops/ for the pull request",
    example: yaml.stringify({
      steps: [
        {
          id: 'write',
          action: 'keda:manifests:write',
          name: 'Write manifests',
          input: {
            targetPath: 'gitops',
            manifests: [
              {
                path: 'clusters/demo-eks/orders/orders-worker/kustomization.yaml',
                content:
                  'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n',
              },
              {
                path: 'clusters/demo-eks/orders/orders-worker/iam-plan.json',
                content: '{}\n',
              },
            ],
          },
        },
      ],
    }),
  },
];
