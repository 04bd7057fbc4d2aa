import {
  AccessAnalyzerClient,
  CheckAccessNotGrantedCommand,
  CheckNoPublicAccessCommand,
  ValidatePolicyCommand,
} from '@aws-sdk/client-accessanalyzer';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import {
  plan,
  type KedaPlan,
  type KedaPlanInput,
  type PolicyDocument,
} from '@keda-self-service/plugin-keda-common';
import { mockClient } from 'aws-sdk-client-mock';
import {
  describeChainFailure,
  formatVerificationCheck,
  verifyPlanDocuments,
  verifyScalerChain,
  type VerificationCheck,
} from './verification';

const CLUSTER_ACCOUNT = '111111111111';
const QUEUE_ACCOUNT = '222222222222';
const EXTERNAL_ID = '5d41402abc4b2a76b9719d911017c592';

const input: KedaPlanInput = {
  request: {
    entityRef: 'component:default/orders-worker',
    cluster: 'prod-eu',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'orders-worker' },
    kubernetesId: 'orders-worker',
    queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUE_ACCOUNT}/orders`,
    maxReplicas: 20,
    requestId: 'req-0001',
  },
  cluster: {
    name: 'prod-eu',
    accountId: CLUSTER_ACCOUNT,
    region: 'eu-west-1',
    oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
    kedaVersion: '2.20.2',
    identity: 'irsa',
    operator: {
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleName: 'keda-operator',
    },
  },
  roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
  guardrails: { allowedQueueAccounts: [QUEUE_ACCOUNT], maxReplicas: 50 },
  externalId: EXTERNAL_ID,
};
const irsaPlan = plan(input);
const podIdentityPlan = plan({
  ...input,
  cluster: { ...input.cluster, identity: 'pod-identity' },
});
const oldKedaPlan = plan({
  ...input,
  cluster: { ...input.cluster, kedaVersion: '2.15.0' },
  externalId: undefined,
});

const byOutcome = (checks: VerificationCheck[], outcome: string) =>
  checks.filter(c => c.outcome === outcome);

const analyzerMock = mockClient(AccessAnalyzerClient);
const iamMock = mockClient(IAMClient);
const analyzer = new AccessAnalyzerClient({ region: 'eu-west-1' });
const queueIam = new IAMClient({ region: 'us-east-1' });
const clusterIam = new IAMClient({ region: 'us-east-1' });

/** Access Analyzer as AWS answers for least-privilege documents. */
function cleanAnalyzer() {
  analyzerMock.on(ValidatePolicyCommand).resolves({ findings: [] });
  analyzerMock.on(CheckAccessNotGrantedCommand).resolves({ result: 'PASS' });
  analyzerMock.on(CheckNoPublicAccessCommand).resolves({ result: 'PASS' });
}

/** The simulator answering from a table of allowed actions per role. */
function simulatorAllowing(allowed: Record<string, string[]>) {
  iamMock.on(SimulatePrincipalPolicyCommand).callsFake(input_ => ({
    EvaluationResults: (input_.ActionNames as string[]).map(action => ({
      EvalActionName: action,
      EvalResourceName: input_.ResourceArns[0],
      EvalDecision: (allowed[input_.PolicySourceArn] ?? []).includes(
        `${action} ${input_.ResourceArns[0]}`,
      )
        ? 'allowed'
        : 'implicitDeny',
    })),
  }));
}

function chainAsPlanned(p: KedaPlan) {
  simulatorAllowing({
    [p.scalerRole.arn]: [`sqs:GetQueueAttributes ${p.queue.arn}`],
    [p.operatorRole.arn]: [
      `sts:AssumeRole ${p.scalerRole.arn}`,
      `sts:TagSession ${p.scalerRole.arn}`,
    ],
  });
}

beforeEach(() => {
  analyzerMock.reset();
  iamMock.reset();
});

describe('verifyPlanDocuments (before provisioning)', () => {
  it.each([
    ['IRSA', irsaPlan],
    ['EKS Pod Identity', podIdentityPlan],
  ])('passes every check for the documents of a %s plan', async (_l, p) => {
    cleanAnalyzer();
    const result = await verifyPlanDocuments({
      plan: p,
      accessAnalyzer: analyzer,
    });
    expect(byOutcome(result.checks, 'fail')).toEqual([]);
    expect(result.ok).toBe(true);
    // four documents validated, two CheckAccessNotGranted, two trusts checked for public access
    const count = (check: string) =>
      result.checks.filter(c => c.check === check).length;
    expect(count('access-analyzer-validate-policy')).toBe(4);
    expect(count('access-analyzer-access-not-granted')).toBe(2);
    expect(count('access-analyzer-no-public-access')).toBe(2);
    expect(count('evaluate-scaler-trust')).toBeGreaterThanOrEqual(6);
    expect(count('evaluate-operator-trust')).toBeGreaterThanOrEqual(2);
    // no role is simulated before provisioning
    expect(iamMock.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(
      0,
    );
  });

  it('sends the documents in the forms Access Analyzer accepts', async () => {
    cleanAnalyzer();
    await verifyPlanDocuments({ plan: irsaPlan, accessAnalyzer: analyzer });
    const validated = analyzerMock
      .commandCalls(ValidatePolicyCommand)
      .map(c => c.args[0].input);
    expect(validated).toContainEqual({
      policyDocument: JSON.stringify(irsaPlan.scalerRole.trustPolicy),
      policyType: 'RESOURCE_POLICY',
      validatePolicyResourceType: 'AWS::IAM::AssumeRolePolicyDocument',
      nextToken: undefined,
    });
    expect(validated).toContainEqual({
      policyDocument: JSON.stringify(irsaPlan.scalerRole.permissionPolicy),
      policyType: 'IDENTITY_POLICY',
      nextToken: undefined,
    });
    for (const call of analyzerMock.commandCalls(
      CheckAccessNotGrantedCommand,
    )) {
      const { access, policyType, policyDocument } = call.args[0].input;
      expect(policyType).toBe('IDENTITY_POLICY');
      expect(policyDocument).toBe(
        JSON.stringify(irsaPlan.scalerRole.permissionPolicy),
      );
      expect(access).toHaveLength(1); // AWS: at most one entry
      expect(access![0].actions!.length).toBeLessThanOrEqual(100);
      expect(access![0].actions).not.toContain('sqs:GetQueueAttributes');
    }
    expect(
      analyzerMock
        .commandCalls(CheckAccessNotGrantedCommand)
        .flatMap(c => c.args[0].input.access![0].actions),
    ).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:SendMessage',
        'sqs:PurgeQueue',
        'sqs:SetQueueAttributes',
        'sqs:ChangeMessageVisibility',
        'iam:PassRole',
        'iam:CreateRole',
        'sts:AssumeRole',
      ]),
    );
    expect(
      analyzerMock
        .commandCalls(CheckNoPublicAccessCommand)
        .map(c => c.args[0].input),
    ).toEqual([
      {
        policyDocument: JSON.stringify(irsaPlan.scalerRole.trustPolicy),
        resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
      },
      {
        policyDocument: JSON.stringify(irsaPlan.operatorRole.trustPolicy),
        resourceType: 'AWS::IAM::AssumeRolePolicyDocument',
      },
    ]);
  });

  it('follows ValidatePolicy pages and fails on an ERROR or SECURITY_WARNING finding', async () => {
    cleanAnalyzer();
    analyzerMock
      .on(ValidatePolicyCommand)
      .resolvesOnce({
        findings: [
          {
            findingType: 'SUGGESTION',
            issueCode: 'REDUNDANT_ACTION',
            findingDetails: 'listed twice',
            learnMoreLink: 'x',
            locations: [],
          },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        findings: [
          {
            findingType: 'SECURITY_WARNING',
            issueCode: 'PASS_ROLE_WITH_STAR_IN_RESOURCE',
            findingDetails: 'overly permissive',
            learnMoreLink: 'x',
            locations: [],
          },
        ],
      });
    const result = await verifyPlanDocuments({
      plan: irsaPlan,
      accessAnalyzer: analyzer,
    });
    expect(result.ok).toBe(false);
    expect(describeChainFailure(result)).toContain(
      'SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE: overly permissive',
    );
    expect(
      analyzerMock
        .commandCalls(ValidatePolicyCommand)
        .map(c => c.args[0].input.nextToken),
    ).toContain('page-2');
  });

  it('fails when Access Analyzer finds access that must not be granted', async () => {
    cleanAnalyzer();
    analyzerMock.on(CheckAccessNotGrantedCommand).resolves({
      result: 'FAIL',
      message: 'The policy document grants access',
      reasons: [{ description: 'statement 1 allows sqs:ReceiveMessage' }],
    });
    const result = await verifyPlanDocuments({
      plan: irsaPlan,
      accessAnalyzer: analyzer,
    });
    expect(result.ok).toBe(false);
    expect(byOutcome(result.checks, 'fail').map(c => c.check)).toContain(
      'access-analyzer-access-not-granted',
    );
    expect(describeChainFailure(result)).toContain(
      'statement 1 allows sqs:ReceiveMessage',
    );
  });

  it('warns, naming the action, when the credentials lack access-analyzer permissions', async () => {
    const denied = Object.assign(
      new Error(
        'User: arn:aws:iam::222222222222:user/ci is not authorized to perform: access-analyzer:ValidatePolicy',
      ),
      { name: 'AccessDeniedException' },
    );
    analyzerMock.on(ValidatePolicyCommand).rejects(denied);
    analyzerMock
      .on(CheckAccessNotGrantedCommand)
      .rejects(
        Object.assign(new Error('denied'), { name: 'AccessDeniedException' }),
      );
    analyzerMock
      .on(CheckNoPublicAccessCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND'), { name: 'Error' }),
      );
    const result = await verifyPlanDocuments({
      plan: irsaPlan,
      accessAnalyzer: analyzer,
      accessAnalyzerAccountId: QUEUE_ACCOUNT,
    });
    expect(result.ok).toBe(true); // nothing failed, but nothing is hidden either
    const warnings = byOutcome(result.checks, 'warning');
    expect(
      warnings.filter(w => w.check === 'access-analyzer-validate-policy'),
    ).toHaveLength(4);
    expect(warnings.map(w => w.detail)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `the credentials of account ${QUEUE_ACCOUNT} lack access-analyzer:ValidatePolicy`,
        ),
        expect.stringContaining('lack access-analyzer:CheckAccessNotGranted'),
        expect.stringContaining(
          'access-analyzer:CheckNoPublicAccess failed with Error: getaddrinfo ENOTFOUND (is IAM Access Analyzer available in this partition and region?)',
        ),
      ]),
    );
  });

  it('warns when it has no Access Analyzer client at all', async () => {
    const result = await verifyPlanDocuments({ plan: irsaPlan });
    expect(result.checks[0]).toMatchObject({
      check: 'access-analyzer-validate-policy',
      outcome: 'warning',
      detail: expect.stringContaining('not run'),
    });
  });
});

describe('in-process trust evaluation', () => {
  const trustChecks = async (p: KedaPlan) =>
    (await verifyPlanDocuments({ plan: p })).checks.filter(c =>
      c.check.startsWith('evaluate-'),
    );

  it('admits the operator role with the ExternalId only, and nobody else', async () => {
    const checks = await trustChecks(irsaPlan);
    expect(byOutcome(checks, 'fail')).toEqual([]);
    expect(byOutcome(checks, 'warning')).toEqual([]);
    expect(checks.map(c => c.subject)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'the KEDA operator role may sts:AssumeRole with the plan’s ExternalId',
        ),
        expect.stringContaining('the KEDA operator role without an ExternalId'),
        expect.stringContaining(
          'the KEDA operator role with another ExternalId',
        ),
        expect.stringContaining(
          'another role of the cluster account 111111111111',
        ),
        expect.stringContaining('the cluster account root 111111111111'),
        expect.stringContaining('a role of the queue account 222222222222'),
        expect.stringContaining('IrsaForKedaOperator (web identity)'),
        expect.stringContaining('an OIDC provider of another cluster'),
      ]),
    );
  });

  it('fails a scaler trust that does not require the ExternalId', async () => {
    const { Condition: _c, ...statement } =
      irsaPlan.scalerRole.trustPolicy.Statement[0];
    const tampered: KedaPlan = {
      ...irsaPlan,
      scalerRole: {
        ...irsaPlan.scalerRole,
        trustPolicy: { Version: '2012-10-17', Statement: [statement] },
      },
    };
    const checks = await trustChecks(tampered);
    expect(byOutcome(checks, 'fail')).toEqual([
      expect.objectContaining({
        subject: expect.stringContaining('without an ExternalId'),
        detail: expect.stringContaining(
          'the trust does not require the sts:ExternalId condition',
        ),
      }),
      expect.objectContaining({
        subject: expect.stringContaining('with another ExternalId'),
      }),
    ]);
  });

  it('fails a scaler trust that names the cluster account root', async () => {
    const tampered: KedaPlan = {
      ...irsaPlan,
      scalerRole: {
        ...irsaPlan.scalerRole,
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              ...irsaPlan.scalerRole.trustPolicy.Statement[0],
              Principal: { AWS: `arn:aws:iam::${CLUSTER_ACCOUNT}:root` },
            },
          ],
        },
      },
    };
    const failed = byOutcome(await trustChecks(tampered), 'fail');
    expect(failed.map(c => c.subject)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('another role of the cluster account'),
        expect.stringContaining('the cluster account root'),
      ]),
    );
  });

  it('warns (not fails) when the plan uses no ExternalId (KEDA < 2.20)', async () => {
    const checks = await trustChecks(oldKedaPlan);
    expect(byOutcome(checks, 'fail')).toEqual([]);
    expect(byOutcome(checks, 'warning')).toEqual([
      expect.objectContaining({
        detail: expect.stringContaining('requires no ExternalId'),
      }),
    ]);
  });

  it('checks the web identity conditions the evaluator does not model', async () => {
    const [statement] = irsaPlan.operatorRole.trustPolicy.Statement;
    const withoutAud: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          ...statement,
          Condition: {
            StringLike: {
              'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:sub':
                'system:serviceaccount:*',
            },
          },
        },
      ],
    };
    const checks = await trustChecks({
      ...irsaPlan,
      operatorRole: { ...irsaPlan.operatorRole, trustPolicy: withoutAud },
    });
    const failed = byOutcome(checks, 'fail');
    expect(failed.map(c => c.detail).join(' ')).toContain(
      'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:aud = null, not StringEquals sts.amazonaws.com',
    );
    expect(failed.map(c => c.detail).join(' ')).toContain(
      'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:sub = null, not StringEquals system:serviceaccount:keda:keda-operator',
    );
  });

  it('evaluates the Pod Identity trust the plan has, for this cluster only', async () => {
    const checks = await trustChecks(podIdentityPlan);
    expect(byOutcome(checks, 'fail')).toEqual([]);
    const operatorTrust = checks.filter(
      c => c.check === 'evaluate-operator-trust',
    );
    expect(
      operatorTrust.map(c => [c.subject.split(': ')[1], c.outcome]),
    ).toEqual(
      expect.arrayContaining([
        [
          'EKS Pod Identity may sts:AssumeRole for the operator of cluster prod-eu',
          'pass',
        ],
        ['EKS Pod Identity may sts:TagSession for it', 'pass'],
        ['EKS Pod Identity for another cluster of the account', 'pass'],
        ['another role of the cluster account 111111111111', 'pass'],
      ]),
    );
  });

  it('says how to enable it when @cloud-copilot/iam-simulate is not installed, and still checks the web identity conditions', async () => {
    const missing = async () => {
      throw Object.assign(
        new Error("Cannot find module '@cloud-copilot/iam-simulate'"),
        { code: 'MODULE_NOT_FOUND' },
      );
    };
    const result = await verifyPlanDocuments({
      plan: irsaPlan,
      loadIamSimulate: missing,
    });
    const evaluated = result.checks.filter(c =>
      c.check.startsWith('evaluate-'),
    );
    expect(evaluated[0]).toEqual({
      check: 'evaluate-scaler-trust',
      subject: 'scaler and KEDA operator role trust policies',
      outcome: 'warning',
      detail:
        'in-process trust evaluation not run: @cloud-copilot/iam-simulate is not installed; install @cloud-copilot/iam-simulate (AGPL-3.0) next to the backend to enable it',
    });
    expect(evaluated.slice(1)).toEqual([
      expect.objectContaining({
        check: 'evaluate-operator-trust',
        outcome: 'pass',
      }),
    ]);
  });
});

describe('verifyScalerChain (after provisioning)', () => {
  it('simulates the roles’ identity policies only in forms AWS accepts', async () => {
    cleanAnalyzer();
    chainAsPlanned(irsaPlan);
    const result = await verifyScalerChain({
      plan: irsaPlan,
      queueAccountIam: queueIam,
      clusterAccountIam: clusterIam,
      accessAnalyzer: analyzer,
    });
    expect(byOutcome(result.checks, 'fail')).toEqual([]);
    expect(result.ok).toBe(true);
    const calls = iamMock
      .commandCalls(SimulatePrincipalPolicyCommand)
      .map(c => c.args[0].input);
    for (const call of calls) {
      // AWS refuses a resource policy with a role source unless CallerArn is a user
      expect(call).not.toHaveProperty('ResourcePolicy');
      expect(call).not.toHaveProperty('CallerArn');
    }
    expect(calls).toEqual([
      {
        PolicySourceArn: irsaPlan.scalerRole.arn,
        ActionNames: [
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:SendMessage',
          'sqs:PurgeQueue',
        ],
        ResourceArns: [irsaPlan.queue.arn],
      },
      {
        PolicySourceArn: irsaPlan.operatorRole.arn,
        ActionNames: ['sts:AssumeRole'],
        ResourceArns: [irsaPlan.scalerRole.arn],
      },
      {
        PolicySourceArn: irsaPlan.operatorRole.arn,
        ActionNames: ['sts:AssumeRole'],
        ResourceArns: [
          expect.stringMatching(
            /^arn:aws:iam::222222222222:role\/not-keda-[0-9a-f]{8}$/,
          ),
        ],
      },
    ]);
    expect(formatVerificationCheck(result.checks[0])).toBe(
      `[pass] simulate-scaler-permissions: ${irsaPlan.scalerRole.arn} sqs:GetQueueAttributes on ${irsaPlan.queue.arn}: allowed (expected allowed)`,
    );
  });

  it('fails when the scaler role may consume the queue or the operator may not assume it', async () => {
    cleanAnalyzer();
    simulatorAllowing({
      [irsaPlan.scalerRole.arn]: [
        `sqs:GetQueueAttributes ${irsaPlan.queue.arn}`,
        `sqs:ReceiveMessage ${irsaPlan.queue.arn}`,
      ],
    });
    const result = await verifyScalerChain({
      plan: irsaPlan,
      queueAccountIam: queueIam,
      clusterAccountIam: clusterIam,
      accessAnalyzer: analyzer,
    });
    expect(result.ok).toBe(false);
    expect(describeChainFailure(result)).toBe(
      [
        `simulate-scaler-permissions (${irsaPlan.scalerRole.arn} sqs:ReceiveMessage on ${irsaPlan.queue.arn}): implicitDeny`.replace(
          'implicitDeny',
          'allowed (expected denied); more than KEDA needs: check policies attached to the role outside Backstage',
        ),
        `simulate-operator-permissions (${irsaPlan.operatorRole.arn} sts:AssumeRole on ${irsaPlan.scalerRole.arn}): implicitDeny (expected allowed); run the keda-cluster-onboarding template so the operator role may assume roles under keda.roles.path`,
      ].join('; '),
    );
  });

  it('warns naming iam:SimulatePrincipalPolicy when it is denied, and fails for a missing role', async () => {
    cleanAnalyzer();
    iamMock
      .on(SimulatePrincipalPolicyCommand, {
        PolicySourceArn: irsaPlan.scalerRole.arn,
      })
      .rejects(
        Object.assign(
          new Error('not authorized to perform: iam:SimulatePrincipalPolicy'),
          {
            name: 'AccessDenied',
          },
        ),
      )
      .on(SimulatePrincipalPolicyCommand, {
        PolicySourceArn: irsaPlan.operatorRole.arn,
      })
      .rejects(
        Object.assign(
          new Error('The role with name keda-operator cannot be found.'),
          {
            name: 'NoSuchEntityException',
          },
        ),
      );
    const result = await verifyScalerChain({
      plan: irsaPlan,
      queueAccountIam: queueIam,
      clusterAccountIam: clusterIam,
      accessAnalyzer: analyzer,
    });
    const simulated = result.checks.filter(c =>
      c.check.startsWith('simulate-'),
    );
    expect(simulated[0]).toMatchObject({
      outcome: 'warning',
      detail: expect.stringContaining(
        `the credentials of account ${QUEUE_ACCOUNT} lack iam:SimulatePrincipalPolicy`,
      ),
    });
    expect(simulated[1]).toMatchObject({
      outcome: 'fail',
      detail: expect.stringContaining(
        'the role does not exist in account 111111111111',
      ),
    });
  });

  it('warns that the operator role is not checked without cluster account credentials', async () => {
    cleanAnalyzer();
    chainAsPlanned(irsaPlan);
    const result = await verifyScalerChain({
      plan: irsaPlan,
      queueAccountIam: queueIam,
      accessAnalyzer: analyzer,
    });
    expect(result.ok).toBe(true);
    expect(
      result.checks.find(c => c.check === 'simulate-operator-permissions'),
    ).toMatchObject({
      outcome: 'warning',
      detail:
        'not checked: no credentials for the cluster account 111111111111 (aws.accounts)',
    });
  });

  it('simulates sts:TagSession too for a Pod Identity cluster', async () => {
    cleanAnalyzer();
    chainAsPlanned(podIdentityPlan);
    const result = await verifyScalerChain({
      plan: podIdentityPlan,
      queueAccountIam: queueIam,
      clusterAccountIam: clusterIam,
      accessAnalyzer: analyzer,
    });
    expect(byOutcome(result.checks, 'fail')).toEqual([]);
    expect(
      iamMock.commandCalls(SimulatePrincipalPolicyCommand)[1].args[0].input
        .ActionNames,
    ).toEqual(['sts:AssumeRole', 'sts:TagSession']);
  });
});
