/*
 * Cross-check: the stand-in's evaluator and @cloud-copilot/iam-simulate must
 * reach the same decision on a matrix of principals × policies × requests.
 * A disagreement means one of the two models AWS wrong; read the IAM user
 * guide's evaluation logic before "fixing" either side.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { PolicyDocument } from './policyDocument';
import {
  EvalDecision,
  evaluatePolicies,
  RequestPrincipal,
} from './policyEvaluator';

const A = '111111111111';
const B = '222222222222';
const QUEUE = `arn:aws:sqs:eu-west-1:${B}:orders`;
const OTHER_QUEUE = `arn:aws:sqs:eu-west-1:${B}:billing`;
const SCALER_ROLE = `arn:aws:iam::${B}:role/keda/orders-scaler`;
const OPERATOR_ROLE = `arn:aws:iam::${A}:role/keda-operator`;

const principals: Record<string, RequestPrincipal> = {
  operatorSession: {
    kind: 'assumed-role',
    arn: `arn:aws:sts::${A}:assumed-role/keda-operator/KEDA`,
    roleArn: OPERATOR_ROLE,
    accountId: A,
  },
  scalerSession: {
    kind: 'assumed-role',
    arn: `arn:aws:sts::${B}:assumed-role/orders-scaler/KEDA`,
    roleArn: SCALER_ROLE,
    accountId: B,
  },
  userInB: { kind: 'user', arn: `arn:aws:iam::${B}:user/alice`, accountId: B },
};

const doc = (...Statement: any[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement,
});

const identitySets: Record<string, PolicyDocument[]> = {
  none: [],
  getAttrsOnQueue: [
    doc({ Effect: 'Allow', Action: 'sqs:GetQueueAttributes', Resource: QUEUE }),
  ],
  sqsWildcard: [
    doc({ Effect: 'Allow', Action: 'sqs:*', Resource: 'arn:aws:sqs:*:*:*' }),
  ],
  allowAllButDenyQueue: [
    doc(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'sqs:Get*', Resource: QUEUE },
    ),
  ],
  notActionDelete: [
    doc({ Effect: 'Allow', NotAction: 'sqs:Delete*', Resource: '*' }),
  ],
  assumeKedaRoles: [
    doc({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: `arn:aws:iam::${B}:role/keda/*`,
    }),
  ],
  likeConditions: [
    doc({
      Effect: 'Allow',
      Action: 'sqs:*',
      Resource: '*',
      Condition: {
        ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/keda*' },
        StringNotEquals: { 'aws:ResourceAccount': '333333333333' },
      },
    }),
  ],
  conditionalOnAccount: [
    doc({
      Effect: 'Allow',
      Action: 'sqs:GetQueueAttributes',
      Resource: '*',
      Condition: { StringEquals: { 'aws:ResourceAccount': B } },
    }),
  ],
};

const resourcePolicies: Record<string, PolicyDocument | undefined> = {
  none: undefined,
  queueAllowsOperatorRole: doc({
    Effect: 'Allow',
    Principal: { AWS: OPERATOR_ROLE },
    Action: 'sqs:GetQueueAttributes',
    Resource: QUEUE,
  }),
  queueAllowsAccountA: doc({
    Effect: 'Allow',
    Principal: { AWS: A },
    Action: 'sqs:*',
    Resource: QUEUE,
  }),
  queueAllowsUser: doc({
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${B}:user/alice` },
    Action: 'sqs:GetQueueAttributes',
    Resource: QUEUE,
  }),
  queueAllowsScalerRole: doc({
    Effect: 'Allow',
    Principal: { AWS: SCALER_ROLE },
    Action: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage'],
    Resource: QUEUE,
  }),
  queueAllowsScalerSession: doc({
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:sts::${B}:assumed-role/orders-scaler/KEDA` },
    Action: 'sqs:*',
    Resource: QUEUE,
  }),
  queueDeniesEveryone: doc({
    Effect: 'Deny',
    Principal: '*',
    Action: 'sqs:ReceiveMessage',
    Resource: QUEUE,
  }),
};

const boundaries: Record<string, PolicyDocument | undefined> = {
  none: undefined,
  onlyGetAttributes: doc({
    Effect: 'Allow',
    Action: ['sqs:GetQueueAttributes', 'sts:AssumeRole'],
    Resource: '*',
  }),
  denyReceive: doc(
    { Effect: 'Allow', Action: '*', Resource: '*' },
    { Effect: 'Deny', Action: 'sqs:ReceiveMessage', Resource: '*' },
  ),
};

const requests = [
  { action: 'sqs:GetQueueAttributes', resource: QUEUE, account: B },
  { action: 'sqs:GetQueueAttributes', resource: OTHER_QUEUE, account: B },
  { action: 'sqs:ReceiveMessage', resource: QUEUE, account: B },
  { action: 'sqs:DeleteQueue', resource: QUEUE, account: B },
];

const SIMULATE_DECISION: Record<string, EvalDecision> = {
  Allowed: 'allowed',
  ImplicitlyDenied: 'implicitDeny',
  ExplicitlyDenied: 'explicitDeny',
};

async function simulate(
  principal: RequestPrincipal,
  identity: PolicyDocument[],
  resourcePolicy: PolicyDocument | undefined,
  boundary: PolicyDocument | undefined,
  request: { action: string; resource: string; account: string },
): Promise<EvalDecision> {
  const result = await runSimulation(
    {
      request: {
        principal: principal.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: request.account },
        contextVariables: principalContext(principal, request.account),
      },
      identityPolicies: identity.map((policy, i) => ({
        name: `p${i}`,
        policy,
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      permissionBoundaryPolicies: boundary
        ? [{ name: 'boundary', policy: boundary }]
        : undefined,
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `iam-simulate rejected the input: ${JSON.stringify(result.errors)}`,
    );
  }
  return SIMULATE_DECISION[result.overallResult];
}

/** The context keys both engines see: the ones the stand-in sets for every request. */
function principalContext(
  principal: RequestPrincipal,
  resourceAccount: string,
): Record<string, string> {
  return {
    'aws:ResourceAccount': resourceAccount,
    'aws:PrincipalArn': principal.roleArn ?? principal.arn,
    'aws:PrincipalAccount': principal.accountId!,
  };
}

