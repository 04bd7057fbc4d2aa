import { InputError } from '@backstage/errors';
import {
  parseQueueUrl,
  iamRegionForPartition,
  partitionForRegion,
  QueueUrlError,
  QueueUrlField,
  SqsHostForm,
  sqsEndpoint,
} from './queueUrl';

describe('parseQueueUrl', () => {
  describe.each<{
    form: string;
    url: string;
    accountId: string;
    region: string;
    partition: string;
    queueName: string;
    fifo: boolean;
    arn: string;
    canonical: string;
    hostForm: SqsHostForm;
    endpoint?: string;
  }>([
    {
      form: 'standard',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'eu-west-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:eu-west-1:222222222222:orders',
      canonical: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      hostForm: 'standard',
    },
    {
      form: 'standard FIFO',
      url: 'https://sqs.us-east-2.amazonaws.com/123456789012/payments_v2.fifo',
      accountId: '123456789012',
      region: 'us-east-2',
      partition: 'aws',
      queueName: 'payments_v2.fifo',
      fifo: true,
      arn: 'arn:aws:sqs:us-east-2:123456789012:payments_v2.fifo',
      canonical:
        'https://sqs.us-east-2.amazonaws.com/123456789012/payments_v2.fifo',
      hostForm: 'standard',
    },
    {
      form: 'China',
      url: 'https://sqs.cn-north-1.amazonaws.com.cn/333333333333/Orders-CN',
      accountId: '333333333333',
      region: 'cn-north-1',
      partition: 'aws-cn',
      queueName: 'Orders-CN',
      fifo: false,
      arn: 'arn:aws-cn:sqs:cn-north-1:333333333333:Orders-CN',
      canonical:
        'https://sqs.cn-north-1.amazonaws.com.cn/333333333333/Orders-CN',
      hostForm: 'standard',
    },
    {
      form: 'GovCloud',
      url: 'https://sqs.us-gov-west-1.amazonaws.com/444444444444/jobs',
      accountId: '444444444444',
      region: 'us-gov-west-1',
      partition: 'aws-us-gov',
      queueName: 'jobs',
      fifo: false,
      arn: 'arn:aws-us-gov:sqs:us-gov-west-1:444444444444:jobs',
      canonical: 'https://sqs.us-gov-west-1.amazonaws.com/444444444444/jobs',
      hostForm: 'standard',
    },
    {
      form: 'dual-stack',
      url: 'https://sqs.ap-southeast-2.api.aws/222222222222/orders',
      accountId: '222222222222',
      region: 'ap-southeast-2',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:ap-southeast-2:222222222222:orders',
      canonical: 'https://sqs.ap-southeast-2.amazonaws.com/222222222222/orders',
      hostForm: 'dual-stack',
      endpoint: 'https://sqs.ap-southeast-2.api.aws',
    },
    {
      form: 'FIPS',
      url: 'https://sqs-fips.us-east-1.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'us-east-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:us-east-1:222222222222:orders',
      canonical: 'https://sqs.us-east-1.amazonaws.com/222222222222/orders',
      hostForm: 'fips',
      endpoint: 'https://sqs-fips.us-east-1.amazonaws.com',
    },
    {
      form: 'FIPS GovCloud',
      url: 'https://sqs-fips.us-gov-east-1.amazonaws.com/444444444444/jobs.fifo',
      accountId: '444444444444',
      region: 'us-gov-east-1',
      partition: 'aws-us-gov',
      queueName: 'jobs.fifo',
      fifo: true,
      arn: 'arn:aws-us-gov:sqs:us-gov-east-1:444444444444:jobs.fifo',
      canonical:
        'https://sqs.us-gov-east-1.amazonaws.com/444444444444/jobs.fifo',
      hostForm: 'fips',
      endpoint: 'https://sqs-fips.us-gov-east-1.amazonaws.com',
    },
    {
      form: 'legacy regional',
      url: 'https://eu-central-1.queue.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'eu-central-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:eu-central-1:222222222222:orders',
      canonical: 'https://sqs.eu-central-1.amazonaws.com/222222222222/orders',
      hostForm: 'legacy',
    },
    {
      form: 'legacy global (us-east-1)',
      url: 'https://queue.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'us-east-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:us-east-1:222222222222:orders',
      canonical: 'https://sqs.us-east-1.amazonaws.com/222222222222/orders',
      hostForm: 'legacy',
    },
    {
      form: 'VPC endpoint',
      url: 'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-west-1.vpce.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'eu-west-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:eu-west-1:222222222222:orders',
      canonical: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      hostForm: 'vpc-endpoint',
      endpoint:
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-west-1.vpce.amazonaws.com',
    },
    {
      form: 'zonal VPC endpoint',
      url: 'https://vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com/222222222222/orders',
      accountId: '222222222222',
      region: 'eu-west-1',
      partition: 'aws',
      queueName: 'orders',
      fifo: false,
      arn: 'arn:aws:sqs:eu-west-1:222222222222:orders',
      canonical: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      hostForm: 'vpc-endpoint',
      endpoint:
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com',
    },
    {
      form: 'upper-case host, surrounding whitespace',
      url: '  https://SQS.EU-WEST-1.AMAZONAWS.COM/222222222222/Orders  ',
      accountId: '222222222222',
      region: 'eu-west-1',
      partition: 'aws',
      queueName: 'Orders',
      fifo: false,
      arn: 'arn:aws:sqs:eu-west-1:222222222222:Orders',
      canonical: 'https://sqs.eu-west-1.amazonaws.com/222222222222/Orders',
      hostForm: 'standard',
    },
    {
      form: 'longest allowed name (80 characters incl. .fifo)',
      url: `https://sqs.eu-west-1.amazonaws.com/222222222222/${'q'.repeat(
        75,
      )}.fifo`,
      accountId: '222222222222',
      region: 'eu-west-1',
      partition: 'aws',
      queueName: `${'q'.repeat(75)}.fifo`,
      fifo: true,
      arn: `arn:aws:sqs:eu-west-1:222222222222:${'q'.repeat(75)}.fifo`,
      canonical: `https://sqs.eu-west-1.amazonaws.com/222222222222/${'q'.repeat(
        75,
      )}.fifo`,
      hostForm: 'standard',
    },
  ])('$form: $url', c => {
    it('yields account, region, partition, name, ARN and the canonical URL', () => {
      const queue = parseQueueUrl(c.url);
      expect(queue).toEqual({
        accountId: c.accountId,
        region: c.region,
        partition: c.partition,
        queueName: c.queueName,
        fifo: c.fifo,
        arn: c.arn,
        url: c.canonical,
        hostForm: c.hostForm,
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      });
    });

    it('is idempotent on its own canonical URL', () => {
      const canonical = parseQueueUrl(c.canonical);
      expect(canonical.url).toBe(c.canonical);
      expect(canonical.arn).toBe(c.arn);
      expect(canonical.hostForm).toBe('standard');
      expect(canonical.endpoint).toBeUndefined();
    });
  });

  it.each<{ why: string; url: string; field: QueueUrlField; says: RegExp }>([
    { why: 'empty', url: '', field: 'url', says: /empty/ },
    { why: 'not a URL', url: 'orders', field: 'url', says: /not a URL/ },
    {
      why: 'http scheme',
      url: 'http://sqs.eu-west-1.amazonaws.com/222222222222/orders',
      field: 'scheme',
      says: /must use https, got "http"/,
    },
    {
      why: 'an ARN instead of a URL',
      url: 'arn:aws:sqs:eu-west-1:222222222222:orders',
      field: 'scheme',
      says: /must use https/,
    },
    {
      why: 'a port',
      url: 'https://sqs.eu-west-1.amazonaws.com:8443/222222222222/orders',
      field: 'host',
      says: /port/,
    },
    {
      why: 'credentials',
      url: 'https://user:pw@sqs.eu-west-1.amazonaws.com/222222222222/orders',
      field: 'host',
      says: /credentials/,
    },
    // The WHATWG parser would quietly accept each of these as the real URL
    // (bad-input corpus, #16): what was typed must already be the URL.
    {
      why: 'an empty user info',
      url: 'https://:@sqs.eu-west-1.amazonaws.com/222222222222/orders',
      field: 'host',
      says: /credentials/,
    },
    {
      why: 'the default port spelled out',
      url: 'https://sqs.eu-west-1.amazonaws.com:443/222222222222/orders',
      field: 'host',
      says: /port/,
    },
    {
      why: 'a full-width look-alike host',
      url: 'https://\uff53\uff51\uff53.eu-west-1.amazonaws.com/222222222222/orders',
      field: 'url',
      says: /plain ASCII.*U\+FF53/,
    },
    {
      why: 'a zero-width space in the host',
      url: 'https://sqs.eu-west-1.amazon\u200baws.com/222222222222/orders',
      field: 'url',
      says: /U\+200B/,
    },
    {
      why: 'a newline inside the queue name',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/ord\ners',
      field: 'url',
      says: /control characters.*U\+000A/,
    },
    {
      why: 'a host label longer than DNS allows',
      url: `https://vpce-${'v'.repeat(
        300,
      )}.sqs.eu-west-1.vpce.amazonaws.com/222222222222/orders`,
      field: 'host',
      says: /not a DNS name: at most 253 characters, 63 per label/,
    },
    {
      why: 'a tab inside the host',
      url: 'https://sqs.eu-west-1.amazon\taws.com/222222222222/orders',
      field: 'url',
      says: /U\+0009/,
    },
    {
      why: 'a non-SQS host',
      url: 'https://sns.eu-west-1.amazonaws.com/222222222222/orders',
      field: 'host',
      says: /not an SQS endpoint/,
    },
    {
      why: 'a local stand-in host',
      url: 'https://localhost/222222222222/orders',
      field: 'host',
      says: /not an SQS endpoint/,
    },
    {
      why: 'a look-alike domain',
      url: 'https://sqs.eu-west-1.amazonaws.com.evil.example/222222222222/orders',
      field: 'host',
      says: /not an SQS endpoint/,
    },
    {
      why: 'a made-up region',
      url: 'https://sqs.europe.amazonaws.com/222222222222/orders',
      field: 'region',
      says: /"europe".*not an AWS region/,
    },
    {
      why: 'a China region under amazonaws.com',
      url: 'https://sqs.cn-north-1.amazonaws.com/333333333333/orders',
      field: 'host',
      says: /sqs\.cn-north-1\.amazonaws\.com\.cn/,
    },
    {
      why: 'a non-China region under amazonaws.com.cn',
      url: 'https://sqs.eu-west-1.amazonaws.com.cn/222222222222/orders',
      field: 'host',
      says: /not a China region/,
    },
    {
      why: 'the legacy form with a GovCloud region',
      url: 'https://us-gov-west-1.queue.amazonaws.com/444444444444/jobs',
      field: 'host',
      says: /only in the aws partition/,
    },
    {
      why: 'no path',
      url: 'https://sqs.eu-west-1.amazonaws.com/',
      field: 'path',
      says: /exactly \/<12-digit account id>\/<queue name>/,
    },
    {
      why: 'only an account',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222',
      field: 'path',
      says: /exactly/,
    },
    {
      why: 'a trailing slash',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders/',
      field: 'path',
      says: /exactly/,
    },
    {
      why: 'an extra segment',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders/extra',
      field: 'path',
      says: /exactly/,
    },
    {
      why: 'a query string',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders?Action=GetQueueAttributes',
      field: 'path',
      says: /query string/,
    },
    {
      why: 'an 11-digit account',
      url: 'https://sqs.eu-west-1.amazonaws.com/22222222222/orders',
      field: 'accountId',
      says: /"22222222222".*12-digit/,
    },
    {
      why: 'an account alias',
      url: 'https://sqs.eu-west-1.amazonaws.com/payments-prod/orders',
      field: 'accountId',
      says: /12-digit/,
    },
    {
      why: 'an empty queue name',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222//',
      field: 'path',
      says: /exactly/,
    },
    {
      why: 'a dot in a standard queue name',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders.v2',
      field: 'queueName',
      says: /"orders.v2" is not a valid SQS queue name/,
    },
    {
      why: 'a space in the name',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/my%20orders',
      field: 'queueName',
      says: /"my orders"/,
    },
    {
      why: 'only the FIFO suffix',
      url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/.fifo',
      field: 'queueName',
      says: /not a valid/,
    },
    {
      why: '81 characters',
      url: `https://sqs.eu-west-1.amazonaws.com/222222222222/${'q'.repeat(
        76,
      )}.fifo`,
      field: 'queueName',
      says: /up to 80/,
    },
  ])('rejects $why', ({ url, field, says }) => {
    let error: unknown;
    try {
      parseQueueUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueueUrlError);
    expect(error).toBeInstanceOf(InputError);
    expect((error as QueueUrlError).field).toBe(field);
    expect((error as Error).message).toMatch(says);
  });
});

