import type { TemplateExample } from '@backstage/plugin-scaffolder-node';
import yaml from 'yaml';

export const examples: TemplateExample[] = [
  {
    description: 'Report the provisioned scaler role',
    example: yaml.stringify({
      steps: [
        {
          id: 'done',
          action: 'keda:request:progress',
          name: 'Report provisioned',
          input: {
            id: 'req-0042',
            state: 'provisioned',
            roleArns: {
              scaler:
                'arn:aws:iam::222222222222:role/keda/keda-sqs-demo-eks-orders-orders-worker',
            },
            verification: '${{ steps.scalerRole.output.verification }}',
          },
        },
      ],
    }),
  },
  {
    description: 'Report a failed provisioning',
    example: yaml.stringify({
      steps: [
        {
          id: 'failed',
          action: 'keda:request:progress',
          name: 'Report failure',
          input: {
            id: 'req-0042',
            state: 'failed',
            error: 'AWS denied iam:CreateRole',
          },
        },
      ],
    }),
  },
];
