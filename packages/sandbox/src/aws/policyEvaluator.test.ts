import { PolicyDocument } from './policyDocument';
import {
  arnMatches,
  EvaluationRequest,
  evaluatePolicies,
  RequestPrincipal,
  wildcardMatch,
} from './policyEvaluator';

const QUEUE = 'arn:aws:sqs:eu-west-1:222222222222:orders';
const SCALER_ROLE = 'arn:aws:iam::222222222222:role/keda/orders-scaler';
const OPERATOR_ROLE = 'arn:aws:iam::111111111111:role/keda-operator';

const operatorSession: RequestPrincipal = {
  kind: 'assumed-role',
  arn: 'arn:aws:sts::111111111111:assumed-role/keda-operator/KEDA',
  roleArn: OPERATOR_ROLE,
  accountId: '111111111111',
  uniqueId: 'AROAOPERATOR000000001',
};
const scalerSession: RequestPrincipal = {
  kind: 'assumed-role',
  arn: 'arn:aws:sts::222222222222:assumed-role/orders-scaler/KEDA',
  roleArn: SCALER_ROLE,
  accountId: '222222222222',
  uniqueId: 'AROASCALER00000000001',
};
const userInB: RequestPrincipal = {
  kind: 'user',
  arn: 'arn:aws:iam::222222222222:user/alice',
  accountId: '222222222222',
  uniqueId: 'AIDAALICE000000000001',
};

const allow = (
  Action: string | string[],
  Resource: string | string[] = '*',
  extra = {},
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource, ...extra }],
});
const deny = (
  Action: string | string[],
  Resource: string | string[] = '*',
  extra = {},
): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action, Resource, ...extra }],
});
const trust = (Principal: any, Condition?: any): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal,
      Action: 'sts:AssumeRole',
      ...(Condition ? { Condition } : {}),
    },
  ],
});

function decide(
  req: Partial<EvaluationRequest> & Pick<EvaluationRequest, 'principal'>,
) {
  return evaluatePolicies({
    action: 'sqs:GetQueueAttributes',
    resource: QUEUE,
    resourceAccountId: '222222222222',
    ...req,
  }).decision;
}

describe('wildcards', () => {
  it.each([
    ['sqs:Get*', 'sqs:GetQueueAttributes', true],
    ['sqs:get*', 'sqs:GetQueueAttributes', true],
    ['sqs:?etQueueUrl', 'sqs:GetQueueUrl', true],
    ['sqs:Receive*', 'sqs:GetQueueAttributes', false],
  ])('action pattern %s vs %s → %s', (pattern, value, expected) => {
    expect(wildcardMatch(pattern, value, true)).toBe(expected);
  });

  it.each([
    ['arn:aws:sqs:*:222222222222:orders', QUEUE, true],
    ['arn:aws:sqs:eu-west-1:222222222222:ord*', QUEUE, true],
    ['arn:aws:sqs:eu-west-1:*:orders', QUEUE, true],
    ['arn:aws:sqs:eu-west-1:111111111111:orders', QUEUE, false],
    ['arn:aws:sqs:eu-west-1:222222222222:Orders', QUEUE, false],
    ['arn:aws:iam::222222222222:role/keda/*', SCALER_ROLE, true],
    ['arn:aws:iam::222222222222:role/other/*', SCALER_ROLE, false],
  ])('resource pattern %s vs %s → %s', (pattern, value, expected) => {
    expect(arnMatches(pattern, value)).toBe(expected);
  });
});

