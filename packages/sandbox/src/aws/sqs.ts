/*
 * SQS (AWS JSON 1.0 protocol, `X-Amz-Target: AmazonSQS.<Op>`, query-compatible
 * errors). Queues live per account and region; the region of a call is the
 * SigV4 scope region, so a client configured for the wrong region gets
 * AWS.SimpleQueueService.NonExistentQueue — what KEDA shows when awsRegion
 * does not match the queue (domain-keda-iam.md).
 */
import crypto from 'node:crypto';
import {
  MalformedPolicyError,
  parsePolicyDocument,
  PolicyDocument,
} from './policyDocument';
import { NamedPolicy } from './policyEvaluator';
import {
  MessageAttributeValue,
  MessageRecord,
  QueueRecord,
  queueArn,
} from './state';
import { AwsError } from './wire';
import { AwsWorld, Caller } from './world';

export interface SqsCallContext {
  world: AwsWorld;
  caller: Caller;
  region: string;
  input: Record<string, any>;
  /** Resolves true when the server is closing, to end long polls early. */
  isClosing: () => boolean;
  /** The URL clients get for a queue (canonical AWS form or on the stand-in's own host). */
  queueUrl: (region: string, accountId: string, name: string) => string;
}

export type SqsHandler = (
  ctx: SqsCallContext,
) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** SQS error codes → JSON `__type` and the awsQuery code the SDK maps back (x-amzn-query-error). */
export const SQS_ERROR_TYPES: Record<
  string,
  { type: string; queryCode: string }
> = {
  QueueDoesNotExist: {
    type: 'com.amazonaws.sqs#QueueDoesNotExist',
    queryCode: 'AWS.SimpleQueueService.NonExistentQueue',
  },
  QueueNameExists: {
    type: 'com.amazonaws.sqs#QueueNameExists',
    queryCode: 'QueueAlreadyExists',
  },
  ReceiptHandleIsInvalid: {
    type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid',
    queryCode: 'ReceiptHandleIsInvalid',
  },
  EmptyBatchRequest: {
    type: 'com.amazonaws.sqs#EmptyBatchRequest',
    queryCode: 'AWS.SimpleQueueService.EmptyBatchRequest',
  },
  TooManyEntriesInBatchRequest: {
    type: 'com.amazonaws.sqs#TooManyEntriesInBatchRequest',
    queryCode: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  },
  BatchEntryIdsNotDistinct: {
    type: 'com.amazonaws.sqs#BatchEntryIdsNotDistinct',
    queryCode: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  },
  InvalidBatchEntryId: {
    type: 'com.amazonaws.sqs#InvalidBatchEntryId',
    queryCode: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  },
  MessageNotInflight: {
    type: 'com.amazonaws.sqs#MessageNotInflight',
    queryCode: 'AWS.SimpleQueueService.MessageNotInflight',
  },
  InvalidAttributeName: {
    type: 'com.amazonaws.sqs#InvalidAttributeName',
    queryCode: 'InvalidAttributeName',
  },
  InvalidAttributeValue: {
    type: 'com.amazonaws.sqs#InvalidAttributeValue',
    queryCode: 'InvalidAttributeValue',
  },
  AccessDenied: {
    type: 'com.amazon.coral.service#AccessDeniedException',
    queryCode: 'AccessDenied',
  },
  InvalidClientTokenId: {
    type: 'com.amazon.coral.service#UnrecognizedClientException',
    queryCode: 'InvalidClientTokenId',
  },
  ExpiredToken: {
    type: 'com.amazon.coral.service#ExpiredTokenException',
    queryCode: 'ExpiredToken',
  },
  SignatureDoesNotMatch: {
    type: 'com.amazon.coral.service#InvalidSignatureException',
    queryCode: 'SignatureDoesNotMatch',
  },
  MissingAuthenticationToken: {
    type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
    queryCode: 'MissingAuthenticationToken',
  },
  InvalidParameterValue: {
    type: 'com.amazon.coral.validate#ValidationException',
    queryCode: 'InvalidParameterValue',
  },
  MissingParameter: {
    type: 'com.amazon.coral.validate#ValidationException',
    queryCode: 'MissingParameter',
  },
  UnsupportedOperation: {
    type: 'com.amazonaws.sqs#UnsupportedOperation',
    queryCode: 'AWS.SimpleQueueService.UnsupportedOperation',
  },
  Throttling: {
    type: 'com.amazon.coral.availability#ThrottlingException',
    queryCode: 'Throttling',
  },
  ServiceUnavailable: {
    type: 'com.amazon.coral.availability#ServiceUnavailableException',
    queryCode: 'ServiceUnavailable',
  },
  InternalFailure: {
    type: 'com.amazon.coral.service#InternalFailure',
    queryCode: 'InternalFailure',
  },
};

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
  SqsManagedSseEnabled: 'true',
};
const SETTABLE = new Set([
  ...Object.keys(DEFAULT_ATTRIBUTES),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
]);
const COMPUTED = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];