describe('partitionForRegion / sqsEndpoint', () => {
  it.each([
    ['eu-west-1', 'aws', 'https://sqs.eu-west-1.amazonaws.com'],
    ['us-gov-west-1', 'aws-us-gov', 'https://sqs.us-gov-west-1.amazonaws.com'],
    ['cn-northwest-1', 'aws-cn', 'https://sqs.cn-northwest-1.amazonaws.com.cn'],
  ])('%s is in %s at %s', (region, partition, endpoint) => {
    expect(partitionForRegion(region)).toBe(partition);
    expect(sqsEndpoint(region)).toBe(endpoint);
  });
});

describe('iamRegionForPartition', () => {
  it.each([
    ['aws', 'us-east-1'],
    ['aws-us-gov', 'us-gov-west-1'],
    ['aws-cn', 'cn-north-1'],
  ] as const)('signs IAM calls in %s for %s', (partition, region) => {
    expect(iamRegionForPartition(partition)).toBe(region);
  });

  it.each(['eu-west-1', 'us-gov-east-1', 'cn-northwest-1'])(
    'maps %s through its partition to a region of that partition',
    region => {
      const partition = partitionForRegion(region);
      expect(partitionForRegion(iamRegionForPartition(partition))).toBe(
        partition,
      );
    },
  );
});
