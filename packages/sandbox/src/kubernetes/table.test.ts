import { BUILTIN_RESOURCES } from './resources';
import { evaluateJsonPath, toTable } from './table';

const hpaType = BUILTIN_RESOURCES.find(
  t => t.kind === 'HorizontalPodAutoscaler',
)!;

describe('evaluateJsonPath', () => {
  const obj = {
    spec: { triggers: [{ type: 'aws-sqs-queue' }, { type: 'cron' }] },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Active', status: 'False' },
      ],
    },
  };

  it.each`
    path                                                | values
    ${'.spec.triggers[*].type'}                         | ${['aws-sqs-queue', 'cron']}
    ${'.spec.triggers[1].type'}                         | ${['cron']}
    ${'.status.conditions[?(@.type=="Active")].status'} | ${['False']}
    ${'.status.missing'}                                | ${[]}
  `('$path → $values', ({ path, values }) => {
    expect(evaluateJsonPath(obj, path)).toEqual(values);
  });
});

describe('toTable', () => {
  it('prints an HPA like kubectl: reference, targets as current/target (avg)', () => {
    const table = toTable(
      hpaType,
      [
        {
          metadata: {
            name: 'keda-hpa-orders',
            creationTimestamp: new Date().toISOString(),
          },
          spec: {
            scaleTargetRef: { kind: 'Deployment', name: 'orders' },
            minReplicas: 1,
            maxReplicas: 10,
            metrics: [
              { type: 'External', external: { target: { averageValue: '5' } } },
            ],
          },
          status: {
            currentReplicas: 3,
            currentMetrics: [
              { external: { current: { averageValue: '1334m' } } },
            ],
          },
        },
      ],
      'None',
    );
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Reference',
      'Targets',
      'MinPods',
      'MaxPods',
      'Replicas',
      'Age',
    ]);
    expect(table.rows[0].cells.slice(0, 6)).toEqual([
      'keda-hpa-orders',
      'Deployment/orders',
      '1334m/5 (avg)',
      1,
      10,
      3,
    ]);
  });
});