const nonExistentQueue = () =>
  new AwsError('QueueDoesNotExist', 'The specified queue does not exist.');

function missing(name: string): AwsError {
  return new AwsError(
    'MissingParameter',
    `The request must contain the parameter ${name}.`,
  );
}

function requiredString(input: Record<string, any>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw missing(name);
  return v;
}

function intAttribute(
  name: string,
  value: string,
  min: number,
  max: number,
): void {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AwsError(
      'InvalidAttributeValue',
      `Invalid value for the parameter ${name}.`,
    );
  }
}

function validateAttributes(attrs: Record<string, string>): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (!SETTABLE.has(name))
      throw new AwsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    if (name === 'VisibilityTimeout') intAttribute(name, value, 0, 43200);
    if (name === 'DelaySeconds') intAttribute(name, value, 0, 900);
    if (name === 'MessageRetentionPeriod')
      intAttribute(name, value, 60, 1209600);
    if (name === 'ReceiveMessageWaitTimeSeconds')
      intAttribute(name, value, 0, 20);
    if (name === 'Policy' && value !== '') {
      try {
        parsePolicyDocument(value, 'resource');
      } catch (e) {
        if (e instanceof MalformedPolicyError) {
          throw new AwsError(
            'InvalidAttributeValue',
            `Invalid value for the parameter Policy. Reason: ${e.message}`,
          );
        }
        throw e;
      }
    }
  }
}

/** Find the queue a URL names in the region the request was signed for. */
function queueFromUrl(ctx: SqsCallContext, url: string): QueueRecord {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    throw new AwsError(
      'InvalidAddress',
      `The address ${url} is not valid for this endpoint.`,
      { status: 404 },
    );
  }
  const match = /^\/(\d{12})\/([^/]+)\/?$/.exec(pathname);
  if (!match) throw nonExistentQueue();
  const queue = ctx.world.account(match[1])?.queues[
    `${ctx.region}/${match[2]}`
  ];
  if (!queue) throw nonExistentQueue();
  return queue;
}

function queuePolicy(queue: QueueRecord): NamedPolicy | undefined {
  const text = queue.attributes.Policy;
  return text
    ? {
        name: `queue policy of ${queue.arn}`,
        document: JSON.parse(text) as PolicyDocument,
      }
    : undefined;
}

function authorizeOnQueue(
  ctx: SqsCallContext,
  action: string,
  queue: QueueRecord,
): void {
  ctx.world.authorize(ctx.caller, action, queue.arn, {
    region: ctx.region,
    resourceAccountId: queue.accountId,
    resourcePolicy: queuePolicy(queue),
  });
}

/** Resolve the queue of `QueueUrl` and authorise the action on it. */
function queueFor(ctx: SqsCallContext, action: string): QueueRecord {
  const queue = queueFromUrl(ctx, requiredString(ctx.input, 'QueueUrl'));
  authorizeOnQueue(ctx, action, queue);
  expireMessages(ctx.world, queue);
  return queue;
}

/** Drop messages older than the retention period, as SQS does. */
function expireMessages(world: AwsWorld, queue: QueueRecord): void {
  const retentionMs =
    Number(
      queue.attributes.MessageRetentionPeriod ??
        DEFAULT_ATTRIBUTES.MessageRetentionPeriod,
    ) * 1000;
  const now = world.clock();
  queue.messages = queue.messages.filter(
    m => m.sentTimestamp + retentionMs > now,
  );
}

