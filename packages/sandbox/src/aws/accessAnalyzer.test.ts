import {
  AccessAnalyzerClient,
  CheckAccessNotGrantedCommand,
  CheckNoPublicAccessCommand,
  ValidatePolicyCommand,
} from '@aws-sdk/client-accessanalyzer';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  CLUSTER_ACCOUNT,
  QUEUE_ACCOUNT,
  REGION,
} from './__testUtils__/sdkClients';
import type { Credentials } from './world';

jest.setTimeout(30_000);

const QUEUE = `arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:orders`;
const OPERATOR = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator`;
const readDepth = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ReadQueueDepth',
      Effect: 'Allow',
      Action: 'sqs:GetQueueAttributes',
      Resource: QUEUE,
    },
  ],
};
const scalerTrust = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'KedaOperatorAssumesScalerRole',
      Effect: 'Allow',
      Principal: { AWS: OPERATOR },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': '0123456789abcdef' } },
    },
  ],
};
const SQS_WRITES = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:SendMessage',
  'sqs:PurgeQueue',
  'sqs:SetQueueAttributes',
];

describe('IAM Access Analyzer stand-in (policy checks)', () => {
  let standIn: AwsStandIn;
  const clients: AccessAnalyzerClient[] = [];
  const analyzer = (credentials: Credentials) => {
    const client = new AccessAnalyzerClient({
      endpoint: standIn.url,
      region: REGION,
      credentials,
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  let admin: AccessAnalyzerClient;

  beforeEach(async () => {
    standIn = await startAwsStandIn({ port: 0 });
    admin = analyzer(standIn.createAccount(QUEUE_ACCOUNT));
  });
  afterEach(async () => {
    clients.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  describe('ValidatePolicy', () => {
    it('finds nothing wrong in a least-privilege identity policy and a trust policy', async () => {
      await expect(
        admin.send(
          new ValidatePolicyCommand({
            policyDocument: JSON.stringify(readDepth),
            policyType: 'IDENTITY_POLICY',
          }),
        ),
      ).resolves.toMatchObject({ findings: [] });
      await expect(
        admin.send(
          new ValidatePolicyCommand({
            policyDocument: JSON.stringify(scalerTrust),
            policyType: 'RESOURCE_POLICY',
            validatePolicyResourceType: 'AWS::IAM::AssumeRolePolicyDocument',
          }),
        ),
      ).resolves.toMatchObject({ findings: [] });
    });

    it('reports errors, security warnings and warnings with their location', async () => {
      const out = await admin.send(
        new ValidatePolicyCommand({
          policyDocument: JSON.stringify({
            Statement: [
              {
                Effect: 'Allow',
                Action: ['iam:PassRole', 'sqs:GetQueueAttributes'],
                Resource: '*',
              },
            ],
          }),
          policyType: 'IDENTITY_POLICY',
        }),
      );
      expect(out.findings?.map(f => [f.findingType, f.issueCode])).toEqual([
        ['WARNING', 'MISSING_VERSION'],
        ['SECURITY_WARNING', 'PASS_ROLE_WITH_STAR_IN_RESOURCE'],
      ]);
      expect(out.findings?.[1].locations?.[0].path).toEqual([
        { value: 'Statement' },
        { index: 0 },
        { value: 'Resource' },
      ]);

      const trust = await admin.send(
        new ValidatePolicyCommand({
          policyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: '*',
                Action: ['sts:AssumeRole', 's3:GetObject'],
              },
            ],
          }),
          policyType: 'RESOURCE_POLICY',
          validatePolicyResourceType: 'AWS::IAM::AssumeRolePolicyDocument',
        }),
      );
      expect(trust.findings?.map(f => [f.findingType, f.issueCode])).toEqual([
        ['ERROR', 'INVALID_ACTION'],
        ['SECURITY_WARNING', 'PUBLIC_ACCESS'],
      ]);
    });

    it('reports a document that is not JSON as an ERROR finding', async () => {
      const out = await admin.send(
        new ValidatePolicyCommand({
          policyDocument: '{"Statement": [',
          policyType: 'IDENTITY_POLICY',
        }),
      );
      expect(out.findings?.map(f => [f.findingType, f.issueCode])).toEqual([
        ['ERROR', 'JSON_SYNTAX_ERROR'],
      ]);
    });

    it('pages with maxResults and nextToken', async () => {
      const doc = JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Action: ['iam:PassRole', 'iam:PassRole'],
            Resource: '*',
          },
        ],
      });
      const first = await admin.send(
        new ValidatePolicyCommand({
          policyDocument: doc,
          policyType: 'IDENTITY_POLICY',
          maxResults: 2,
        }),
      );
      expect(first.findings).toHaveLength(2);
      expect(first.nextToken).toBeDefined();
      const second = await admin.send(
        new ValidatePolicyCommand({
          policyDocument: doc,
          policyType: 'IDENTITY_POLICY',
          maxResults: 2,
          nextToken: first.nextToken,
        }),
      );
      expect(second.findings?.map(f => f.issueCode)).toEqual([
        'REDUNDANT_ACTION',
      ]);
      expect(second.nextToken).toBeUndefined();
    });

    it('refuses a resource type with an identity policy (ValidationException)', async () => {
      await expect(
        admin.send(
          new ValidatePolicyCommand({
            policyDocument: JSON.stringify(readDepth),
            policyType: 'IDENTITY_POLICY',
            validatePolicyResourceType: 'AWS::IAM::AssumeRolePolicyDocument',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('validatePolicyResourceType'),
      });
    });
  });

  describe('CheckAccessNotGranted', () => {
    const check = (policy: object, actions: string[], resources?: string[]) =>
      admin.send(
        new CheckAccessNotGrantedCommand({
          policyDocument: JSON.stringify(policy),
          policyType: 'IDENTITY_POLICY',
          access: [{ actions, ...(resources ? { resources } : {}) }],
        }),
      );

    it('passes when none of the actions is granted', async () => {
      await expect(check(readDepth, SQS_WRITES)).resolves.toMatchObject({
        result: 'PASS',
        reasons: [],
      });
      await expect(
        check(readDepth, ['iam:PassRole', 'sts:AssumeRole']),
      ).resolves.toMatchObject({ result: 'PASS' });
    });

    it('fails naming the statement that grants one of them', async () => {
      const wider = {
        ...readDepth,
        Statement: [
          ...readDepth.Statement,
          {
            Sid: 'Consume',
            Effect: 'Allow',
            Action: 'sqs:Receive*',
            Resource: QUEUE,
          },
        ],
      };
      await expect(check(wider, SQS_WRITES)).resolves.toMatchObject({
        result: 'FAIL',
        reasons: [{ statementIndex: 1, statementId: 'Consume' }],
      });
    });

    it('counts a conditional Allow (it might grant) but not a conditional Deny', async () => {
      const conditional = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } },
          },
          {
            Effect: 'Deny',
            Action: 'sqs:SendMessage',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      };
      await expect(
        check(conditional, ['sqs:SendMessage']),
      ).resolves.toMatchObject({ result: 'FAIL' });
      const denied = {
        ...conditional,
        Statement: [
          conditional.Statement[0],
          { Effect: 'Deny', Action: 'sqs:*', Resource: '*' },
        ],
      };
      await expect(check(denied, ['sqs:SendMessage'])).resolves.toMatchObject({
        result: 'PASS',
      });
    });

    it('honours the resources of the access entry', async () => {
      await expect(
        check(
          readDepth,
          ['sqs:GetQueueAttributes'],
          [`arn:aws:sqs:${REGION}:${QUEUE_ACCOUNT}:payments`],
        ),
      ).resolves.toMatchObject({
        result: 'PASS',
      });
      await expect(
        check(readDepth, ['sqs:GetQueueAttributes'], [QUEUE]),
      ).resolves.toMatchObject({ result: 'FAIL' });
    });

    it('enforces AWS limits: one access entry, 100 actions', async () => {
      await expect(
        admin.send(
          new CheckAccessNotGrantedCommand({
            policyDocument: JSON.stringify(readDepth),
            policyType: 'IDENTITY_POLICY',
            access: [
              { actions: ['sqs:SendMessage'] },
              { actions: ['sqs:PurgeQueue'] },
            ],
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(
        check(
          readDepth,
          Array.from({ length: 101 }, (_, i) => `sqs:Action${i}`),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationException',
      });
    });
  });

  describe('CheckNoPublicAccess', () => {
    const check = (policy: object) =>
      admin.send(
        new CheckNoPublicAccessCommand({
          policyDocument: JSON.stringify(policy),
          resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
        }),
      );

    it('passes a trust naming one role, and a web identity trust with conditions', async () => {
      await expect(check(scalerTrust)).resolves.toMatchObject({
        result: 'PASS',
      });
      await expect(
        check({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                Federated: `arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/X`,
              },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: {
                  [`oidc.eks.${REGION}.amazonaws.com/id/X:sub`]:
                    'system:serviceaccount:keda:keda-operator',
                },
              },
            },
          ],
        }),
      ).resolves.toMatchObject({ result: 'PASS' });
    });

    it('fails a trust that admits anyone', async () => {
      await expect(
        check({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Anyone',
              Effect: 'Allow',
              Principal: { AWS: '*' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      ).resolves.toMatchObject({
        result: 'FAIL',
        reasons: [{ statementIndex: 0, statementId: 'Anyone' }],
      });
    });

    it('refuses an unknown resource type', async () => {
      await expect(
        admin.send(
          new CheckNoPublicAccessCommand({
            policyDocument: JSON.stringify(scalerTrust),
            resourceType: 'AWS::IAM::Role' as any,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    });
  });

  it('authorises every call: a caller without access-analyzer:ValidatePolicy gets AccessDeniedException', async () => {
    const user = standIn.createUser(QUEUE_ACCOUNT, 'checker', {
      inlinePolicies: {
        only: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'access-analyzer:CheckNoPublicAccess',
              Resource: '*',
            },
          ],
        },
      },
    });
    const checker = analyzer(standIn.createAccessKey(user.arn));
    await expect(
      checker.send(
        new ValidatePolicyCommand({
          policyDocument: JSON.stringify(readDepth),
          policyType: 'IDENTITY_POLICY',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('access-analyzer:ValidatePolicy'),
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      checker.send(
        new CheckNoPublicAccessCommand({
          policyDocument: JSON.stringify(scalerTrust),
          resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
        }),
      ),
    ).resolves.toMatchObject({ result: 'PASS' });
    expect(
      standIn
        .requestLog()
        .map(r => [r.service, r.operation, r.status, r.errorCode]),
    ).toEqual([
      ['access-analyzer', 'ValidatePolicy', 403, 'AccessDeniedException'],
      ['access-analyzer', 'CheckNoPublicAccess', 200, undefined],
    ]);
  });

  it('takes faults like the other services (throttling retried by the SDK)', async () => {
    standIn.addFault({
      service: 'access-analyzer',
      operation: 'CheckNoPublicAccess',
      error: 'throttle',
      times: 1,
    });
    const retrying = new AccessAnalyzerClient({
      endpoint: standIn.url,
      region: REGION,
      credentials: standIn.createAccount(QUEUE_ACCOUNT),
      maxAttempts: 3,
    });
    clients.push(retrying);
    await expect(
      retrying.send(
        new CheckNoPublicAccessCommand({
          policyDocument: JSON.stringify(scalerTrust),
          resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
        }),
      ),
    ).resolves.toMatchObject({ result: 'PASS' });
  });
});
