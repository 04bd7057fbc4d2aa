import { render, screen } from '@testing-library/react';
import type { KedaTriggerStatus } from '@keda-self-service/plugin-keda-common';
import { depthText, TriggerTable } from './TriggerTable';

const sqs: KedaTriggerStatus = {
  type: 'aws-sqs-queue',
  queueName: 'orders',
  accountId: '222222222222',
  region: 'eu-west-1',
  targetPerReplica: 5,
  activationThreshold: 0,
};

describe('TriggerTable', () => {
  it('shows a drained queue KEDA read as 0 while scaled to zero', () => {
    render(
      <TriggerTable
        triggers={[{ ...sqs, idle: true, estimatedQueueDepth: 0 }]}
      />,
    );
    expect(screen.getByText('0 (idle: scaled to zero)')).toBeInTheDocument();
  });

  it('says no more than KEDA knows about an idle queue', () => {
    expect(depthText({ ...sqs, idle: true, activationThreshold: 3 })).toBe(
      '≤ 3 (idle: scaled to zero)',
    );
    expect(
      depthText({ type: 'cron', idle: true, activationThreshold: undefined }),
    ).toBe('below activation (idle: scaled to zero)');
  });

  it('estimates the depth while running and admits when it is unknown', () => {
    expect(depthText({ ...sqs, estimatedQueueDepth: 42 })).toBe('≈ 42');
    expect(depthText(sqs)).toBe('unknown');
    expect(depthText({ ...sqs, numberOfFailures: 2 })).toBe(
      'unknown (2 failed reads)',
    );
  });
});