export function queueCounts(queue: QueueRecord, now: number) {
  let visible = 0;
  let inFlight = 0;
  let delayed = 0;
  for (const m of queue.messages) {
    if (m.visibleAt <= now) visible++;
    else if (m.delayed) delayed++;
    else inFlight++;
  }
  return { visible, inFlight, delayed };
}

const md5 = (s: string) =>
  crypto.createHash('md5').update(s, 'utf8').digest('hex');

interface SendEntry {
  MessageBody?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  DelaySeconds?: number;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/** SQS remembers FIFO deduplication ids for five minutes. */
const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/**
 * MD5 of message attributes as SQS defines it: per attribute, sorted by
 * name, length-prefixed name, data type, a transport byte (1 string/number,
 * 2 binary) and the length-prefixed value.
 */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): string {
  const hash = crypto.createHash('md5');
  const lengthPrefixed = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(DataType, 'utf8'));
    const binary = DataType.startsWith('Binary');
    hash.update(Buffer.from([binary ? 2 : 1]));
    lengthPrefixed(
      binary
        ? Buffer.from(BinaryValue ?? '', 'base64')
        : Buffer.from(StringValue ?? '', 'utf8'),
    );
  }
  return hash.digest('hex');
}

function validateMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): void {
  const names = Object.keys(attributes);
  if (names.length > 10) {
    throw new AwsError(
      'InvalidParameterValue',
      `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`,
    );
  }
  for (const name of names) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    if (!/^(String|Number|Binary)(\..+)?$/.test(DataType ?? '')) {
      throw new AwsError(
        'InvalidParameterValue',
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if (
      (DataType.startsWith('Binary') ? BinaryValue : StringValue) === undefined
    ) {
      throw new AwsError(
        'InvalidParameterValue',
        `Message (user) attribute '${name}' must contain a non-empty value of type '${DataType}'.`,
      );
    }
  }
}

function enqueue(
  ctx: SqsCallContext,
  queue: QueueRecord,
  entry: SendEntry,
): MessageRecord {
  const body = entry.MessageBody;
  if (!body) throw missing('MessageBody');
  const attributes = entry.MessageAttributes;
  if (attributes && Object.keys(attributes).length)
    validateMessageAttributes(attributes);
  const fifo = queue.attributes.FifoQueue === 'true';
  const message = fifo
    ? enqueueFifo(ctx, queue, entry, body)
    : enqueueStandard(ctx, queue, body, entry.DelaySeconds);
  if (attributes && Object.keys(attributes).length) {
    message.messageAttributes = attributes;
    message.md5OfMessageAttributes = md5OfMessageAttributes(attributes);
  }
  return message;
}

/** Which user attributes a receive asked for: names, `All`, `.*` or `prefix.*`. */
function selectAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  wanted: string[],
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || !wanted.length) return undefined;
  const picked = Object.fromEntries(
    Object.entries(attributes).filter(([name]) =>
      wanted.some(
        w =>
          w === 'All' ||
          w === '.*' ||
          w === name ||
          (w.endsWith('.*') && name.startsWith(w.slice(0, -1))),
      ),
    ),
  );
  return Object.keys(picked).length ? picked : undefined;
}