describe('evaluatePolicies', () => {
  it.each<
    [
      string,
      Partial<EvaluationRequest> & Pick<EvaluationRequest, 'principal'>,
      string,
    ]
  >([
    ['no policies at all', { principal: scalerSession }, 'implicitDeny'],
    [
      'same-account identity allow on the exact queue',
      {
        principal: scalerSession,
        identityPolicies: [
          { name: 'p', document: allow('sqs:GetQueueAttributes', QUEUE) },
        ],
      },
      'allowed',
    ],
    [
      'identity allow on another queue',
      {
        principal: scalerSession,
        identityPolicies: [
          {
            name: 'p',
            document: allow('sqs:GetQueueAttributes', `${QUEUE}-dlq`),
          },
        ],
      },
      'implicitDeny',
    ],
    [
      'identity allow for a different action (ReceiveMessage is not GetQueueAttributes)',
      {
        principal: scalerSession,
        identityPolicies: [
          { name: 'p', document: allow('sqs:ReceiveMessage', QUEUE) },
        ],
      },
      'implicitDeny',
    ],
    [
      'explicit deny beats allow',
      {
        principal: scalerSession,
        identityPolicies: [
          { name: 'a', document: allow('sqs:*') },
          { name: 'd', document: deny('sqs:GetQueue*', QUEUE) },
        ],
      },
      'explicitDeny',
    ],
    [
      'NotAction allow covers other actions',
      {
        principal: scalerSession,
        identityPolicies: [
          {
            name: 'p',
            document: {
              Statement: [
                { Effect: 'Allow', NotAction: 'sqs:Delete*', Resource: '*' },
              ],
            },
          },
        ],
      },
      'allowed',
    ],
    [
      'NotAction allow excludes the listed action',
      {
        principal: scalerSession,
        action: 'sqs:DeleteQueue',
        identityPolicies: [
          {
            name: 'p',
            document: {
              Statement: [
                { Effect: 'Allow', NotAction: 'sqs:Delete*', Resource: '*' },
              ],
            },
          },
        ],
      },
      'implicitDeny',
    ],
    [
      'permissions boundary without the action removes the grant',
      {
        principal: scalerSession,
        identityPolicies: [{ name: 'p', document: allow('sqs:*') }],
        permissionsBoundary: {
          name: 'b',
          document: allow('sqs:ReceiveMessage'),
        },
      },
      'implicitDeny',
    ],
    [
      'permissions boundary with the action keeps the grant',
      {
        principal: scalerSession,
        identityPolicies: [{ name: 'p', document: allow('sqs:*') }],
        permissionsBoundary: { name: 'b', document: allow('sqs:Get*') },
      },
      'allowed',
    ],
    [
      'cross-account identity allow without queue policy',
      {
        principal: operatorSession,
        identityPolicies: [
          { name: 'p', document: allow('sqs:GetQueueAttributes', QUEUE) },
        ],
      },
      'implicitDeny',
    ],
    [
      'cross-account with both identity and queue policy naming the role',
      {
        principal: operatorSession,
        identityPolicies: [
          { name: 'p', document: allow('sqs:GetQueueAttributes', QUEUE) },
        ],
        resourcePolicy: {
          name: 'queue',
          document: allow('sqs:GetQueueAttributes', QUEUE, {
            Principal: { AWS: OPERATOR_ROLE },
          }),
        },
      },
      'allowed',
    ],
    [
      'cross-account queue policy alone is not enough',
      {
        principal: operatorSession,
        resourcePolicy: {
          name: 'queue',
          document: allow('sqs:GetQueueAttributes', QUEUE, {
            Principal: { AWS: '111111111111' },
          }),
        },
      },
      'implicitDeny',
    ],
    [
      'same-account queue policy naming the user grants without identity policy',
      {
        principal: userInB,
        resourcePolicy: {
          name: 'queue',
          document: allow('sqs:GetQueueAttributes', QUEUE, {
            Principal: { AWS: userInB.arn },
          }),
        },
      },
      'allowed',
    ],
    [
      'same-account queue policy naming the account needs identity policy',
      {
        principal: userInB,
        resourcePolicy: {
          name: 'queue',
          document: allow('sqs:GetQueueAttributes', QUEUE, {
            Principal: { AWS: 'arn:aws:iam::222222222222:root' },
          }),
        },
      },
      'implicitDeny',
    ],
    [
      'queue policy deny for everyone wins over identity allow',
      {
        principal: scalerSession,
        identityPolicies: [{ name: 'p', document: allow('sqs:*') }],
        resourcePolicy: {
          name: 'queue',
          document: deny('sqs:*', QUEUE, { Principal: '*' }),
        },
      },
      'explicitDeny',
    ],
  ])('%s', (_name, req, expected) => {
    expect(decide(req)).toBe(expected);
  });

  describe('role trust (sts:AssumeRole)', () => {
    const assume = (
      principal: RequestPrincipal,
      doc: PolicyDocument,
      identity?: PolicyDocument,
      context = {},
    ) =>
      evaluatePolicies({
        principal,
        action: 'sts:AssumeRole',
        resource: SCALER_ROLE,
        resourceAccountId: '222222222222',
        resourcePolicy: { name: 'trust', document: doc },
        identityPolicies: identity ? [{ name: 'id', document: identity }] : [],
        context,
      });
    const operatorMayAssume = allow(
      'sts:AssumeRole',
      'arn:aws:iam::222222222222:role/keda/*',
    );
    const withExternalId = trust(
      { AWS: OPERATOR_ROLE },
      { StringEquals: { 'sts:ExternalId': 'ext-123' } },
    );

    it('allows the operator role with matching ExternalId and identity permission', () => {
      expect(
        assume(operatorSession, withExternalId, operatorMayAssume, {
          'sts:ExternalId': 'ext-123',
        }).decision,
      ).toBe('allowed');
    });
    it('denies without ExternalId', () => {
      expect(
        assume(operatorSession, withExternalId, operatorMayAssume).decision,
      ).toBe('implicitDeny');
    });
    it('denies with a wrong ExternalId', () => {
      expect(
        assume(operatorSession, withExternalId, operatorMayAssume, {
          'sts:ExternalId': 'nope',
        }).decision,
      ).toBe('implicitDeny');
    });
    it('denies cross-account when the caller lacks sts:AssumeRole, naming the identity side', () => {
      const result = assume(operatorSession, withExternalId, allow('sqs:*'), {
        'sts:ExternalId': 'ext-123',
      });
      expect(result.decision).toBe('implicitDeny');
      expect(result.reason).toBe(
        'because no identity-based policy allows the sts:AssumeRole action',
      );
    });
    it('matches a role principal stored by unique id only for the same role incarnation', () => {
      const byId = trust({ AWS: 'AROAOPERATOR000000001' });
      expect(assume(operatorSession, byId, operatorMayAssume).decision).toBe(
        'allowed',
      );
      const recreated = {
        ...operatorSession,
        uniqueId: 'AROAOPERATOR000000002',
      };
      expect(assume(recreated, byId, operatorMayAssume).decision).toBe(
        'implicitDeny',
      );
    });
    describe('in the same account', () => {
      // Two operator roles in the account that owns the target role.
      const TARGET = 'arn:aws:iam::111111111111:role/scaler';
      const OPERATOR_A = 'arn:aws:iam::111111111111:role/keda-operator-a';
      const session = (role: string, uniqueId: string): RequestPrincipal => ({
        kind: 'assumed-role',
        arn: `arn:aws:sts::111111111111:assumed-role/${role}/KEDA`,
        roleArn: `arn:aws:iam::111111111111:role/${role}`,
        accountId: '111111111111',
        uniqueId,
      });
      const sessionA = session('keda-operator-a', 'AROAOPERATORA0000001');
      const sessionB = session('keda-operator-b', 'AROAOPERATORB0000001');
      const mayAssume = allow('sts:AssumeRole', TARGET);
      const assumeSame = (
        principal: RequestPrincipal,
        doc: PolicyDocument,
        identity?: PolicyDocument,
        boundary?: PolicyDocument,
      ) =>
        evaluatePolicies({
          principal,
          action: 'sts:AssumeRole',
          resource: TARGET,
          resourceAccountId: '111111111111',
          resourcePolicy: { name: 'trust', document: doc },
          identityPolicies: identity
            ? [{ name: 'id', document: identity }]
            : [],
          permissionsBoundary: boundary
            ? { name: 'boundary', document: boundary }
            : undefined,
        });

      it.each([
        ['by ARN', OPERATOR_A],
        ['by unique id', 'AROAOPERATORA0000001'],
      ])(
        'denies a role the trust does not name %s, whatever its identity policy allows',
        (_name, named) => {
          const result = assumeSame(sessionB, trust({ AWS: named }), mayAssume);
          expect(result.decision).toBe('implicitDeny');
          expect(result.reason).toBe(
            'because no resource-based policy allows the sts:AssumeRole action',
          );
          expect(
            assumeSame(sessionB, trust({ AWS: named }), allow('*')).decision,
          ).toBe('implicitDeny');
        },
      );
      it('allows the named role without an identity policy, within its permissions boundary', () => {
        expect(assumeSame(sessionA, trust({ AWS: OPERATOR_A })).decision).toBe(
          'allowed',
        );
        expect(
          assumeSame(
            sessionA,
            trust({ AWS: OPERATOR_A }),
            undefined,
            allow('sqs:*'),
          ).decision,
        ).toBe('implicitDeny');
      });
      it('allows a named user or session on the trust alone', () => {
        const user: RequestPrincipal = {
          kind: 'user',
          arn: 'arn:aws:iam::111111111111:user/bob',
          accountId: '111111111111',
          uniqueId: 'AIDABOB0000000000001',
        };
        expect(assumeSame(user, trust({ AWS: user.arn })).decision).toBe(
          'allowed',
        );
        expect(
          assumeSame(sessionB, trust({ AWS: sessionB.arn })).decision,
        ).toBe('allowed');
        expect(
          assumeSame(sessionA, trust({ AWS: sessionB.arn }), mayAssume)
            .decision,
        ).toBe('implicitDeny');
      });
      it.each([
        ['root ARN', 'arn:aws:iam::111111111111:root'],
        ['account id', '111111111111'],
      ])(
        'delegates a trust naming the account (%s) to identity policies',
        (_name, account) => {
          expect(
            assumeSame(sessionB, trust({ AWS: account }), mayAssume).decision,
          ).toBe('allowed');
          const without = assumeSame(sessionB, trust({ AWS: account }));
          expect(without.decision).toBe('implicitDeny');
          expect(without.reason).toBe(
            'because no identity-based policy allows the sts:AssumeRole action',
          );
          expect(
            assumeSame(
              sessionB,
              trust({ AWS: account }),
              mayAssume,
              allow('sqs:*'),
            ).decision,
          ).toBe('implicitDeny');
        },
      );
      it('does not let another account in the trust stand for this one', () => {
        expect(
          assumeSame(sessionB, trust({ AWS: '222222222222' }), mayAssume)
            .decision,
        ).toBe('implicitDeny');
      });
      it.each([
        ['the account', '111111111111'],
        ['the caller role', 'arn:aws:iam::111111111111:role/keda-operator-b'],
      ])(
        'lets an explicit Deny in the identity policy win over a trust naming %s',
        (_name, named) => {
          const denyIt: PolicyDocument = {
            Statement: [
              ...mayAssume.Statement,
              ...deny('sts:AssumeRole', TARGET).Statement,
            ],
          };
          expect(
            assumeSame(sessionB, trust({ AWS: named }), denyIt).decision,
          ).toBe('explicitDeny');
        },
      );
      it('keeps same-account queue policies lenient: an identity Allow alone grants', () => {
        const queue = 'arn:aws:sqs:eu-west-1:111111111111:orders';
        const queuePolicy = allow('sqs:*', queue, {
          Principal: { AWS: OPERATOR_A },
        });
        const read = evaluatePolicies({
          principal: sessionB,
          action: 'sqs:GetQueueAttributes',
          resource: queue,
          resourceAccountId: '111111111111',
          resourcePolicy: { name: 'queue', document: queuePolicy },
          identityPolicies: [
            { name: 'id', document: allow('sqs:GetQueueAttributes', queue) },
          ],
        });
        expect(read.decision).toBe('allowed');
      });
    });

    it('matches Federated principals with sub/aud conditions for web identity', () => {
      const issuer = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
      const provider = `arn:aws:iam::111111111111:oidc-provider/${issuer}`;
      const doc: PolicyDocument = {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: provider },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: {
                [`${issuer}:sub`]: 'system:serviceaccount:keda:keda-operator',
                [`${issuer}:aud`]: 'sts.amazonaws.com',
              },
            },
          },
        ],
      };
      const web = (sub: string, aud: string) =>
        evaluatePolicies({
          principal: {
            kind: 'web-identity',
            arn: provider,
            federatedProvider: provider,
          },
          action: 'sts:AssumeRoleWithWebIdentity',
          resource: OPERATOR_ROLE,
          resourceAccountId: '111111111111',
          resourcePolicy: { name: 'trust', document: doc },
          context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: aud },
        }).decision;
      expect(
        web('system:serviceaccount:keda:keda-operator', 'sts.amazonaws.com'),
      ).toBe('allowed');
      expect(
        web('system:serviceaccount:default:app', 'sts.amazonaws.com'),
      ).toBe('implicitDeny');
      expect(web('system:serviceaccount:keda:keda-operator', 'other')).toBe(
        'implicitDeny',
      );
    });
  });

  describe('condition operators', () => {
    const withCondition = (
      Condition: any,
      context: Record<string, string | string[]>,
    ) =>
      decide({
        principal: scalerSession,
        identityPolicies: [
          {
            name: 'p',
            document: allow('sqs:GetQueueAttributes', QUEUE, { Condition }),
          },
        ],
        context,
      });

    it.each<[string, any, Record<string, string | string[]>, string]>([
      [
        'StringEquals match',
        { StringEquals: { 'aws:PrincipalAccount': '222222222222' } },
        { 'aws:PrincipalAccount': '222222222222' },
        'allowed',
      ],
      [
        'StringEquals key names are case-insensitive',
        { StringEquals: { 'AWS:principalaccount': '222222222222' } },
        { 'aws:PrincipalAccount': '222222222222' },
        'allowed',
      ],
      [
        'StringEquals values are case-sensitive',
        { StringEquals: { 'aws:username': 'Alice' } },
        { 'aws:username': 'alice' },
        'implicitDeny',
      ],
      [
        'StringEquals missing key',
        { StringEquals: { 'aws:SourceIdentity': 'x' } },
        {},
        'implicitDeny',
      ],
      [
        'StringEqualsIfExists missing key',
        { StringEqualsIfExists: { 'aws:SourceIdentity': 'x' } },
        {},
        'allowed',
      ],
      [
        'StringNotEquals missing key matches',
        { StringNotEquals: { 'aws:SourceIdentity': 'x' } },
        {},
        'allowed',
      ],
      [
        'StringNotEquals equal value',
        { StringNotEquals: { 'aws:SourceIdentity': 'x' } },
        { 'aws:SourceIdentity': 'x' },
        'implicitDeny',
      ],
      [
        'StringLike wildcard',
        { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/keda/*' } },
        { 'aws:PrincipalArn': SCALER_ROLE },
        'allowed',
      ],
      [
        'ArnLike mismatch',
        { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/other/*' } },
        { 'aws:PrincipalArn': SCALER_ROLE },
        'implicitDeny',
      ],
      [
        'ArnEquals exact',
        { ArnEquals: { 'aws:PrincipalArn': SCALER_ROLE } },
        { 'aws:PrincipalArn': SCALER_ROLE },
        'allowed',
      ],
      [
        'Bool false',
        { Bool: { 'aws:SecureTransport': 'true' } },
        { 'aws:SecureTransport': 'false' },
        'implicitDeny',
      ],
      [
        'Bool true',
        { Bool: { 'aws:SecureTransport': true } },
        { 'aws:SecureTransport': 'true' },
        'allowed',
      ],
      [
        'ForAnyValue one of the tag keys',
        { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
        { 'aws:TagKeys': ['owner', 'env'] },
        'allowed',
      ],
      [
        'ForAllValues with an extra tag key',
        { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
        { 'aws:TagKeys': ['owner', 'env'] },
        'implicitDeny',
      ],
      [
        'ForAllValues with no values',
        { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
        {},
        'allowed',
      ],
      [
        'Null true for absent key',
        { Null: { 'aws:SourceIdentity': 'true' } },
        {},
        'allowed',
      ],
      [
        'two keys are ANDed',
        {
          StringEquals: {
            'aws:PrincipalAccount': '222222222222',
            'aws:username': 'bob',
          },
        },
        { 'aws:PrincipalAccount': '222222222222' },
        'implicitDeny',
      ],
    ])('%s', (_name, condition, context, expected) => {
      expect(withCondition(condition, context)).toBe(expected);
    });

    it('refuses to guess on an operator it does not model', () => {
      expect(() =>
        withCondition(
          { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } },
          {},
        ),
      ).toThrow(/Unsupported condition operator DateGreaterThan/);
    });
  });

  it('matches Service principals only for that service', () => {
    const eksTrust = {
      Statement: [
        {
          Effect: 'Allow' as const,
          Principal: { Service: 'eks.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    };
    const asService = (service: string) =>
      evaluatePolicies({
        principal: { kind: 'service', arn: service, service },
        action: 'sts:AssumeRole',
        resource: 'arn:aws:iam::111111111111:role/eks-cluster-role',
        resourceAccountId: '111111111111',
        resourcePolicy: { name: 'trust', document: eksTrust },
      }).decision;
    expect(asService('eks.amazonaws.com')).toBe('allowed');
    expect(asService('lambda.amazonaws.com')).toBe('implicitDeny');
    // An AWS principal is not a service principal.
    expect(
      decide({
        principal: operatorSession,
        action: 'sts:AssumeRole',
        resourcePolicy: { name: 'trust', document: eksTrust },
      }),
    ).toBe('implicitDeny');
  });

  it('denies everyone but the named principal with NotPrincipal', () => {
    const queuePolicy: PolicyDocument = {
      Statement: [
        {
          Effect: 'Deny',
          NotPrincipal: { AWS: SCALER_ROLE },
          Action: 'sqs:*',
          Resource: QUEUE,
        },
      ],
    };
    const identity = [{ name: 'p', document: allow('sqs:*') }];
    expect(
      decide({
        principal: scalerSession,
        identityPolicies: identity,
        resourcePolicy: { name: 'q', document: queuePolicy },
      }),
    ).toBe('allowed');
    expect(
      decide({
        principal: userInB,
        identityPolicies: identity,
        resourcePolicy: { name: 'q', document: queuePolicy },
      }),
    ).toBe('explicitDeny');
  });

  it('root is not limited by identity policies but cross-account still needs the resource side', () => {
    const root: RequestPrincipal = {
      kind: 'root',
      arn: 'arn:aws:iam::111111111111:root',
      accountId: '111111111111',
    };
    expect(decide({ principal: root, resourceAccountId: '111111111111' })).toBe(
      'allowed',
    );
    expect(decide({ principal: root })).toBe('implicitDeny');
  });
});
