import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  PurgeQueueCommand,
  TagQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { AwsStandIn, startAwsStandIn } from './server';
import { md5OfMessageAttributes } from './sqs';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  QUEUE_ACCOUNT,
  REGION,
  sdkClients,
  SdkClients,
} from './__testUtils__/sdkClients';

// Each test drives a real HTTP server with SDK clients; leave room on a busy 2-core CI machine.
jest.setTimeout(30_000);

const ORDERS_ARN = `arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`;

describe('SQS stand-in', () => {
  let standIn: AwsStandIn;
  let now: number;
  let admin: SdkClients;
  let ordersUrl: string;
  const opened: SdkClients[] = [];
  const clientsFor = (
    creds: Parameters<typeof sdkClients>[1],
    region = REGION,
  ) => {
    const c = sdkClients(standIn, creds, { region });
    opened.push(c);
    return c;
  };
  const depth = async (clients: SdkClients, url = ordersUrl) =>
    (
      await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      )
    ).Attributes;

  /** A role session in the queue account with one inline policy. */
  async function roleWith(
    name: string,
    policy: string,
    account = QUEUE_ACCOUNT,
  ) {
    const adminOf =
      account === QUEUE_ACCOUNT
        ? admin
        : clientsFor(standIn.createAccount(account));
    const role = await adminOf.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: account },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    await adminOf.iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: 'p',
        PolicyDocument: policy,
      }),
    );
    return {
      arn: role.Role!.Arn!,
      clients: clientsFor(standIn.createAccessKey(role.Role!.Arn!)),
    };
  }

  beforeEach(async () => {
    now = Date.parse('2026-11-28T06:00:00Z');
    standIn = await startAwsStandIn({ port: 0, clock: () => now });
    admin = clientsFor(standIn.createAccount(QUEUE_ACCOUNT));
    ordersUrl = (
      await admin.sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))
    ).QueueUrl!;
  });

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  it('returns canonical queue URLs and finds them by name', async () => {
    expect(ordersUrl).toBe(
      `https://sqs.${REGION}.amazonaws.com/${QUEUE_ACCOUNT}/orders`,
    );
    await expect(
      admin.sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' })),
    ).resolves.toMatchObject({ QueueUrl: ordersUrl });
    // CreateQueue is idempotent with the same attributes, and refuses different ones.
    await expect(
      admin.sqs.send(new CreateQueueCommand({ QueueName: 'orders' })),
    ).resolves.toMatchObject({ QueueUrl: ordersUrl });
    await expect(
      admin.sqs.send(
        new CreateQueueCommand({
          QueueName: 'orders',
          Attributes: { VisibilityTimeout: '5' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'QueueNameExists' });
  });

  it('lists, tags, purges and deletes queues', async () => {
    await admin.sqs.send(
      new CreateQueueCommand({
        QueueName: 'orders-dlq',
        tags: { team: 'payments' },
      }),
    );
    await expect(
      admin.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' })),
    ).resolves.toMatchObject({
      QueueUrls: [ordersUrl, `${ordersUrl}-dlq`],
    });
    await admin.sqs.send(
      new TagQueueCommand({
        QueueUrl: ordersUrl,
        Tags: { 'backstage.io/component': 'orders' },
      }),
    );
    await expect(
      admin.sqs.send(new ListQueueTagsCommand({ QueueUrl: ordersUrl })),
    ).resolves.toMatchObject({
      Tags: { 'backstage.io/component': 'orders' },
    });
    await admin.sqs.send(
      new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'x' }),
    );
    await admin.sqs.send(new PurgeQueueCommand({ QueueUrl: ordersUrl }));
    expect(await depth(admin)).toMatchObject({
      ApproximateNumberOfMessages: '0',
    });
    await admin.sqs.send(
      new DeleteQueueCommand({ QueueUrl: `${ordersUrl}-dlq` }),
    );
    await expect(
      admin.sqs.send(new ListQueuesCommand({})),
    ).resolves.toMatchObject({ QueueUrls: [ordersUrl] });
  });

  it('counts visible, in-flight and delayed messages as the visibility timeout runs', async () => {
    await admin.sqs.send(
      new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'a' }),
    );
    const batch = await admin.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: ordersUrl,
        Entries: [
          { Id: 'b', MessageBody: 'b' },
          { Id: 'c', MessageBody: 'c', DelaySeconds: 60 },
        ],
      }),
    );
    expect(batch.Successful?.map(s => s.Id).sort()).toEqual(['b', 'c']);
    expect(await depth(admin)).toEqual({
      ApproximateNumberOfMessages: '2',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '1',
    });

    const received = await admin.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: ordersUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 30,
      }),
    );
    expect(received.Messages).toHaveLength(1);
    expect(await depth(admin)).toMatchObject({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
    });

    now += 31_000; // visibility timeout over: back to visible
    expect(await depth(admin)).toMatchObject({
      ApproximateNumberOfMessages: '2',
      ApproximateNumberOfMessagesNotVisible: '0',
    });

    now += 30_000; // delay over
    expect(await depth(admin)).toEqual({
      ApproximateNumberOfMessages: '3',
      ApproximateNumberOfMessagesNotVisible: '0',
      ApproximateNumberOfMessagesDelayed: '0',
    });
  });

  it('deletes a received message by receipt handle', async () => {
    await admin.sqs.send(
      new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'order 1' }),
    );
    const { Messages } = await admin.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: ordersUrl,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(Messages?.[0]).toMatchObject({
      Body: 'order 1',
      Attributes: { ApproximateReceiveCount: '1' },
    });
    await admin.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: ordersUrl,
        ReceiptHandle: Messages![0].ReceiptHandle!,
      }),
    );
    now += 60_000;
    expect(await depth(admin)).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    await expect(
      admin.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: ordersUrl,
          ReceiptHandle: 'garbage',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ReceiptHandleIsInvalid',
    });
  });

  describe('DeleteMessageBatch', () => {
    async function receiveAll(count: number) {
      for (let i = 0; i < count; i++) {
        await admin.sqs.send(
          new SendMessageCommand({
            QueueUrl: ordersUrl,
            MessageBody: `order ${i}`,
          }),
        );
      }
      const { Messages } = await admin.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: ordersUrl,
          MaxNumberOfMessages: 10,
        }),
      );
      expect(Messages).toHaveLength(count);
      return Messages!;
    }

    it('deletes every entry and reports a bad receipt handle as a failed entry', async () => {
      const [first, second] = await receiveAll(2);
      const result = await admin.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: ordersUrl,
          Entries: [
            { Id: 'first', ReceiptHandle: first.ReceiptHandle! },
            { Id: 'bad_one-1', ReceiptHandle: 'garbage' },
            { Id: 'second', ReceiptHandle: second.ReceiptHandle! },
          ],
        }),
      );
      expect(result.Successful).toEqual([{ Id: 'first' }, { Id: 'second' }]);
      expect(result.Failed).toEqual([
        {
          Id: 'bad_one-1',
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: expect.stringContaining(
            '"garbage" is not a valid receipt handle',
          ),
        },
      ]);
      now += 60_000;
      expect(await depth(admin)).toMatchObject({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '0',
      });
      // Deleting again converges: already deleted messages count as deleted.
      await expect(
        admin.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: ordersUrl,
            Entries: [{ Id: 'again', ReceiptHandle: first.ReceiptHandle! }],
          }),
        ),
      ).resolves.toMatchObject({ Successful: [{ Id: 'again' }] });
    });

    it('rejects an empty, oversized, duplicate-id or bad-id batch before deleting anything', async () => {
      const [message] = await receiveAll(1);
      const handle = message.ReceiptHandle!;
      const send = (Entries: Array<{ Id: string; ReceiptHandle: string }>) =>
        admin.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: ordersUrl, Entries }),
        );
      await expect(send([])).rejects.toMatchObject({
        name: 'EmptyBatchRequest',
      });
      await expect(
        send(
          Array.from({ length: 11 }, (_, i) => ({
            Id: `m${i}`,
            ReceiptHandle: handle,
          })),
        ),
      ).rejects.toMatchObject({
        name: 'TooManyEntriesInBatchRequest',
        message: expect.stringContaining('You have sent 11'),
      });
      await expect(
        send([
          { Id: 'same', ReceiptHandle: handle },
          { Id: 'same', ReceiptHandle: handle },
        ]),
      ).rejects.toMatchObject({
        name: 'BatchEntryIdsNotDistinct',
      });
      await expect(
        send([{ Id: 'has space', ReceiptHandle: handle }]),
      ).rejects.toMatchObject({
        name: 'InvalidBatchEntryId',
        message: expect.stringContaining('Invalid id: has space'),
      });
      await expect(
        send([{ Id: 'x'.repeat(81), ReceiptHandle: handle }]),
      ).rejects.toMatchObject({ name: 'InvalidBatchEntryId' });
      await expect(
        send([{ Id: 'x'.repeat(80), ReceiptHandle: handle }]),
      ).resolves.toMatchObject({ Successful: [{ Id: 'x'.repeat(80) }] });
    });

    it('needs sqs:DeleteMessage, as SQS has no separate permission for the batch', async () => {
      const [message] = await receiveAll(1);
      const entries = [{ Id: 'm', ReceiptHandle: message.ReceiptHandle! }];
      const { clients: receiver } = await roleWith(
        'receiver',
        allowDoc('sqs:ReceiveMessage', ORDERS_ARN),
      );
      await expect(
        receiver.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: ordersUrl,
            Entries: entries,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          'is not authorized to perform: sqs:DeleteMessage on resource',
        ),
      });
      const { clients: deleter } = await roleWith(
        'deleter',
        allowDoc('sqs:DeleteMessage', ORDERS_ARN),
      );
      await expect(
        deleter.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: ordersUrl,
            Entries: entries,
          }),
        ),
      ).resolves.toMatchObject({
        Successful: [{ Id: 'm' }],
      });
      now += 60_000;
      expect(await depth(admin)).toMatchObject({
        ApproximateNumberOfMessages: '0',
      });
    });
  });

  describe('ChangeMessageVisibility', () => {
    it('counts the new timeout from the call, and refuses a message that is not in flight', async () => {
      await admin.sqs.send(
        new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'order 1' }),
      );
      const { Messages } = await admin.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: ordersUrl,
          VisibilityTimeout: 30,
        }),
      );
      const handle = Messages![0].ReceiptHandle!;
      now += 20_000;
      await admin.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: ordersUrl,
          ReceiptHandle: handle,
          VisibilityTimeout: 60,
        }),
      );
      now += 50_000; // 70 s after receipt: still in flight, as 60 s count from the change.
      expect(await depth(admin)).toMatchObject({
        ApproximateNumberOfMessages: '0',
        ApproximateNumberOfMessagesNotVisible: '1',
      });
      await admin.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: ordersUrl,
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        }),
      );
      expect(await depth(admin)).toMatchObject({
        ApproximateNumberOfMessages: '1',
        ApproximateNumberOfMessagesNotVisible: '0',
      });
      await expect(
        admin.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: ordersUrl,
            ReceiptHandle: handle,
            VisibilityTimeout: 10,
          }),
        ),
      ).rejects.toMatchObject({ name: 'MessageNotInflight' });
      await expect(
        admin.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: ordersUrl,
            ReceiptHandle: handle,
            VisibilityTimeout: 43201,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: expect.stringContaining('VisibilityTimeout'),
      });
      await expect(
        admin.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: ordersUrl,
            ReceiptHandle: 'garbage',
            VisibilityTimeout: 10,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
    });

    it('changes a batch entry by entry, needing sqs:ChangeMessageVisibility', async () => {
      await admin.sqs.send(
        new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'order 1' }),
      );
      const { Messages } = await admin.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: ordersUrl }),
      );
      const Entries = [
        {
          Id: 'ok',
          ReceiptHandle: Messages![0].ReceiptHandle!,
          VisibilityTimeout: 0,
        },
        { Id: 'bad', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
      ];
      const { clients: deleter } = await roleWith(
        'deleter',
        allowDoc('sqs:DeleteMessage', ORDERS_ARN),
      );
      await expect(
        deleter.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: ordersUrl,
            Entries,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          'is not authorized to perform: sqs:ChangeMessageVisibility on resource',
        ),
      });
      const { clients: worker } = await roleWith(
        'worker',
        allowDoc('sqs:ChangeMessageVisibility', ORDERS_ARN),
      );
      const result = await worker.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: ordersUrl,
          Entries,
        }),
      );
      expect(result.Successful).toEqual([{ Id: 'ok' }]);
      expect(result.Failed).toEqual([
        {
          Id: 'bad',
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: expect.any(String),
        },
      ]);
      expect(await depth(admin)).toMatchObject({
        ApproximateNumberOfMessages: '1',
        ApproximateNumberOfMessagesNotVisible: '0',
      });
      await expect(
        worker.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: ordersUrl,
            Entries: [],
          }),
        ),
      ).rejects.toMatchObject({
        name: 'EmptyBatchRequest',
      });
    });
  });

  describe('message attributes', () => {
    it.each([
      // Published vectors (LocalStack's and sqslite's suites, checked against real SQS).
      [
        { timestamp: { DataType: 'Number', StringValue: '1493147359900' } },
        '235c5c510d26fb653d073faed50ae77c',
      ],
      [
        {
          ordinal: { DataType: 'Number', StringValue: '1' },
          category: { DataType: 'String', StringValue: 'test' },
        },
        'd21ae90c49061e927f57df5f5d72be1f',
      ],
    ])(
      'computes MD5OfMessageAttributes like SQS for %j',
      (attributes, expected) => {
        expect(md5OfMessageAttributes(attributes)).toBe(expected);
      },
    );

    it('stores attributes and returns the requested ones with their MD5', async () => {
      const MessageAttributes = {
        tenant: { DataType: 'String', StringValue: 'acme' },
        'trace.id': { DataType: 'String', StringValue: 'abc' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      };
      const sent = await admin.sqs.send(
        new SendMessageCommand({
          QueueUrl: ordersUrl,
          MessageBody: 'x',
          MessageAttributes,
        }),
      );
      expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
      const { Messages } = await admin.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: ordersUrl,
          MessageAttributeNames: ['tenant', 'blob'],
        }),
      );
      expect(Messages?.[0].MessageAttributes).toEqual({
        tenant: { DataType: 'String', StringValue: 'acme' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      });
      expect(Messages?.[0].MD5OfMessageAttributes).not.toBe(
        sent.MD5OfMessageAttributes,
      ); // a subset was returned
    });

    it('rejects an attribute with an unknown type', async () => {
      await expect(
        admin.sqs.send(
          new SendMessageCommand({
            QueueUrl: ordersUrl,
            MessageBody: 'x',
            MessageAttributes: { a: { DataType: 'Date', StringValue: 'x' } },
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: expect.stringContaining("attribute 'a' is invalid"),
      });
    });
  });

  describe('FIFO queues', () => {
    let fifoUrl: string;
    beforeEach(async () => {
      fifoUrl = (
        await admin.sqs.send(
          new CreateQueueCommand({
            QueueName: 'orders.fifo',
            Attributes: { FifoQueue: 'true' },
          }),
        )
      ).QueueUrl!;
    });

    it('needs a .fifo name for FifoQueue and a message group for every message', async () => {
      await expect(
        admin.sqs.send(
          new CreateQueueCommand({
            QueueName: 'plain',
            Attributes: { FifoQueue: 'true' },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
      await expect(
        admin.sqs.send(
          new SendMessageCommand({
            QueueUrl: fifoUrl,
            MessageBody: 'x',
            MessageDeduplicationId: 'd',
          }),
        ),
      ).rejects.toMatchObject({
        message: 'The request must contain the parameter MessageGroupId.',
      });
      await expect(
        admin.sqs.send(
          new SendMessageCommand({
            QueueUrl: fifoUrl,
            MessageBody: 'x',
            MessageGroupId: 'g',
          }),
        ),
      ).rejects.toMatchObject({
        message: expect.stringContaining('ContentBasedDeduplication'),
      });
    });

    it('deduplicates within five minutes and numbers messages in sequence', async () => {
      const send = (id: string) =>
        admin.sqs.send(
          new SendMessageCommand({
            QueueUrl: fifoUrl,
            MessageBody: 'order',
            MessageGroupId: 'g',
            MessageDeduplicationId: id,
          }),
        );
      const first = await send('order-1');
      const again = await send('order-1');
      expect(again.MessageId).toBe(first.MessageId);
      const second = await send('order-2');
      expect(BigInt(second.SequenceNumber!)).toBeGreaterThan(
        BigInt(first.SequenceNumber!),
      );
      expect(await depth(admin, fifoUrl)).toMatchObject({
        ApproximateNumberOfMessages: '2',
      });
      now += 5 * 60_000 + 1;
      await send('order-1');
      expect(await depth(admin, fifoUrl)).toMatchObject({
        ApproximateNumberOfMessages: '3',
      });
    });

    it('holds back a message group while one of its messages is in flight', async () => {
      await admin.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: fifoUrl,
          Entries: [
            {
              Id: '1',
              MessageBody: 'g1-first',
              MessageGroupId: 'g1',
              MessageDeduplicationId: '1',
            },
            {
              Id: '2',
              MessageBody: 'g1-second',
              MessageGroupId: 'g1',
              MessageDeduplicationId: '2',
            },
            {
              Id: '3',
              MessageBody: 'g2-first',
              MessageGroupId: 'g2',
              MessageDeduplicationId: '3',
            },
          ],
        }),
      );
      const receive = async () =>
        (
          await admin.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: fifoUrl,
              VisibilityTimeout: 30,
            }),
          )
        ).Messages?.map(m => m.Body);
      expect(await receive()).toEqual(['g1-first']);
      expect(await receive()).toEqual(['g2-first']);
      expect(await receive()).toBeUndefined();
      now += 31_000; // g1-first back: order within the group is kept
      expect(await receive()).toEqual(['g1-first']);
    });
  });

  it('delivers a message to a waiting long poll', async () => {
    const poll = admin.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: ordersUrl, WaitTimeSeconds: 10 }),
    );
    await admin.sqs.send(
      new SendMessageCommand({ QueueUrl: ordersUrl, MessageBody: 'late' }),
    );
    expect((await poll).Messages?.map(m => m.Body)).toEqual(['late']);
  });

  it('answers NonExistentQueue when the client region differs from the queue region, as KEDA sees it', async () => {
    const wrongRegion = clientsFor(
      standIn.createAccount(QUEUE_ACCOUNT),
      'us-east-1',
    );
    const error = await wrongRegion.sqs
      .send(
        new GetQueueAttributesCommand({
          QueueUrl: ordersUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      )
      .catch(e => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
    expect(error.message).toBe('The specified queue does not exist.');
  });

  describe('authorisation', () => {
    it('allows GetQueueAttributes on the granted queue only', async () => {
      await admin.sqs.send(new CreateQueueCommand({ QueueName: 'billing' }));
      const { arn, clients } = await roleWith(
        'orders-scaler',
        allowDoc('sqs:GetQueueAttributes', ORDERS_ARN),
      );
      await expect(depth(clients)).resolves.toMatchObject({
        ApproximateNumberOfMessages: '0',
      });
      await expect(
        depth(clients, ordersUrl.replace('orders', 'billing')),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          `User: arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/orders-scaler/sandbox is not authorized to perform: sqs:GetQueueAttributes on resource: arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:billing`,
        ),
      });
      expect(arn).toBe(`arn:aws:iam::${QUEUE_ACCOUNT}:role/orders-scaler`);
    });

    it('denies a role without the permission', async () => {
      const { clients } = await roleWith(
        'nothing',
        allowDoc('sqs:ListQueues', '*'),
      );
      await expect(depth(clients)).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringMatching(
          /is not authorized to perform: sqs:GetQueueAttributes on resource: .* because no identity-based policy allows/,
        ),
      });
    });

    it('denies ReceiveMessage when only GetQueueAttributes is allowed', async () => {
      const { clients } = await roleWith(
        'orders-scaler',
        allowDoc('sqs:GetQueueAttributes', ORDERS_ARN),
      );
      await expect(
        clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: ordersUrl })),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          'is not authorized to perform: sqs:ReceiveMessage',
        ),
      });
    });

    it('needs both the identity policy and the queue policy cross-account', async () => {
      const { arn, clients } = await roleWith(
        'keda-operator',
        allowDoc('sqs:GetQueueAttributes', ORDERS_ARN),
        CLUSTER_ACCOUNT,
      );
      await expect(depth(clients)).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          'because no resource-based policy allows the sqs:GetQueueAttributes action',
        ),
      });
      await admin.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: ordersUrl,
          Attributes: {
            Policy: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: arn },
                  Action: 'sqs:GetQueueAttributes',
                  Resource: ORDERS_ARN,
                },
              ],
            }),
          },
        }),
      );
      await expect(depth(clients)).resolves.toMatchObject({
        ApproximateNumberOfMessages: '0',
      });
      const policy = await admin.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: ordersUrl,
          AttributeNames: ['Policy'],
        }),
      );
      expect(
        JSON.parse(policy.Attributes!.Policy!).Statement[0].Principal.AWS,
      ).toBe(arn);
    });

    it('rejects a queue policy that is not a resource policy', async () => {
      await expect(
        admin.sqs.send(
          new SetQueueAttributesCommand({
            QueueUrl: ordersUrl,
            Attributes: { Policy: allowDoc('sqs:*', ORDERS_ARN) },
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidAttributeValue',
        message: expect.stringContaining('Missing required field Principal'),
      });
    });
  });
});
