import { InputError } from '@backstage/errors';

/**
 * AWS partitions in which SQS and EKS both exist and IAM role chaining across
 * accounts works. ISO partitions are out of scope.
 * @public
 */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

/**
 * How the queue URL addressed SQS. Everything except `standard` and `legacy`
 * needs the original host as KEDA's `awsEndpoint` to keep reaching the same
 * endpoint (FIPS, dual-stack, VPC endpoint).
 * @public
 */
export type SqsHostForm =
  | 'standard'
  | 'legacy'
  | 'dual-stack'
  | 'fips'
  | 'vpc-endpoint';

/**
 * An SQS queue identified from its URL.
 * @public
 */
export interface SqsQueue {
  accountId: string;
  region: string;
  partition: AwsPartition;
  queueName: string;
  fifo: boolean;
  /** `arn:<partition>:sqs:<region>:<account>:<queueName>` */
  arn: string;
  /** Canonical URL: `https://sqs.<region>.amazonaws.com[.cn]/<account>/<name>`. */
  url: string;
  hostForm: SqsHostForm;
  /**
   * `https://<host>` of the URL that was parsed when it is not the canonical
   * regional endpoint (FIPS, dual-stack, VPC endpoint); undefined otherwise.
   */
  endpoint?: string;
}

/**
 * The part of a queue URL that was wrong.
 * @public
 */
export type QueueUrlField =
  | 'url'
  | 'scheme'
  | 'host'
  | 'region'
  | 'path'
  | 'accountId'
  | 'queueName';

/**
 * A queue URL could not be understood. `field` names the part that is wrong;
 * the message says what a valid value looks like.
 * @public
 */
export class QueueUrlError extends InputError {
  readonly field: QueueUrlField;

  constructor(field: QueueUrlField, message: string) {
    super(message);
    this.field = field;
  }
}

const EXAMPLE_URL = 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders';

// Region names of the three supported partitions: `eu-west-1`,
// `us-gov-west-1`, `cn-northwest-1`, `ap-southeast-5`, `mx-central-1`.
const REGION_PATTERN = /^(?:us-gov|[a-z]{2})-[a-z]+-\d{1,2}$/;
const ACCOUNT_ID_PATTERN = /^\d{12}$/;
// SQS: up to 80 characters of letters, digits, `-` and `_`; a FIFO queue's
// name must end in `.fifo`, and the suffix counts toward the 80 characters.
const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]+(\.fifo)?$/;
const QUEUE_NAME_MAX = 80;

/**
 * The partition a region belongs to.
 * @public
 */
export function partitionForRegion(region: string): AwsPartition {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

const IAM_REGIONS: Record<AwsPartition, string> = {
  aws: 'us-east-1',
  'aws-us-gov': 'us-gov-west-1',
  'aws-cn': 'cn-north-1',
};

/**
 * The region of a partition's global IAM endpoint: `us-east-1` (aws),
 * `us-gov-west-1` (aws-us-gov), `cn-north-1` (aws-cn). IAM is global per
 * partition; an IAM client (and an STS client meant for the partition's
 * global endpoint) must sign for this region, or IAM rejects the request.
 * @public
 */
export function iamRegionForPartition(partition: AwsPartition): string {
  return IAM_REGIONS[partition];
}

/**
 * `amazonaws.com` or `amazonaws.com.cn`: the DNS suffix of a partition.
 * @public
 */
export function dnsSuffixForPartition(partition: AwsPartition): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * The canonical regional SQS endpoint, e.g. `https://sqs.eu-west-1.amazonaws.com`.
 * @public
 */
export function sqsEndpoint(region: string): string {
  return `https://sqs.${region}.${dnsSuffixForPartition(
    partitionForRegion(region),
  )}`;
}

/**
 * `arn:<partition>:sqs:<region>:<account>:<queueName>`.
 * @public
 */
export function sqsQueueArn(
  region: string,
  accountId: string,
  queueName: string,
): string {
  return `arn:${partitionForRegion(
    region,
  )}:sqs:${region}:${accountId}:${queueName}`;
}

interface HostMatch {
  region: string;
  hostForm: SqsHostForm;
  /** the DNS suffix the host used; must agree with the region's partition */
  suffix?: string;
}

// One entry per host form listed in the domain notes. Order matters only for
// readability: the patterns are mutually exclusive.
const HOST_FORMS: Array<{
  pattern: RegExp;
  hostForm: SqsHostForm;
}> = [
  {
    pattern: /^sqs\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)$/,
    hostForm: 'standard',
  },
  { pattern: /^sqs\.([a-z0-9-]+)\.(api\.aws)$/, hostForm: 'dual-stack' },
  {
    pattern: /^sqs-fips\.([a-z0-9-]+)\.(amazonaws\.com|api\.aws)$/,
    hostForm: 'fips',
  },
  {
    pattern:
      /^vpce-[a-z0-9-]+\.sqs\.([a-z0-9-]+)\.vpce\.(amazonaws\.com(?:\.cn)?)$/,
    hostForm: 'vpc-endpoint',
  },
  { pattern: /^([a-z0-9-]+)\.queue\.(amazonaws\.com)$/, hostForm: 'legacy' },
];

