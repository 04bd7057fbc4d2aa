/*
 * The credential chain KEDA's `aws` pod identity walks, end to end with the
 * real SDK clients: web identity (operator in the cluster account) →
 * AssumeRole into the scaler role in the queue account with ExternalId →
 * GetQueueAttributes on the queue.
 */
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  EXTERNAL_ID,
  fakeServiceAccountToken,
  ISSUER,
  operatorTrust,
  OPERATOR_SUBJECT,
  QUEUE_ACCOUNT,
  REGION,
  scalerTrust,
  sdkClients,
  SdkClients,
  sessionCredentials,
} from './__testUtils__/sdkClients';

// Each test drives a real HTTP server with SDK clients; leave room on a busy 2-core CI machine.
jest.setTimeout(30_000);

describe('KEDA credential chain across accounts', () => {
  let standIn: AwsStandIn;
  let adminA: SdkClients;
  let adminB: SdkClients;
  let operatorRoleArn: string;
  let scalerRoleArn: string;
  let queueUrl: string;
  const opened: SdkClients[] = [];
  const clientsFor = (creds: Parameters<typeof sdkClients>[1]) => {
    const c = sdkClients(standIn, creds, { region: REGION });
    opened.push(c);
    return c;
  };

  const anonymousSts = () =>
    new STSClient({ endpoint: standIn.url, region: REGION, maxAttempts: 1 });

  const operatorToken = (sub = OPERATOR_SUBJECT) =>
    fakeServiceAccountToken({
      iss: ISSUER,
      sub,
      aud: 'sts.amazonaws.com',
      exp: Math.floor(Date.now() / 1000) + 3600,
    });

  async function operatorSession(sub = OPERATOR_SUBJECT) {
    const sts = anonymousSts();
    try {
      const out = await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: operatorRoleArn,
          RoleSessionName: 'keda-operator',
          WebIdentityToken: operatorToken(sub),
        }),
      );
      return { out, clients: clientsFor(sessionCredentials(out)) };
    } finally {
      sts.destroy();
    }
  }

  beforeEach(async () => {
    standIn = await startAwsStandIn({ port: 0 });
    adminA = clientsFor(standIn.createAccount(CLUSTER_ACCOUNT));
    adminB = clientsFor(standIn.createAccount(QUEUE_ACCOUNT));

    // Cluster account: OIDC provider + operator role (IRSA), allowed to assume /keda/ roles in B only.
    await adminA.iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: ISSUER,
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'],
      }),
    );
    operatorRoleArn = (
      await adminA.iam.send(
        new CreateRoleCommand({
          RoleName: 'keda-operator',
          AssumeRolePolicyDocument: operatorTrust(),
        }),
      )
    ).Role!.Arn!;
    await adminA.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'keda-operator',
        PolicyName: 'assume-keda-scalers',
        PolicyDocument: allowDoc(
          'sts:AssumeRole',
          `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
        ),
      }),
    );

    // Queue account: queue with 3 messages + scaler role trusting the operator role with ExternalId.
    queueUrl = (
      await adminB.sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))
    ).QueueUrl!;
    await adminB.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [1, 2, 3].map(i => ({
          Id: `m${i}`,
          MessageBody: `order ${i}`,
        })),
      }),
    );
    scalerRoleArn = (
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'orders-scaler',
          Path: '/keda/',
          AssumeRolePolicyDocument: scalerTrust(operatorRoleArn),
        }),
      )
    ).Role!.Arn!;
    await adminB.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'orders-scaler',
        PolicyName: 'read-queue-depth',
        PolicyDocument: allowDoc(
          'sqs:GetQueueAttributes',
          `arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`,
        ),
      }),
    );
  });

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  it('web identity → AssumeRole with ExternalId → GetQueueAttributes reads the depth', async () => {
    const { out, clients: operator } = await operatorSession();
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/keda-operator`,
    );
    expect(out.SubjectFromWebIdentityToken).toBe(OPERATOR_SUBJECT);

    const scaler = await operator.sts.send(
      new AssumeRoleCommand({
        RoleArn: scalerRoleArn,
        RoleSessionName: 'KEDA',
        ExternalId: EXTERNAL_ID,
      }),
    );
    expect(scaler.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/orders-scaler/KEDA`,
    );

    const attrs = await clientsFor(sessionCredentials(scaler)).sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
        ],
      }),
    );
    expect(attrs.Attributes).toEqual({
      ApproximateNumberOfMessages: '3',
      ApproximateNumberOfMessagesNotVisible: '0',
    });

    // The portal can show when the chain was last used.
    const scalerRole = await adminB.iam.send(
      new GetRoleCommand({ RoleName: 'orders-scaler' }),
    );
    expect(scalerRole.Role?.RoleLastUsed).toMatchObject({
      Region: REGION,
      LastUsedDate: expect.any(Date),
    });
    // …and the request log tells who called what.
    expect(
      standIn
        .requestLog()
        .filter(r => r.service !== 'iam')
        .map(r => [r.operation, r.principal, r.status]),
    ).toEqual(
      expect.arrayContaining([
        ['AssumeRoleWithWebIdentity', undefined, 200],
        [
          'AssumeRole',
          `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/keda-operator`,
          200,
        ],
        [
          'GetQueueAttributes',
          `arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/orders-scaler/KEDA`,
          200,
        ],
      ]),
    );
  });

  it('rejects the web identity of another service account', async () => {
    await expect(
      operatorSession('system:serviceaccount:default:app'),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    });
  });

  it('fails with AccessDenied naming principal and action when the scaler trust names another role', async () => {
    await adminA.iam.send(
      new CreateRoleCommand({
        RoleName: 'someone-else',
        AssumeRolePolicyDocument: operatorTrust(),
      }),
    );
    await adminB.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'orders-scaler',
        PolicyDocument: scalerTrust(
          `arn:aws:iam::${CLUSTER_ACCOUNT}:role/someone-else`,
        ),
      }),
    );
    const { clients: operator } = await operatorSession();
    await expect(
      operator.sts.send(
        new AssumeRoleCommand({
          RoleArn: scalerRoleArn,
          RoleSessionName: 'KEDA',
          ExternalId: EXTERNAL_ID,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/keda-operator is not authorized to perform: sts:AssumeRole on resource: ${scalerRoleArn}`,
    });
  });

  it('fails when the scaler role lost its queue permission', async () => {
    await adminB.iam.send(
      new DeleteRolePolicyCommand({
        RoleName: 'orders-scaler',
        PolicyName: 'read-queue-depth',
      }),
    );
    const { clients: operator } = await operatorSession();
    const scaler = await operator.sts.send(
      new AssumeRoleCommand({
        RoleArn: scalerRoleArn,
        RoleSessionName: 'KEDA',
        ExternalId: EXTERNAL_ID,
      }),
    );
    await expect(
      clientsFor(sessionCredentials(scaler)).sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['All'],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining(
        `User: arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/orders-scaler/KEDA is not authorized to perform: sqs:GetQueueAttributes on resource: arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`,
      ),
    });
  });

  it('recreating the operator role breaks the saved trust until it is saved again (IAM trap 1)', async () => {
    const firstRoleId = (
      await adminA.iam.send(new GetRoleCommand({ RoleName: 'keda-operator' }))
    ).Role!.RoleId!;
    await adminA.iam.send(
      new DeleteRolePolicyCommand({
        RoleName: 'keda-operator',
        PolicyName: 'assume-keda-scalers',
      }),
    );
    await adminA.iam.send(new DeleteRoleCommand({ RoleName: 'keda-operator' }));
    await adminA.iam.send(
      new CreateRoleCommand({
        RoleName: 'keda-operator',
        AssumeRolePolicyDocument: operatorTrust(),
      }),
    );
    await adminA.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'keda-operator',
        PolicyName: 'assume-keda-scalers',
        PolicyDocument: allowDoc(
          'sts:AssumeRole',
          `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
        ),
      }),
    );

    // The scaler's trust now shows the dead principal id, like the IAM console does.
    const stale = await adminB.iam.send(
      new GetRoleCommand({ RoleName: 'orders-scaler' }),
    );
    const staleTrust = JSON.parse(
      decodeURIComponent(stale.Role!.AssumeRolePolicyDocument!),
    );
    expect(staleTrust.Statement[0].Principal.AWS).toBe(firstRoleId);

    const { clients: operator } = await operatorSession();
    const assume = () =>
      operator.sts.send(
        new AssumeRoleCommand({
          RoleArn: scalerRoleArn,
          RoleSessionName: 'KEDA',
          ExternalId: EXTERNAL_ID,
        }),
      );
    await expect(assume()).rejects.toMatchObject({ name: 'AccessDenied' });

    // Reconcile re-saves the trust: the principal resolves to the new role.
    await adminB.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'orders-scaler',
        PolicyDocument: scalerTrust(operatorRoleArn),
      }),
    );
    const fixed = await adminB.iam.send(
      new GetRoleCommand({ RoleName: 'orders-scaler' }),
    );
    expect(
      JSON.parse(decodeURIComponent(fixed.Role!.AssumeRolePolicyDocument!))
        .Statement[0].Principal.AWS,
    ).toBe(operatorRoleArn);
    await expect(assume()).resolves.toMatchObject({
      AssumedRoleUser: {
        Arn: `arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/orders-scaler/KEDA`,
      },
    });
  });

  it('rejects a trust policy naming an operator role that does not exist yet', async () => {
    await expect(
      adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'too-early',
          Path: '/keda/',
          AssumeRolePolicyDocument: scalerTrust(
            `arn:aws:iam::${CLUSTER_ACCOUNT}:role/not-created-yet`,
          ),
        }),
      ),
    ).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: `Invalid principal in policy: "AWS":"arn:aws:iam::${CLUSTER_ACCOUNT}:role/not-created-yet"`,
    });
  });
});
