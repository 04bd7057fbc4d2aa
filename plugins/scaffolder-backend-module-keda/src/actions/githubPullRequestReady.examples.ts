import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description:
      'Mark the approved request pull request ready for review, with a comment',
    example: yaml.stringify({
      steps: [
        {
          id: 'ready',
          action: 'keda:github:pull-request:ready',
          name: 'Pull request ready for review',
          input: {
            repoUrl: 'github.com?owner=platform&repo=gitops',
            pullRequestNumber: 1,
            comment:
              'Approved by user:default/priya; the scaler role exists. Ready to merge.',
          },
        },
      ],
    }),
  },
];