function enqueueFifo(
  ctx: SqsCallContext,
  queue: QueueRecord,
  entry: SendEntry,
  body: string,
): MessageRecord {
  if (!entry.MessageGroupId) throw missing('MessageGroupId');
  if (entry.DelaySeconds !== undefined) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ${entry.DelaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
    );
  }
  let deduplicationId = entry.MessageDeduplicationId;
  if (!deduplicationId) {
    if (queue.attributes.ContentBasedDeduplication !== 'true') {
      throw new AwsError(
        'InvalidParameterValue',
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
    deduplicationId = crypto.createHash('sha256').update(body).digest('hex');
  }
  const now = ctx.world.clock();
  const recent = Object.fromEntries(
    Object.entries(queue.recentDeduplication ?? {}).filter(
      ([, d]) => d.at + DEDUPLICATION_WINDOW_MS > now,
    ),
  );
  queue.recentDeduplication = recent;
  const duplicate = recent[deduplicationId];
  if (duplicate) {
    // Accepted but not enqueued again: the caller gets the first message's ids.
    return {
      messageId: duplicate.messageId,
      body,
      md5OfBody: md5(body),
      sentTimestamp: now,
      visibleAt: now,
      delayed: false,
      receiveCount: 0,
      sequenceNumber: duplicate.sequenceNumber,
    };
  }
  const message = enqueueStandard(ctx, queue, body, undefined);
  queue.fifoSequence = (queue.fifoSequence ?? 0) + 1;
  message.groupId = entry.MessageGroupId;
  message.deduplicationId = deduplicationId;
  message.sequenceNumber = String(queue.fifoSequence).padStart(20, '0');
  recent[deduplicationId] = {
    messageId: message.messageId,
    sequenceNumber: message.sequenceNumber,
    at: now,
  };
  return message;
}

function enqueueStandard(
  ctx: SqsCallContext,
  queue: QueueRecord,
  body: string,
  delaySeconds: number | undefined,
): MessageRecord {
  const delay = delaySeconds ?? Number(queue.attributes.DelaySeconds ?? 0);
  if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
    );
  }
  if (
    Buffer.byteLength(body) >
    Number(queue.attributes.MaximumMessageSize ?? 262144)
  ) {
    throw new AwsError(
      'InvalidParameterValue',
      'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.',
    );
  }
  const now = ctx.world.clock();
  const message: MessageRecord = {
    messageId: crypto.randomUUID(),
    body,
    md5OfBody: md5(body),
    sentTimestamp: now,
    visibleAt: now + delay * 1000,
    delayed: delay > 0,
    receiveCount: 0,
  };
  queue.messages.push(message);
  return message;
}

function encodeReceiptHandle(
  queue: QueueRecord,
  message: MessageRecord,
): string {
  return Buffer.from(
    JSON.stringify({
      q: queue.arn,
      m: message.messageId,
      n: message.receiveCount,
      r: crypto.randomBytes(6).toString('hex'),
    }),
  ).toString('base64');
}

function decodeReceiptHandle(
  handle: string,
): { q: string; m: string } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(handle, 'base64').toString('utf8'));
    return typeof parsed.q === 'string' && typeof parsed.m === 'string'
      ? parsed
      : undefined;
  } catch {
    return undefined;
  }
}

function receiveNow(
  ctx: SqsCallContext,
  queue: QueueRecord,
  max: number,
  visibilitySeconds: number,
  wantAttributes: string[],
  wantMessageAttributes: string[],
) {
  const now = ctx.world.clock();
  const out: Array<Record<string, unknown>> = [];
  // FIFO: a group with a message in flight (or not yet visible) is held
  // back, so messages of one group are processed in order.
  const blockedGroups = new Set<string>();
  for (const m of queue.messages) {
    if (m.groupId && m.visibleAt > now) blockedGroups.add(m.groupId);
  }
  for (const m of queue.messages) {
    if (out.length >= max) break;
    if (m.visibleAt > now) continue;
    if (m.groupId && blockedGroups.has(m.groupId)) continue;
    m.receiveCount += 1;
    m.delayed = false;
    m.firstReceiveTimestamp ??= now;
    m.visibleAt = now + visibilitySeconds * 1000;
    m.receiptHandle = encodeReceiptHandle(queue, m);
    const all = wantAttributes.includes('All');
    const attrs: Record<string, string> = {};
    const system: Record<string, string> = {
      SenderId: ctx.caller.userId,
      SentTimestamp: String(m.sentTimestamp),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp),
      ...(m.groupId
        ? {
            MessageGroupId: m.groupId,
            MessageDeduplicationId: m.deduplicationId!,
            SequenceNumber: m.sequenceNumber!,
          }
        : {}),
    };
    for (const [k, v] of Object.entries(system))
      if (all || wantAttributes.includes(k)) attrs[k] = v;
    const messageAttributes = selectAttributes(
      m.messageAttributes,
      wantMessageAttributes,
    );
    out.push({
      MessageId: m.messageId,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: m.md5OfBody,
      Body: m.body,
      ...(Object.keys(attrs).length ? { Attributes: attrs } : {}),
      ...(messageAttributes
        ? {
            MessageAttributes: messageAttributes,
            MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
          }
        : {}),
    });
  }
  return out;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * The entries of a batch request, checked as SQS does before touching any
 * message: 1 to 10 entries, each Id 1-80 alphanumerics, hyphens or
 * underscores, and distinct.
 */
