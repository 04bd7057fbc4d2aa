import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  UpdateRoleCommand,
  DeleteRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  GetQueueAttributesCommand,
  CreateQueueCommand,
} from '@aws-sdk/client-sqs';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  ISSUER,
  QUEUE_ACCOUNT,
  REGION,
  scalerTrust,
  sdkClients,
  SdkClients,
} from './__testUtils__/sdkClients';

// Each test drives a real HTTP server with SDK clients; leave room on a busy 2-core CI machine.
jest.setTimeout(30_000);

const OPERATOR = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator`;
const accountTrust = (account: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'sts:AssumeRole',
      },
    ],
  });

describe('IAM stand-in', () => {
  let standIn: AwsStandIn;
  let adminA: SdkClients;
  let adminB: SdkClients;
  const opened: SdkClients[] = [];
  const clientsFor = (creds: Parameters<typeof sdkClients>[1]) => {
    const c = sdkClients(standIn, creds, { region: REGION });
    opened.push(c);
    return c;
  };

  beforeEach(async () => {
    standIn = await startAwsStandIn({ port: 0 });
    adminA = clientsFor(standIn.createAccount(CLUSTER_ACCOUNT));
    adminB = clientsFor(standIn.createAccount(QUEUE_ACCOUNT));
    await adminA.iam.send(
      new CreateRoleCommand({
        RoleName: 'keda-operator',
        AssumeRolePolicyDocument: accountTrust(CLUSTER_ACCOUNT),
      }),
    );
  });

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  describe('roles', () => {
    it('creates a role and returns it with URL-encoded trust, tags and description', async () => {
      const created = await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'orders-scaler',
          Path: '/keda/',
          Description: 'KEDA reads orders depth',
          AssumeRolePolicyDocument: scalerTrust(OPERATOR),
          Tags: [{ Key: 'backstage.io/component', Value: 'orders' }],
        }),
      );
      expect(created.Role).toMatchObject({
        Arn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/orders-scaler`,
        Path: '/keda/',
        RoleId: expect.stringMatching(/^AROA[A-Z0-9]{17}$/),
        MaxSessionDuration: 3600,
      });
      const got = (
        await adminB.iam.send(new GetRoleCommand({ RoleName: 'ORDERS-SCALER' }))
      ).Role!;
      expect(got.RoleName).toBe('orders-scaler');
      expect(got.Description).toBe('KEDA reads orders depth');
      expect(got.Tags).toEqual([
        { Key: 'backstage.io/component', Value: 'orders' },
      ]);
      expect(got.AssumeRolePolicyDocument).toMatch(/^%7B/);
      expect(
        JSON.parse(decodeURIComponent(got.AssumeRolePolicyDocument!)),
      ).toEqual(JSON.parse(scalerTrust(OPERATOR)));
    });

    it('refuses duplicates case-insensitively with EntityAlreadyExists', async () => {
      await expect(
        adminA.iam.send(
          new CreateRoleCommand({
            RoleName: 'KEDA-Operator',
            AssumeRolePolicyDocument: accountTrust(CLUSTER_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({
        name: 'EntityAlreadyExistsException',
        message: 'Role with name KEDA-Operator already exists.',
      });
    });

    it('answers NoSuchEntity for a missing role', async () => {
      await expect(
        adminA.iam.send(new GetRoleCommand({ RoleName: 'ghost' })),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The role with name ghost cannot be found.',
      });
    });

    it.each([
      [
        'a name longer than 64 characters',
        { RoleName: 'r'.repeat(65) },
        'ValidationError',
        /at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64/,
      ],
      [
        'a name with a slash',
        { RoleName: 'a/b' },
        'ValidationError',
        /roleName.*regular expression/,
      ],
      [
        'a path without trailing slash',
        { RoleName: 'ok', Path: '/keda' },
        'ValidationError',
        /at 'path'/,
      ],
      [
        'a trust with a Resource',
        {
          RoleName: 'ok',
          AssumeRolePolicyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Principal: '*',
                Action: 'sts:AssumeRole',
                Resource: '*',
              },
            ],
          }),
        },
        'MalformedPolicyDocumentException',
        /Has prohibited field Resource/,
      ],
      [
        'a trust over 2048 characters',
        {
          RoleName: 'ok',
          AssumeRolePolicyDocument: JSON.stringify({
            Statement: [
              {
                Sid: 'x'.repeat(2100),
                Effect: 'Allow',
                Principal: '*',
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        },
        'LimitExceededException',
        /ACLSizePerRole: 2048/,
      ],
      [
        '51 tags',
        {
          RoleName: 'ok',
          Tags: Array.from({ length: 51 }, (_, i) => ({
            Key: `k${i}`,
            Value: 'v',
          })),
        },
        'LimitExceededException',
        /TagsPerRole: 50/,
      ],
      [
        'a tag key over 128 characters',
        { RoleName: 'ok', Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] },
        'ValidationError',
        /tags.member.key/,
      ],
      [
        'a boundary that does not exist',
        {
          RoleName: 'ok',
          PermissionsBoundary: `arn:aws:iam::${QUEUE_ACCOUNT}:policy/nope`,
        },
        'NoSuchEntityException',
        /does not exist or is not attachable/,
      ],
    ])('rejects %s', async (_name, input, errorName, message) => {
      await expect(
        adminB.iam.send(
          new CreateRoleCommand({
            AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
            ...input,
          } as any),
        ),
      ).rejects.toMatchObject({
        name: errorName,
        message: expect.stringMatching(message),
      });
    });

    it('lists roles under a path prefix', async () => {
      for (const [name, path] of [
        ['a', '/keda/'],
        ['b', '/keda/'],
        ['c', '/other/'],
      ]) {
        await adminB.iam.send(
          new CreateRoleCommand({
            RoleName: name,
            Path: path,
            AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
          }),
        );
      }
      const keda = await adminB.iam.send(
        new ListRolesCommand({ PathPrefix: '/keda/' }),
      );
      expect(keda.Roles?.map(r => r.RoleName)).toEqual(['a', 'b']);
      const all = await adminB.iam.send(new ListRolesCommand({ MaxItems: 2 }));
      expect(all).toMatchObject({
        IsTruncated: true,
        Marker: expect.any(String),
      });
      const rest = await adminB.iam.send(
        new ListRolesCommand({ MaxItems: 2, Marker: all.Marker }),
      );
      expect(rest.Roles?.map(r => r.RoleName)).toEqual(['c']);
    });

    it('manages inline policies and refuses to delete a role that still has them', async () => {
      const doc = allowDoc(
        'sqs:GetQueueAttributes',
        `arn:aws:sqs:${REGION}:${CLUSTER_ACCOUNT}:orders`,
      );
      await adminA.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'keda-operator',
          PolicyName: 'depth',
          PolicyDocument: doc,
        }),
      );
      await expect(
        adminA.iam.send(
          new ListRolePoliciesCommand({ RoleName: 'keda-operator' }),
        ),
      ).resolves.toMatchObject({ PolicyNames: ['depth'] });
      const got = await adminA.iam.send(
        new GetRolePolicyCommand({
          RoleName: 'keda-operator',
          PolicyName: 'depth',
        }),
      );
      expect(decodeURIComponent(got.PolicyDocument!)).toBe(doc);
      await expect(
        adminA.iam.send(new DeleteRoleCommand({ RoleName: 'keda-operator' })),
      ).rejects.toMatchObject({ name: 'DeleteConflictException' });
      await adminA.iam.send(
        new DeleteRolePolicyCommand({
          RoleName: 'keda-operator',
          PolicyName: 'depth',
        }),
      );
      await expect(
        adminA.iam.send(
          new GetRolePolicyCommand({
            RoleName: 'keda-operator',
            PolicyName: 'depth',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
      });
      await adminA.iam.send(
        new DeleteRoleCommand({ RoleName: 'keda-operator' }),
      );
      await expect(
        adminA.iam.send(new GetRoleCommand({ RoleName: 'keda-operator' })),
      ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    });

    it('rejects a malformed inline policy', async () => {
      await expect(
        adminA.iam.send(
          new PutRolePolicyCommand({
            RoleName: 'keda-operator',
            PolicyName: 'bad',
            PolicyDocument:
              '{"Statement":[{"Effect":"Allow","Action":"sqs:*"}]}',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'MalformedPolicyDocumentException',
        message: 'Policy statement must contain resources.',
      });
    });

    it('updates description, session duration and boundary, and attaches and detaches managed policies', async () => {
      const boundaryArn = (
        await adminA.iam.send(
          new CreatePolicyCommand({
            PolicyName: 'boundary',
            Path: '/keda/',
            PolicyDocument: allowDoc('sts:AssumeRole', '*'),
          }),
        )
      ).Policy!.Arn!;
      expect(boundaryArn).toBe(
        `arn:aws:iam::${CLUSTER_ACCOUNT}:policy/keda/boundary`,
      );
      await adminA.iam.send(
        new UpdateRoleCommand({
          RoleName: 'keda-operator',
          Description: 'KEDA operator (IRSA)',
          MaxSessionDuration: 7200,
        }),
      );
      await adminA.iam.send(
        new PutRolePermissionsBoundaryCommand({
          RoleName: 'keda-operator',
          PermissionsBoundary: boundaryArn,
        }),
      );
      await adminA.iam.send(
        new AttachRolePolicyCommand({
          RoleName: 'keda-operator',
          PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
        }),
      );
      expect(
        (
          await adminA.iam.send(
            new GetRoleCommand({ RoleName: 'keda-operator' }),
          )
        ).Role,
      ).toMatchObject({
        Description: 'KEDA operator (IRSA)',
        MaxSessionDuration: 7200,
        PermissionsBoundary: {
          PermissionsBoundaryType: 'PermissionsBoundaryPolicy',
          PermissionsBoundaryArn: boundaryArn,
        },
      });
      await expect(
        adminA.iam.send(
          new ListAttachedRolePoliciesCommand({ RoleName: 'keda-operator' }),
        ),
      ).resolves.toMatchObject({
        AttachedPolicies: [
          {
            PolicyName: 'ReadOnlyAccess',
            PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
          },
        ],
      });
      await expect(
        adminA.iam.send(new DeleteRoleCommand({ RoleName: 'keda-operator' })),
      ).rejects.toMatchObject({
        name: 'DeleteConflictException',
        message: 'Cannot delete entity, must detach all policies first.',
      });
      await adminA.iam.send(
        new DetachRolePolicyCommand({
          RoleName: 'keda-operator',
          PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
        }),
      );
      await expect(
        adminA.iam.send(
          new ListAttachedRolePoliciesCommand({ RoleName: 'keda-operator' }),
        ),
      ).resolves.toMatchObject({ AttachedPolicies: [] });
      await expect(
        adminA.iam.send(
          new DetachRolePolicyCommand({
            RoleName: 'keda-operator',
            PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
      await expect(
        adminA.iam.send(
          new UpdateRoleCommand({
            RoleName: 'keda-operator',
            MaxSessionDuration: 60,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringContaining('maxSessionDuration'),
      });
    });

    it('tags, untags and lists tags', async () => {
      await adminA.iam.send(
        new TagRoleCommand({
          RoleName: 'keda-operator',
          Tags: [
            { Key: 'team', Value: 'platform' },
            { Key: 'env', Value: 'dev' },
          ],
        }),
      );
      await adminA.iam.send(
        new TagRoleCommand({
          RoleName: 'keda-operator',
          Tags: [{ Key: 'env', Value: 'prod' }],
        }),
      );
      await adminA.iam.send(
        new UntagRoleCommand({ RoleName: 'keda-operator', TagKeys: ['team'] }),
      );
      await expect(
        adminA.iam.send(new ListRoleTagsCommand({ RoleName: 'keda-operator' })),
      ).resolves.toMatchObject({
        Tags: [{ Key: 'env', Value: 'prod' }],
        IsTruncated: false,
      });
    });

    it('stores trust principals by unique id: UpdateAssumeRolePolicy re-resolves them', async () => {
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 's',
          AssumeRolePolicyDocument: scalerTrust(OPERATOR),
        }),
      );
      const operatorId =
        standIn.state.accounts[CLUSTER_ACCOUNT].roles['keda-operator'].roleId;
      expect(
        JSON.parse(standIn.state.accounts[QUEUE_ACCOUNT].roles.s.trustPolicy)
          .Statement[0].Principal.AWS,
      ).toBe(operatorId);
      await expect(
        adminB.iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: 's',
            PolicyDocument: scalerTrust(
              `arn:aws:iam::${CLUSTER_ACCOUNT}:role/missing`,
            ),
          }),
        ),
      ).rejects.toMatchObject({
        name: 'MalformedPolicyDocumentException',
        message: expect.stringContaining('Invalid principal in policy'),
      });
    });
  });

  describe('OIDC providers', () => {
    it('creates, gets and lists providers, refusing duplicates', async () => {
      const created = await adminA.iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: ISSUER,
          ClientIDList: ['sts.amazonaws.com'],
          ThumbprintList: ['a'.repeat(40)],
        }),
      );
      const arn = `arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/${ISSUER.replace(
        'https://',
        '',
      )}`;
      expect(created.OpenIDConnectProviderArn).toBe(arn);
      await expect(
        adminA.iam.send(
          new GetOpenIDConnectProviderCommand({
            OpenIDConnectProviderArn: arn,
          }),
        ),
      ).resolves.toMatchObject({
        Url: ISSUER.replace('https://', ''),
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['a'.repeat(40)],
      });
      await expect(
        adminA.iam.send(new ListOpenIDConnectProvidersCommand({})),
      ).resolves.toMatchObject({
        OpenIDConnectProviderList: [{ Arn: arn }],
      });
      await expect(
        adminA.iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: ISSUER,
            ClientIDList: ['x'],
          }),
        ),
      ).rejects.toMatchObject({
        name: 'EntityAlreadyExistsException',
      });
      // Plain http is accepted on loopback only (a local issuer without TLS).
      await expect(
        adminA.iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: 'http://127.0.0.1:6443',
            ClientIDList: ['sts.amazonaws.com'],
          }),
        ),
      ).resolves.toMatchObject({
        OpenIDConnectProviderArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/127.0.0.1:6443`,
      });
      await expect(
        adminA.iam.send(
          new CreateOpenIDConnectProviderCommand({
            Url: 'http://oidc.example.com',
            ClientIDList: ['sts.amazonaws.com'],
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        message: expect.stringContaining('it must start with https://'),
      });
      // Providers are per account.
      await expect(
        adminB.iam.send(new ListOpenIDConnectProvidersCommand({})),
      ).resolves.toMatchObject({ OpenIDConnectProviderList: [] });
      await adminA.iam.send(
        new DeleteOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn: arn,
        }),
      );
      await expect(
        adminA.iam.send(
          new GetOpenIDConnectProviderCommand({
            OpenIDConnectProviderArn: arn,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
      });
    });
  });

  describe('authorisation of IAM calls', () => {
    it('denies a user without IAM permissions, naming action, principal and resource', async () => {
      const user = standIn.createUser(QUEUE_ACCOUNT, 'dev', {
        inlinePolicies: {
          read: {
            Statement: [{ Effect: 'Allow', Action: 'iam:Get*', Resource: '*' }],
          },
        },
      });
      const dev = clientsFor(standIn.createAccessKey(user.arn));
      await expect(
        dev.iam.send(
          new CreateRoleCommand({
            RoleName: 'sneaky',
            Path: '/keda/',
            AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: arn:aws:iam::${QUEUE_ACCOUNT}:user/dev is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/sneaky because no identity-based policy allows the iam:CreateRole action`,
      });
      await expect(
        dev.iam.send(new ListRolesCommand({})),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('evaluates aws:ResourceTag and aws:RequestTag on role operations (ABAC)', async () => {
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'managed',
          AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
          Tags: [{ Key: 'managed-by', Value: 'backstage' }],
        }),
      );
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'foreign',
          AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
        }),
      );
      const user = standIn.createUser(QUEUE_ACCOUNT, 'portal', {
        inlinePolicies: {
          abac: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'iam:PutRolePolicy',
                Resource: '*',
                Condition: {
                  StringEquals: { 'aws:ResourceTag/managed-by': 'backstage' },
                },
              },
              {
                Effect: 'Allow',
                Action: 'iam:TagRole',
                Resource: '*',
                Condition: {
                  'ForAllValues:StringEquals': { 'aws:TagKeys': ['owner'] },
                },
              },
            ],
          },
        },
      });
      const portal = clientsFor(standIn.createAccessKey(user.arn));
      const put = (RoleName: string) =>
        portal.iam.send(
          new PutRolePolicyCommand({
            RoleName,
            PolicyName: 'p',
            PolicyDocument: allowDoc('sqs:GetQueueAttributes', '*'),
          }),
        );
      await expect(put('managed')).resolves.toBeDefined();
      await expect(put('foreign')).rejects.toMatchObject({
        name: 'AccessDenied',
      });
      await expect(
        portal.iam.send(
          new TagRoleCommand({
            RoleName: 'foreign',
            Tags: [{ Key: 'owner', Value: 'me' }],
          }),
        ),
      ).resolves.toBeDefined();
      await expect(
        portal.iam.send(
          new TagRoleCommand({
            RoleName: 'foreign',
            Tags: [{ Key: 'managed-by', Value: 'backstage' }],
          }),
        ),
      ).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('lets a condition on iam:PermissionsBoundary require a boundary on created roles', async () => {
      const boundaryArn = (
        await adminB.iam.send(
          new CreatePolicyCommand({
            PolicyName: 'keda-boundary',
            PolicyDocument: allowDoc('sqs:GetQueueAttributes', '*'),
          }),
        )
      ).Policy!.Arn!;
      const user = standIn.createUser(QUEUE_ACCOUNT, 'provisioner', {
        inlinePolicies: {
          create: {
            Statement: [
              {
                Effect: 'Allow',
                Action: 'iam:CreateRole',
                Resource: `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
                Condition: {
                  StringEquals: { 'iam:PermissionsBoundary': boundaryArn },
                },
              },
            ],
          },
        },
      });
      const provisioner = clientsFor(standIn.createAccessKey(user.arn));
      const create = (name: string, boundary?: string) =>
        provisioner.iam.send(
          new CreateRoleCommand({
            RoleName: name,
            Path: '/keda/',
            AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
            PermissionsBoundary: boundary,
          }),
        );
      await expect(create('unbounded')).rejects.toMatchObject({
        name: 'AccessDenied',
      });
      await expect(create('bounded', boundaryArn)).resolves.toMatchObject({
        Role: { PermissionsBoundary: { PermissionsBoundaryArn: boundaryArn } },
      });
    });

    it('intersects a role session with its permissions boundary', async () => {
      await adminB.sqs.send(new CreateQueueCommand({ QueueName: 'orders' }));
      const boundaryArn = (
        await adminB.iam.send(
          new CreatePolicyCommand({
            PolicyName: 'only-receive',
            PolicyDocument: allowDoc('sqs:ReceiveMessage', '*'),
          }),
        )
      ).Policy!.Arn!;
      const role = await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'bounded',
          AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
          PermissionsBoundary: boundaryArn,
        }),
      );
      await adminB.iam.send(
        new AttachRolePolicyCommand({
          RoleName: 'bounded',
          PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
        }),
      );
      const session = clientsFor(standIn.createAccessKey(role.Role!.Arn!));
      await expect(
        session.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: `https://sqs.${REGION}.amazonaws.com/${QUEUE_ACCOUNT}/orders`,
            AttributeNames: ['All'],
          }),
        ),
      ).rejects.toMatchObject({
        name: 'AccessDenied',
        message: expect.stringContaining(
          'because no permissions boundary allows',
        ),
      });
    });
  });

  describe('SimulatePrincipalPolicy', () => {
    const queue = `arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`;
    beforeEach(async () => {
      await adminB.iam.send(
        new CreateRoleCommand({
          RoleName: 'scaler',
          AssumeRolePolicyDocument: accountTrust(QUEUE_ACCOUNT),
        }),
      );
      await adminB.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'scaler',
          PolicyName: 'p',
          PolicyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sqs:GetQueueAttributes',
                Resource: queue,
              },
              { Effect: 'Deny', Action: 'sqs:DeleteQueue', Resource: '*' },
            ],
          }),
        }),
      );
    });

    it('evaluates the role policies per action and resource', async () => {
      const out = await adminB.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
          ActionNames: [
            'sqs:GetQueueAttributes',
            'sqs:ReceiveMessage',
            'sqs:DeleteQueue',
          ],
          ResourceArns: [queue],
        }),
      );
      expect(
        out.EvaluationResults?.map(r => [
          r.EvalActionName,
          r.EvalResourceName,
          r.EvalDecision,
        ]),
      ).toEqual([
        ['sqs:GetQueueAttributes', queue, 'allowed'],
        ['sqs:ReceiveMessage', queue, 'implicitDeny'],
        ['sqs:DeleteQueue', queue, 'explicitDeny'],
      ]);
    });

    it('takes extra policies, a resource policy (with a user as caller) and context entries into account', async () => {
      const caller = standIn.createUser(QUEUE_ACCOUNT, 'tester');
      const out = await adminB.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
          CallerArn: caller.arn,
          PolicyInputList: [
            JSON.stringify({
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'sqs:SendMessage',
                  Resource: '*',
                  Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
                },
              ],
            }),
          ],
          ResourcePolicy: JSON.stringify({
            Statement: [
              {
                Effect: 'Deny',
                Principal: '*',
                Action: 'sqs:GetQueueAttributes',
                Resource: queue,
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          }),
          ActionNames: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
          ResourceArns: [queue],
          ContextEntries: [
            {
              ContextKeyName: 'aws:SourceVpc',
              ContextKeyValues: ['vpc-1'],
              ContextKeyType: 'string',
            },
            {
              ContextKeyName: 'aws:SecureTransport',
              ContextKeyValues: ['false'],
              ContextKeyType: 'boolean',
            },
          ],
        }),
      );
      expect(out.EvaluationResults?.map(r => r.EvalDecision)).toEqual([
        'allowed',
        'explicitDeny',
      ]);
    });

    // AWS: "CallerArn is required if you include a ResourcePolicy and the
    // PolicySourceArn is not the ARN for an IAM user", and "you can specify
    // only the ARN of an IAM user".
    it('refuses a resource policy with a role as policy source and no CallerArn, like IAM', async () => {
      const trust = JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: {
              AWS: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator`,
            },
            Action: 'sts:AssumeRole',
          },
        ],
      });
      await expect(
        adminB.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
            ActionNames: ['sts:AssumeRole'],
            ResourceArns: [`arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`],
            ResourcePolicy: trust,
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        message: expect.stringContaining('CallerArn is required'),
      });
    });

    it.each([
      ['a role', `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`],
      [
        'an assumed role',
        `arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/scaler/session`,
      ],
    ])('refuses %s as CallerArn, like IAM', async (_label, callerArn) => {
      await expect(
        adminB.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
            CallerArn: callerArn,
            ActionNames: ['sqs:GetQueueAttributes'],
            ResourceArns: [queue],
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidInputException',
        message: expect.stringContaining('only the ARN of an IAM user'),
      });
    });

    it('decides sts:AssumeRole on the identity policies alone, ignoring a trust given as ResourcePolicy, like IAM', async () => {
      await adminA.iam.send(
        new CreateRoleCommand({
          RoleName: 'operator-sim',
          AssumeRolePolicyDocument: accountTrust(CLUSTER_ACCOUNT),
        }),
      );
      await adminA.iam.send(
        new PutRolePolicyCommand({
          RoleName: 'operator-sim',
          PolicyName: 'assume',
          PolicyDocument: allowDoc(
            'sts:AssumeRole',
            `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
          ),
        }),
      );
      const simulate = (extra: object = {}) =>
        adminA.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/operator-sim`,
            ActionNames: ['sts:AssumeRole'],
            ResourceArns: [
              `arn:aws:iam::${QUEUE_ACCOUNT}:role/scaler`,
              `arn:aws:iam::${QUEUE_ACCOUNT}:role/other`,
            ],
            ...extra,
          }),
        );
      // another account's role, no resource policy: the identity policy decides
      expect(
        (await simulate()).EvaluationResults?.map(r => r.EvalDecision),
      ).toEqual(['allowed', 'implicitDeny']);
      // a trust that denies everyone does not change the answer: the simulator does not evaluate trusts
      const caller = standIn.createUser(CLUSTER_ACCOUNT, 'tester');
      const denyAll = JSON.stringify({
        Statement: [
          { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' },
        ],
      });
      expect(
        (
          await simulate({ ResourcePolicy: denyAll, CallerArn: caller.arn })
        ).EvaluationResults?.map(r => r.EvalDecision),
      ).toEqual(['allowed', 'implicitDeny']);
    });

    it('answers NoSuchEntity for an unknown source', async () => {
      await expect(
        adminB.iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/none`,
            ActionNames: ['sqs:*'],
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    });
  });
});