const matrix: Array<
  [string, string, string, string, (typeof requests)[number]]
> = [];
for (const p of Object.keys(principals)) {
  for (const i of Object.keys(identitySets)) {
    for (const r of Object.keys(resourcePolicies)) {
      for (const b of Object.keys(boundaries)) {
        for (const q of requests) matrix.push([p, i, r, b, q]);
      }
    }
  }
}

describe('policy evaluator agrees with @cloud-copilot/iam-simulate', () => {
  it(`gives the same decision on ${matrix.length} requests`, async () => {
    const disagreements: string[] = [];
    const seen = new Set<EvalDecision>();
    for (const [p, i, r, b, q] of matrix) {
      const ours = evaluatePolicies({
        principal: principals[p],
        action: q.action,
        resource: q.resource,
        resourceAccountId: q.account,
        context: principalContext(principals[p], q.account),
        identityPolicies: identitySets[i].map((document, n) => ({
          name: `p${n}`,
          document,
        })),
        resourcePolicy: resourcePolicies[r]
          ? { name: 'queue policy', document: resourcePolicies[r]! }
          : undefined,
        permissionsBoundary: boundaries[b]
          ? { name: 'boundary', document: boundaries[b]! }
          : undefined,
      }).decision;
      const theirs = await simulate(
        principals[p],
        identitySets[i],
        resourcePolicies[r],
        boundaries[b],
        q,
      );
      seen.add(theirs);
      if (ours !== theirs) {
        disagreements.push(
          `${p} / identity=${i} / resource=${r} / boundary=${b} / ${q.action} ${q.resource}: ours=${ours} iam-simulate=${theirs}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
    // The matrix must exercise every outcome, or agreement proves little.
    expect([...seen].sort()).toEqual([
      'allowed',
      'explicitDeny',
      'implicitDeny',
    ]);
    // Thousands of simulations: generous limit for a shared 2-core CI machine.
  }, 120_000);

  describe('role trust (sts:AssumeRole) into a role of account A', () => {
    // A role trust policy must allow the caller even in the same account;
    // naming the account delegates to identity policies (IAM user guide,
    // "Policy evaluation for requests within a single account").
    const TARGET_ROLE = `arn:aws:iam::${A}:role/scaler`;
    const OPERATOR_A = `arn:aws:iam::${A}:role/keda-operator-a`;
    const OPERATOR_B = `arn:aws:iam::${A}:role/keda-operator-b`;
    const callers: Record<string, RequestPrincipal> = {
      operatorASession: {
        kind: 'assumed-role',
        arn: `arn:aws:sts::${A}:assumed-role/keda-operator-a/KEDA`,
        roleArn: OPERATOR_A,
        accountId: A,
      },
      operatorBSession: {
        kind: 'assumed-role',
        arn: `arn:aws:sts::${A}:assumed-role/keda-operator-b/KEDA`,
        roleArn: OPERATOR_B,
        accountId: A,
      },
      userInA: {
        kind: 'user',
        arn: `arn:aws:iam::${A}:user/bob`,
        accountId: A,
      },
      userInB: principals.userInB,
    };
    const trustOf = (...Statement: any[]) =>
      doc(...Statement.map(s => ({ Action: 'sts:AssumeRole', ...s })));
    const trusts: Record<string, PolicyDocument> = {
      namesOperatorA: trustOf({
        Effect: 'Allow',
        Principal: { AWS: OPERATOR_A },
      }),
      namesOperatorBSession: trustOf({
        Effect: 'Allow',
        Principal: { AWS: callers.operatorBSession.arn },
      }),
      namesUserInA: trustOf({
        Effect: 'Allow',
        Principal: { AWS: callers.userInA.arn },
      }),
      namesAccountARoot: trustOf({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${A}:root` },
      }),
      namesAccountAId: trustOf({ Effect: 'Allow', Principal: { AWS: A } }),
      namesAccountB: trustOf({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${B}:root` },
      }),
      accountAButDeniesOperatorB: trustOf(
        { Effect: 'Allow', Principal: { AWS: A } },
        { Effect: 'Deny', Principal: { AWS: OPERATOR_B } },
      ),
      serviceOnly: trustOf({
        Effect: 'Allow',
        Principal: { Service: 'eks.amazonaws.com' },
      }),
    };
    const identities: Record<string, PolicyDocument[]> = {
      none: [],
      assumeTarget: [
        doc({
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: TARGET_ROLE,
        }),
      ],
      allowAll: [doc({ Effect: 'Allow', Action: '*', Resource: '*' })],
      allowAllButDenyTarget: [
        doc(
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: 'sts:AssumeRole', Resource: TARGET_ROLE },
        ),
      ],
    };
    const trustBoundaries: Record<string, PolicyDocument | undefined> = {
      none: undefined,
      sqsOnly: doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }),
      assumeOnly: doc({
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: '*',
      }),
    };

    it('gives the same decision for every caller × trust × identity × boundary', async () => {
      const disagreements: string[] = [];
      const seen = new Set<EvalDecision>();
      const request = {
        action: 'sts:AssumeRole',
        resource: TARGET_ROLE,
        account: A,
      };
      for (const [c, caller] of Object.entries(callers)) {
        for (const [t, trustDoc] of Object.entries(trusts)) {
          for (const [i, identity] of Object.entries(identities)) {
            for (const [b, boundary] of Object.entries(trustBoundaries)) {
              const ours = evaluatePolicies({
                principal: caller,
                ...request,
                resourceAccountId: A,
                context: principalContext(caller, A),
                identityPolicies: identity.map((document, n) => ({
                  name: `p${n}`,
                  document,
                })),
                resourcePolicy: { name: 'trust', document: trustDoc },
                permissionsBoundary: boundary
                  ? { name: 'boundary', document: boundary }
                  : undefined,
              }).decision;
              const theirs = await simulate(
                caller,
                identity,
                trustDoc,
                boundary,
                request,
              );
              seen.add(theirs);
              if (ours !== theirs) {
                disagreements.push(
                  `${c} / trust=${t} / identity=${i} / boundary=${b}: ours=${ours} iam-simulate=${theirs}`,
                );
              }
            }
          }
        }
      }
      expect(disagreements).toEqual([]);
      expect([...seen].sort()).toEqual([
        'allowed',
        'explicitDeny',
        'implicitDeny',
      ]);
    }, 60_000);
  });

  it('agrees on the KEDA AssumeRole trust with ExternalId', async () => {
    const trustDoc = doc({
      Effect: 'Allow',
      Principal: { AWS: OPERATOR_ROLE },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'ext-1' } },
    });
    for (const externalId of ['ext-1', 'wrong', undefined]) {
      for (const identity of [
        identitySets.assumeKedaRoles,
        identitySets.none,
      ]) {
        const context: Record<string, string> = externalId
          ? { 'sts:ExternalId': externalId }
          : {};
        const ours = evaluatePolicies({
          principal: principals.operatorSession,
          action: 'sts:AssumeRole',
          resource: SCALER_ROLE,
          resourceAccountId: B,
          context,
          identityPolicies: identity.map((document, n) => ({
            name: `p${n}`,
            document,
          })),
          resourcePolicy: { name: 'trust', document: trustDoc },
        }).decision;
        const result = await runSimulation(
          {
            request: {
              principal: principals.operatorSession.arn,
              action: 'sts:AssumeRole',
              resource: { resource: SCALER_ROLE, accountId: B },
              contextVariables: context,
            },
            identityPolicies: identity.map((policy, n) => ({
              name: `p${n}`,
              policy,
            })),
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: trustDoc,
          },
          {},
        );
        if (result.resultType === 'error')
          throw new Error(JSON.stringify(result.errors));
        expect([externalId, identity.length, ours]).toEqual([
          externalId,
          identity.length,
          SIMULATE_DECISION[result.overallResult],
        ]);
      }
    }
  });
});
