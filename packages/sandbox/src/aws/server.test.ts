import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  REGION,
  sdkClients,
  SdkClients,
} from './__testUtils__/sdkClients';

// Each test drives a real HTTP server with SDK clients; leave room on a busy 2-core CI machine.
jest.setTimeout(30_000);

const trust = JSON.stringify({
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: CLUSTER_ACCOUNT },
      Action: 'sts:AssumeRole',
    },
  ],
});

describe('AWS stand-in server', () => {
  let standIn: AwsStandIn;
  const opened: SdkClients[] = [];
  const clientsFor = (
    creds: Parameters<typeof sdkClients>[1],
    maxAttempts = 1,
  ) => {
    const c = sdkClients(standIn, creds, { region: REGION, maxAttempts });
    opened.push(c);
    return c;
  };

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn?.close();
  });

  describe('EKS DescribeCluster', () => {
    beforeEach(async () => {
      standIn = await startAwsStandIn({ port: 0 });
    });

    it('describes a seeded cluster with its OIDC issuer', async () => {
      const admin = clientsFor(standIn.createAccount(CLUSTER_ACCOUNT));
      standIn.createEksCluster({
        accountId: CLUSTER_ACCOUNT,
        region: REGION,
        name: 'platform',
        endpoint: 'https://127.0.0.1:6443',
        oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      });
      const { cluster } = await admin.eks.send(
        new DescribeClusterCommand({ name: 'platform' }),
      );
      expect(cluster).toMatchObject({
        name: 'platform',
        arn: `arn:aws:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/platform`,
        endpoint: 'https://127.0.0.1:6443',
        status: 'ACTIVE',
        identity: {
          oidc: { issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC' },
        },
      });
      expect(cluster?.createdAt).toBeInstanceOf(Date);
      await expect(
        admin.eks.send(new DescribeClusterCommand({ name: 'other' })),
      ).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'No cluster found for name: other.',
      });
    });

    it('denies a principal without eks:DescribeCluster', async () => {
      standIn.createAccount(CLUSTER_ACCOUNT);
      standIn.createEksCluster({
        accountId: CLUSTER_ACCOUNT,
        region: REGION,
        name: 'platform',
      });
      const user = standIn.createUser(CLUSTER_ACCOUNT, 'viewer', {
        inlinePolicies: { p: JSON.parse(allowDoc('eks:ListClusters', '*')) },
      });
      const viewer = clientsFor(standIn.createAccessKey(user.arn));
      await expect(
        viewer.eks.send(new DescribeClusterCommand({ name: 'platform' })),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringContaining(
          `User: ${user.arn} is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/platform`,
        ),
      });
    });
  });

  describe('fault knobs', () => {
    let root: ReturnType<AwsStandIn['createAccount']>;
    beforeEach(async () => {
      standIn = await startAwsStandIn({ port: 0 });
      root = standIn.createAccount(CLUSTER_ACCOUNT);
    });

    it.each([
      ['sqs', 'throttle', 'Throttling', 400],
      ['sqs', 'unavailable', 'ServiceUnavailable', 503],
      ['sts', 'throttle', 'Throttling', 400],
      ['sts', 'internal', 'InternalFailure', 500],
    ] as const)(
      '%s %s answers %s with HTTP %s',
      async (service, error, name, status) => {
        const c = clientsFor(root);
        const url = (
          await c.sqs.send(new CreateQueueCommand({ QueueName: 'q' }))
        ).QueueUrl!;
        standIn.setFaults([{ service, error, times: 1 }]);
        const call =
          service === 'sqs'
            ? c.sqs.send(
                new GetQueueAttributesCommand({
                  QueueUrl: url,
                  AttributeNames: ['All'],
                }),
              )
            : c.sts.send(new GetCallerIdentityCommand({}));
        await expect(call).rejects.toMatchObject({
          name,
          $metadata: { httpStatusCode: status },
        });
        // `times: 1` is used up: the next call goes through.
        await expect(
          c.sts.send(new GetCallerIdentityCommand({})),
        ).resolves.toMatchObject({ Account: CLUSTER_ACCOUNT });
      },
    );

    it('throttles only the named operation, and the SDK retry strategy recovers', async () => {
      const c = clientsFor(root, 3);
      const url = (await c.sqs.send(new CreateQueueCommand({ QueueName: 'q' })))
        .QueueUrl!;
      standIn.setFaults([
        {
          service: 'sqs',
          operation: 'GetQueueAttributes',
          error: 'throttle',
          times: 1,
        },
      ]);
      await c.sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }),
      );
      const out = await c.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(out.Attributes).toEqual({ ApproximateNumberOfMessages: '1' });
      expect(out.$metadata.attempts).toBe(2);
    });

    it('accepts faults through the admin endpoint and validates them', async () => {
      const post = (body: unknown) =>
        fetch(`${standIn.url}/_sandbox/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const bad = await post({
        faults: [{ service: 'ec2', error: 'throttle' }],
      });
      expect(bad.status).toBe(400);
      expect((await bad.json()).error).toBe(
        'faults[0].service must be one of iam, sts, sqs, eks, access-analyzer',
      );

      const ok = await post({
        faults: [
          {
            service: 'iam',
            operation: 'GetRole',
            error: 'unavailable',
            latencyMs: 5,
          },
        ],
      });
      expect(ok.status).toBe(200);
      const c = clientsFor(root);
      await c.iam.send(
        new CreateRoleCommand({
          RoleName: 'r',
          AssumeRolePolicyDocument: trust,
        }),
      );
      await expect(
        c.iam.send(new GetRoleCommand({ RoleName: 'r' })),
      ).rejects.toMatchObject({ name: 'ServiceUnavailable' });
      expect(
        (await (await fetch(`${standIn.url}/_sandbox/faults`)).json()).faults,
      ).toHaveLength(1);

      expect(
        (await fetch(`${standIn.url}/_sandbox/faults`, { method: 'DELETE' }))
          .status,
      ).toBe(204);
      await expect(
        c.iam.send(new GetRoleCommand({ RoleName: 'r' })),
      ).resolves.toMatchObject({ Role: { RoleName: 'r' } });
    });
  });

  describe('state file', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-stand-in-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('survives close() and a new start with the same file', async () => {
      const stateFile = path.join(dir, 'nested', 'aws.json');
      standIn = await startAwsStandIn({ port: 0, stateFile });
      const root = standIn.createAccount(CLUSTER_ACCOUNT);
      let c = clientsFor(root);
      await c.iam.send(
        new CreateRoleCommand({
          RoleName: 'kept',
          AssumeRolePolicyDocument: trust,
        }),
      );
      const url = (
        await c.sqs.send(new CreateQueueCommand({ QueueName: 'kept' }))
      ).QueueUrl!;
      await c.sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'still here' }),
      );
      const roleId = standIn.state.accounts[CLUSTER_ACCOUNT].roles.kept.roleId;
      opened.splice(0).forEach(x => x.destroy());
      await standIn.close();
      expect(fs.readdirSync(path.dirname(stateFile))).toEqual(['aws.json']); // no temp files left behind

      standIn = await startAwsStandIn({ port: 0, stateFile });
      c = clientsFor(root);
      await expect(
        c.iam.send(new GetRoleCommand({ RoleName: 'kept' })),
      ).resolves.toMatchObject({ Role: { RoleId: roleId } });
      await expect(
        c.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        ),
      ).resolves.toMatchObject({
        Attributes: { ApproximateNumberOfMessages: '1' },
      });
    });

    it('reset() forgets everything, including on disk', async () => {
      const stateFile = path.join(dir, 'aws.json');
      standIn = await startAwsStandIn({ port: 0, stateFile });
      const root = standIn.createAccount(CLUSTER_ACCOUNT);
      standIn.reset();
      expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).accounts).toEqual(
        {},
      );
      await expect(
        clientsFor(root).sts.send(new GetCallerIdentityCommand({})),
      ).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    });

    it('refuses a state file of another version with a message saying what to do', async () => {
      const stateFile = path.join(dir, 'aws.json');
      fs.writeFileSync(stateFile, JSON.stringify({ version: 99 }));
      await expect(startAwsStandIn({ port: 0, stateFile })).rejects.toThrow(
        /has version 99, expected 1; delete it to start fresh/,
      );
    });
  });

  it('serves every service to clients configured only through AWS_ENDPOINT_URL', async () => {
    standIn = await startAwsStandIn({ port: 0, queueUrlStyle: 'endpoint' });
    const root = standIn.createAccount(CLUSTER_ACCOUNT);
    standIn.createEksCluster({
      accountId: CLUSTER_ACCOUNT,
      region: REGION,
      name: 'platform',
    });
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = standIn.url;
    const sqs = new SQSClient({
      region: REGION,
      credentials: root,
      maxAttempts: 1,
    });
    const sts = new STSClient({
      region: REGION,
      credentials: root,
      maxAttempts: 1,
    });
    const iam = new IAMClient({
      region: 'us-east-1',
      credentials: root,
      maxAttempts: 1,
    });
    const eks = new EKSClient({
      region: REGION,
      credentials: root,
      maxAttempts: 1,
    });
    try {
      const url = (
        await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))
      ).QueueUrl!;
      expect(url).toBe(`${standIn.url}/${CLUSTER_ACCOUNT}/orders`);
      await sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }),
      );
      await expect(
        sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages'],
          }),
        ),
      ).resolves.toMatchObject({
        Attributes: { ApproximateNumberOfMessages: '1' },
      });
      await expect(
        sts.send(new GetCallerIdentityCommand({})),
      ).resolves.toMatchObject({ Account: CLUSTER_ACCOUNT });
      await expect(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'r',
            AssumeRolePolicyDocument: trust,
          }),
        ),
      ).resolves.toBeDefined();
      await expect(
        eks.send(new DescribeClusterCommand({ name: 'platform' })),
      ).resolves.toMatchObject({ cluster: { name: 'platform' } });
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
      [sqs, sts, iam, eks].forEach(c => c.destroy());
    }
  });

  it('records calls with caller and error code, also over HTTP', async () => {
    standIn = await startAwsStandIn({ port: 0 });
    standIn.createAccount(CLUSTER_ACCOUNT);
    const user = standIn.createUser(CLUSTER_ACCOUNT, 'nobody');
    const nobody = clientsFor(standIn.createAccessKey(user.arn));
    await expect(
      nobody.iam.send(new GetRoleCommand({ RoleName: 'x' })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    const expected = {
      service: 'iam',
      operation: 'GetRole',
      region: 'us-east-1',
      principal: user.arn,
      status: 403,
      errorCode: 'AccessDenied',
    };
    expect(standIn.requestLog()).toEqual([expect.objectContaining(expected)]);
    const overHttp = await (
      await fetch(`${standIn.url}/_sandbox/requests`)
    ).json();
    expect(overHttp.requests).toEqual([expect.objectContaining(expected)]);
  });

  it('names a condition operator it cannot evaluate instead of guessing', async () => {
    standIn = await startAwsStandIn({ port: 0 });
    standIn.createAccount(CLUSTER_ACCOUNT);
    const user = standIn.createUser(CLUSTER_ACCOUNT, 'timed', {
      inlinePolicies: {
        p: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'iam:*',
              Resource: '*',
              Condition: {
                DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' },
              },
            },
          ],
        },
      },
    });
    const timed = clientsFor(standIn.createAccessKey(user.arn));
    await expect(
      timed.iam.send(new GetRoleCommand({ RoleName: 'x' })),
    ).rejects.toMatchObject({
      name: 'InternalFailure',
      message:
        'AWS stand-in cannot evaluate this request: Unsupported condition operator DateLessThan',
      $metadata: { httpStatusCode: 500 },
    });
  });

  it('answers unsigned calls to signed operations with MissingAuthenticationToken', async () => {
    standIn = await startAwsStandIn({ port: 0 });
    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(
      '<Code>MissingAuthenticationToken</Code>',
    );
  });
});