function batchEntries<T>(
  ctx: SqsCallContext,
  entryType: string,
): Array<T & { Id: string }> {
  const entries: Array<T & { Id: string }> = ctx.input.Entries ?? [];
  if (entries.length === 0)
    throw new AwsError(
      'EmptyBatchRequest',
      `There should be at least one ${entryType} in the request.`,
    );
  if (entries.length > 10) {
    throw new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  for (const { Id } of entries) {
    if (typeof Id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(Id)) {
      throw new AwsError(
        'InvalidBatchEntryId',
        `A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long. Invalid id: ${String(
          Id,
        )}.`,
      );
    }
  }
  if (new Set(entries.map(e => e.Id)).size !== entries.length) {
    throw new AwsError(
      'BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    );
  }
  return entries;
}

function decodeForQueue(
  queue: QueueRecord,
  handle: string,
): { q: string; m: string } {
  const decoded = decodeReceiptHandle(handle);
  if (!decoded || decoded.q !== queue.arn) {
    throw new AwsError(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      { status: 404 },
    );
  }
  return decoded;
}

/**
 * Make an in-flight message visible again after `seconds`, counted from
 * now as in SQS. Not modelled: SQS's 12-hour cap on the total visibility
 * timeout since the message was received.
 */
function changeVisibility(
  ctx: SqsCallContext,
  queue: QueueRecord,
  handle: string,
  seconds: unknown,
): void {
  if (seconds === undefined) throw missing('VisibilityTimeout');
  if (
    typeof seconds !== 'number' ||
    !Number.isInteger(seconds) ||
    seconds < 0 ||
    seconds > 43200
  ) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
    );
  }
  const decoded = decodeForQueue(queue, handle);
  const message = queue.messages.find(m => m.messageId === decoded.m);
  if (!message) {
    throw new AwsError(
      'InvalidParameterValue',
      `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
    );
  }
  const now = ctx.world.clock();
  if (message.receiptHandle === undefined || message.visibleAt <= now) {
    throw new AwsError(
      'MessageNotInflight',
      'The message referred to is not in flight.',
    );
  }
  message.visibleAt = now + seconds * 1000;
}

/** Delete the message a receipt handle names; deleting an already deleted message succeeds, as in SQS. */
function deleteByReceiptHandle(queue: QueueRecord, handle: string): void {
  const decoded = decodeForQueue(queue, handle);
  queue.messages = queue.messages.filter(m => m.messageId !== decoded.m);
}

export const sqsHandlers: Record<string, SqsHandler> = {
  CreateQueue(ctx) {
    const name = requiredString(ctx.input, 'QueueName');
    if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw new AwsError(
        'InvalidParameterValue',
        `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length`,
      );
    }
    const attributes: Record<string, string> = ctx.input.Attributes ?? {};
    validateAttributes(attributes);
    if (name.endsWith('.fifo') !== (attributes.FifoQueue === 'true')) {
      throw new AwsError(
        'InvalidParameterValue',
        'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix',
      );
    }
    const account = ctx.world.requireAccount(ctx.caller.accountId);
    const arn = queueArn(ctx.region, account.id, name);
    ctx.world.authorize(ctx.caller, 'sqs:CreateQueue', arn, {
      region: ctx.region,
      resourceAccountId: account.id,
    });
    const key = `${ctx.region}/${name}`;
    const existing = account.queues[key];
    if (existing) {
      for (const [attr, value] of Object.entries(attributes)) {
        if ((existing.attributes[attr] ?? DEFAULT_ATTRIBUTES[attr]) !== value) {
          throw new AwsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${attr}`,
          );
        }
      }
      return { QueueUrl: ctx.queueUrl(ctx.region, account.id, name) };
    }
    const now = ctx.world.clock();
    account.queues[key] = {
      name,
      region: ctx.region,
      accountId: account.id,
      arn,
      createdTimestamp: now,
      lastModifiedTimestamp: now,
      attributes: { ...DEFAULT_ATTRIBUTES, ...attributes },
      tags: ctx.input.tags ?? {},
      messages: [],
    };
    ctx.world.persist();
    return { QueueUrl: ctx.queueUrl(ctx.region, account.id, name) };
  },

  GetQueueUrl(ctx) {
    const name = requiredString(ctx.input, 'QueueName');
    const owner: string =
      ctx.input.QueueOwnerAWSAccountId ?? ctx.caller.accountId;
    const queue = ctx.world.account(owner)?.queues[`${ctx.region}/${name}`];
    if (!queue) throw nonExistentQueue();
    authorizeOnQueue(ctx, 'sqs:GetQueueUrl', queue);
    return {
      QueueUrl: ctx.queueUrl(queue.region, queue.accountId, queue.name),
    };
  },

  ListQueues(ctx) {
    const prefix: string = ctx.input.QueueNamePrefix ?? '';
    const account = ctx.world.requireAccount(ctx.caller.accountId);
    ctx.world.authorize(
      ctx.caller,
      'sqs:ListQueues',
      `arn:aws:sqs:${ctx.region}:${account.id}:*`,
      {
        region: ctx.region,
        resourceAccountId: account.id,
      },
    );
    const urls = Object.values(account.queues)
      .filter(q => q.region === ctx.region && q.name.startsWith(prefix))
      .map(q => ctx.queueUrl(q.region, q.accountId, q.name))
      .sort();
    return { QueueUrls: urls };
  },

  DeleteQueue(ctx) {
    const queue = queueFor(ctx, 'sqs:DeleteQueue');
    delete ctx.world.requireAccount(queue.accountId).queues[
      `${queue.region}/${queue.name}`
    ];
    ctx.world.persist();
    return {};
  },

  SendMessage(ctx) {
    const queue = queueFor(ctx, 'sqs:SendMessage');
    const message = enqueue(ctx, queue, ctx.input as SendEntry);
    ctx.world.persist();
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes
        ? { MD5OfMessageAttributes: message.md5OfMessageAttributes }
        : {}),
      ...(message.sequenceNumber
        ? { SequenceNumber: message.sequenceNumber }
        : {}),
    };
  },

  SendMessageBatch(ctx) {
    const queue = queueFor(ctx, 'sqs:SendMessage');
    const entries = batchEntries<SendEntry>(
      ctx,
      'SendMessageBatchRequestEntry',
    );
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of entries) {
      try {
        const m = enqueue(ctx, queue, entry);
        Successful.push({
          Id: entry.Id,
          MessageId: m.messageId,
          MD5OfMessageBody: m.md5OfBody,
          ...(m.md5OfMessageAttributes
            ? { MD5OfMessageAttributes: m.md5OfMessageAttributes }
            : {}),
          ...(m.sequenceNumber ? { SequenceNumber: m.sequenceNumber } : {}),
        });
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        Failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: e.code,
          Message: e.message,
        });
      }
    }
    ctx.world.persist();
    return { Successful, Failed };
  },

  async ReceiveMessage(ctx) {
    const queue = queueFor(ctx, 'sqs:ReceiveMessage');
    const max: number = ctx.input.MaxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw new AwsError(
        'InvalidParameterValue',
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibility: number =
      ctx.input.VisibilityTimeout ?? Number(queue.attributes.VisibilityTimeout);
    const waitSeconds: number =
      ctx.input.WaitTimeSeconds ??
      Number(queue.attributes.ReceiveMessageWaitTimeSeconds ?? 0);
    const wanted: string[] = [
      ...(ctx.input.AttributeNames ?? []),
      ...(ctx.input.MessageSystemAttributeNames ?? []),
    ];
    // Long polling waits in real time: it is about the network call, not the queue clock.
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      const current = ctx.world.account(queue.accountId)?.queues[
        `${queue.region}/${queue.name}`
      ];
      if (!current) throw nonExistentQueue();
      const messages = receiveNow(
        ctx,
        current,
        max,
        visibility,
        wanted,
        ctx.input.MessageAttributeNames ?? [],
      );
      if (messages.length) {
        ctx.world.persist();
        return { Messages: messages };
      }
      if (Date.now() >= deadline || ctx.isClosing()) return {};
      await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
    }
  },

  DeleteMessage(ctx) {
    const queue = queueFor(ctx, 'sqs:DeleteMessage');
    deleteByReceiptHandle(queue, requiredString(ctx.input, 'ReceiptHandle'));
    ctx.world.persist();
    return {};
  },

  // SQS has no separate permission for batches: the batch needs sqs:DeleteMessage.
  DeleteMessageBatch(ctx) {
    const queue = queueFor(ctx, 'sqs:DeleteMessage');
    const entries = batchEntries<{ ReceiptHandle?: string }>(
      ctx,
      'DeleteMessageBatchRequestEntry',
    );
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of entries) {
      try {
        if (
          typeof entry.ReceiptHandle !== 'string' ||
          entry.ReceiptHandle === ''
        )
          throw missing('ReceiptHandle');
        deleteByReceiptHandle(queue, entry.ReceiptHandle);
        Successful.push({ Id: entry.Id });
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        Failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: e.code,
          Message: e.message,
        });
      }
    }
    ctx.world.persist();
    return { Successful, Failed };
  },

  ChangeMessageVisibility(ctx) {
    const queue = queueFor(ctx, 'sqs:ChangeMessageVisibility');
    changeVisibility(
      ctx,
      queue,
      requiredString(ctx.input, 'ReceiptHandle'),
      ctx.input.VisibilityTimeout,
    );
    ctx.world.persist();
    return {};
  },

  // Authorised as sqs:ChangeMessageVisibility, like AWS.
  ChangeMessageVisibilityBatch(ctx) {
    const queue = queueFor(ctx, 'sqs:ChangeMessageVisibility');
    const entries = batchEntries<{
      ReceiptHandle?: string;
      VisibilityTimeout?: number;
    }>(ctx, 'ChangeMessageVisibilityBatchRequestEntry');
    const Successful: unknown[] = [];
    const Failed: unknown[] = [];
    for (const entry of entries) {
      try {
        if (
          typeof entry.ReceiptHandle !== 'string' ||
          entry.ReceiptHandle === ''
        ) {
          throw missing('ReceiptHandle');
        }
        changeVisibility(
          ctx,
          queue,
          entry.ReceiptHandle,
          entry.VisibilityTimeout,
        );
        Successful.push({ Id: entry.Id });
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        Failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: e.code,
          Message: e.message,
        });
      }
    }
    ctx.world.persist();
    return { Successful, Failed };
  },

  PurgeQueue(ctx) {
    const queue = queueFor(ctx, 'sqs:PurgeQueue');
    queue.messages = [];
    ctx.world.persist();
    return {};
  },

  GetQueueAttributes(ctx) {
    const queue = queueFor(ctx, 'sqs:GetQueueAttributes');
    const names: string[] = ctx.input.AttributeNames ?? [];
    const counts = queueCounts(queue, ctx.world.clock());
    const all: Record<string, string> = {
      ...queue.attributes,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdTimestamp / 1000)),
      LastModifiedTimestamp: String(
        Math.floor(queue.lastModifiedTimestamp / 1000),
      ),
      QueueArn: queue.arn,
    };
    if (all.Policy === '') delete all.Policy;
    const Attributes: Record<string, string> = {};
    for (const name of names) {
      if (name === 'All') Object.assign(Attributes, all);
      else if (all[name] !== undefined) Attributes[name] = all[name];
      else if (!SETTABLE.has(name) && !COMPUTED.includes(name)) {
        throw new AwsError(
          'InvalidAttributeName',
          `Unknown Attribute ${name}.`,
        );
      }
    }
    return Object.keys(Attributes).length ? { Attributes } : {};
  },

  SetQueueAttributes(ctx) {
    const queue = queueFor(ctx, 'sqs:SetQueueAttributes');
    const attributes: Record<string, string> = ctx.input.Attributes ?? {};
    validateAttributes(attributes);
    for (const [k, v] of Object.entries(attributes)) {
      if (k === 'Policy' && v === '') delete queue.attributes.Policy;
      else queue.attributes[k] = v;
    }
    queue.lastModifiedTimestamp = ctx.world.clock();
    ctx.world.persist();
    return {};
  },

  ListQueueTags(ctx) {
    const queue = queueFor(ctx, 'sqs:ListQueueTags');
    return Object.keys(queue.tags).length ? { Tags: queue.tags } : {};
  },

  TagQueue(ctx) {
    const queue = queueFor(ctx, 'sqs:TagQueue');
    Object.assign(queue.tags, ctx.input.Tags ?? {});
    ctx.world.persist();
    return {};
  },
};