function matchHost(host: string): HostMatch | undefined {
  // The oldest form has no region at all; it always meant us-east-1.
  if (host === 'queue.amazonaws.com') {
    return { region: 'us-east-1', hostForm: 'legacy', suffix: 'amazonaws.com' };
  }
  for (const { pattern, hostForm } of HOST_FORMS) {
    const m = pattern.exec(host);
    if (m) return { region: m[1], hostForm, suffix: m[2] };
  }
  return undefined;
}

/**
 * Parses an SQS queue URL in any of the host forms AWS accepts (standard,
 * China, GovCloud, FIFO, dual-stack, FIPS, the legacy `queue.amazonaws.com`
 * forms and interface VPC endpoints).
 *
 * @throws QueueUrlError naming the wrong part (scheme, host, region, path,
 *   accountId or queueName) and what a valid URL looks like.
 * @public
 */
export function parseQueueUrl(url: string): SqsQueue {
  const input = typeof url === 'string' ? url.trim() : '';
  if (!input) {
    throw new QueueUrlError(
      'url',
      `Queue URL is empty; copy it from the SQS console, e.g. ${EXAMPLE_URL}`,
    );
  }
  // Before the WHATWG parser, which quietly drops tabs and newlines, maps
  // full-width and zero-width characters onto ASCII and forgets an empty
  // user info or the default port: what was typed must already be the URL.
  const odd = /[^\x21-\x7e]/.exec(input);
  if (odd) {
    throw new QueueUrlError(
      'url',
      `Queue URL must be plain ASCII without spaces or control characters, found ${JSON.stringify(
        odd[0],
      )} (U+${odd[0]
        .codePointAt(0)!
        .toString(16)
        .toUpperCase()
        .padStart(4, '0')}); copy it from the SQS console, e.g. ${EXAMPLE_URL}`,
    );
  }
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#\\]*)/.exec(input)?.[1];
  if (authority !== undefined && /@|:\d*$/.test(authority)) {
    throw new QueueUrlError(
      'host',
      `Queue URL "${input}" must not contain credentials or a port; expected the form ${EXAMPLE_URL}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw new QueueUrlError(
      'url',
      `Queue URL "${input}" is not a URL; expected the form ${EXAMPLE_URL}`,
    );
  }
  if (parsed.protocol !== 'https:') {
    throw new QueueUrlError(
      'scheme',
      `Queue URL must use https, got "${parsed.protocol.replace(
        /:$/,
        '',
      )}"; expected the form ${EXAMPLE_URL}`,
    );
  }
  if (parsed.username || parsed.password || parsed.port) {
    throw new QueueUrlError(
      'host',
      `Queue URL "${input}" must not contain credentials or a port; expected the form ${EXAMPLE_URL}`,
    );
  }
  if (parsed.search || parsed.hash) {
    throw new QueueUrlError(
      'path',
      `Queue URL "${input}" must not have a query string or fragment; remove everything after the queue name`,
    );
  }

  const host = parsed.hostname.toLowerCase();
  if (host.length > 253 || host.split('.').some(label => label.length > 63)) {
    throw new QueueUrlError(
      'host',
      `Host "${host.slice(0, 80)}${
        host.length > 80 ? '…' : ''
      }" is not a DNS name: at most 253 characters, 63 per label`,
    );
  }
  const match = matchHost(host);
  if (!match) {
    throw new QueueUrlError(
      'host',
      `"${host}" is not an SQS endpoint; expected sqs.<region>.amazonaws.com (or .amazonaws.com.cn, .api.aws, sqs-fips., <region>.queue.amazonaws.com, a vpce-….sqs.<region>.vpce.amazonaws.com endpoint)`,
    );
  }
  const { region, hostForm } = match;
  if (!REGION_PATTERN.test(region)) {
    throw new QueueUrlError(
      'region',
      `"${region}" in host "${host}" is not an AWS region name like eu-west-1`,
    );
  }
  const partition = partitionForRegion(region);
  // China regions are only reachable under amazonaws.com.cn and the other
  // partitions never under it: a mismatch is a typo, not a new endpoint.
  if (match.suffix?.endsWith('.cn') !== (partition === 'aws-cn')) {
    throw new QueueUrlError(
      'host',
      partition === 'aws-cn'
        ? `Region ${region} is in the China partition; its SQS host is sqs.${region}.amazonaws.com.cn`
        : `Host "${host}" ends in amazonaws.com.cn but region ${region} is not a China region; use sqs.${region}.amazonaws.com`,
    );
  }
  if (hostForm === 'legacy' && partition !== 'aws') {
    throw new QueueUrlError(
      'host',
      `The legacy <region>.queue.amazonaws.com form exists only in the aws partition; use sqs.${region}.${dnsSuffixForPartition(
        partition,
      )}`,
    );
  }

  const segments = parsed.pathname.split('/');
  // "/<account>/<name>" splits into ['', account, name]
  if (segments.length !== 3 || segments[0] !== '') {
    throw new QueueUrlError(
      'path',
      `Queue URL path "${parsed.pathname}" must be exactly /<12-digit account id>/<queue name>, e.g. /222222222222/orders`,
    );
  }
  const [, accountId, rawName] = segments;
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new QueueUrlError(
      'accountId',
      `"${accountId}" in the queue URL path is not a 12-digit AWS account id`,
    );
  }
  let queueName: string;
  try {
    queueName = decodeURIComponent(rawName);
  } catch {
    queueName = rawName;
  }
  if (!queueName) {
    throw new QueueUrlError(
      'queueName',
      `Queue URL "${input}" has no queue name after the account id`,
    );
  }
  if (
    !QUEUE_NAME_PATTERN.test(queueName) ||
    queueName === '.fifo' ||
    queueName.length > QUEUE_NAME_MAX
  ) {
    throw new QueueUrlError(
      'queueName',
      `"${queueName}" is not a valid SQS queue name: up to ${QUEUE_NAME_MAX} letters, digits, "-" or "_", FIFO queues ending in ".fifo"`,
    );
  }

  const fifo = queueName.endsWith('.fifo');
  const canonicalBase = sqsEndpoint(region);
  const nonCanonicalHost = hostForm !== 'standard' && hostForm !== 'legacy';
  return {
    accountId,
    region,
    partition,
    queueName,
    fifo,
    arn: sqsQueueArn(region, accountId, queueName),
    url: `${canonicalBase}/${accountId}/${queueName}`,
    hostForm,
    ...(nonCanonicalHost ? { endpoint: `https://${host}` } : {}),
  };
}
