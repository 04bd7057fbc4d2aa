import {
  depthAttributes,
  parseSqsTriggerMetadata,
  queueDepth,
} from './sqsTrigger';

const URL = 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders.fifo';

describe('parseSqsTriggerMetadata', () => {
  it('applies KEDA defaults and names the metric s<index>-aws-sqs-<normalised queue>', () => {
    const meta = parseSqsTriggerMetadata(
      { queueURL: URL, awsRegion: 'eu-west-1' },
      2,
    );
    expect(meta).toMatchObject({
      queueName: 'orders.fifo',
      queueLength: 5,
      activationQueueLength: 0,
      scaleOnInFlight: true,
      scaleOnDelayed: false,
      metricName: 's2-aws-sqs-orders-fifo',
    });
    expect(depthAttributes(meta)).toEqual([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    ]);
  });

  it('sums the attributes selected by scaleOnInFlight and scaleOnDelayed', () => {
    const attributes = {
      ApproximateNumberOfMessages: '7',
      ApproximateNumberOfMessagesNotVisible: '2',
      ApproximateNumberOfMessagesDelayed: '4',
    };
    const visibleOnly = parseSqsTriggerMetadata(
      { queueURL: URL, awsRegion: 'eu-west-1', scaleOnInFlight: 'false' },
      0,
    );
    expect(queueDepth(visibleOnly, attributes)).toBe(7);
    const all = parseSqsTriggerMetadata(
      { queueURL: URL, awsRegion: 'eu-west-1', scaleOnDelayed: 'true' },
      0,
    );
    expect(queueDepth(all, attributes)).toBe(13);
  });

  it('reads queueURLFromEnv from the scale target container', () => {
    const meta = parseSqsTriggerMetadata(
      { queueURLFromEnv: 'QUEUE_URL', awsRegion: 'eu-west-1' },
      0,
      { QUEUE_URL: URL },
    );
    expect(meta.queueUrl).toBe(URL);
  });

  it.each`
    metadata                                                                              | error
    ${{ awsRegion: 'eu-west-1' }}                                                         | ${'missing required parameter "queueURL"'}
    ${{ queueURL: URL }}                                                                  | ${'missing required parameter "awsRegion"'}
    ${{ queueURL: 'https://sqs.eu-west-1.amazonaws.com/orders', awsRegion: 'eu-west-1' }} | ${'cannot get queueName from queueURL'}
    ${{ queueURL: URL, awsRegion: 'eu-west-1', queueLength: '2.5' }}                      | ${'error parsing queueLength'}
    ${{ queueURL: URL, awsRegion: 'eu-west-1', scaleOnInFlight: 'maybe' }}                | ${'error parsing scaleOnInFlight'}
  `('rejects $metadata naming the field', ({ metadata, error }) => {
    expect(() => parseSqsTriggerMetadata(metadata, 0)).toThrow(error);
  });
});
