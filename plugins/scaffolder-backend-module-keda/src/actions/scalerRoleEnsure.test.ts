import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import {
  AccessAnalyzerClient,
  CheckAccessNotGrantedCommand,
  CheckNoPublicAccessCommand,
  ValidatePolicyCommand,
} from '@aws-sdk/client-accessanalyzer';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mockClient } from 'aws-sdk-client-mock';
import {
  plan as planOf,
  policyJson,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  readKedaConfig,
} from '@keda-self-service/plugin-keda-node';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import { NotAllowedError } from '@backstage/errors';
import {
  exampleInputs,
  fakePreflight,
  ORDERS_SCALER_ROLE,
  ORDERS_SCALER_ROLE_ARN,
  ordersRequest,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';

const iamMock = mockClient(IAMClient);
// Access Analyzer as AWS answers for the planned (least-privilege) documents.
const analyzerMock = mockClient(AccessAnalyzerClient);
function cleanAnalyzer() {
  analyzerMock.reset();
  analyzerMock.on(ValidatePolicyCommand).resolves({ findings: [] });
  analyzerMock.on(CheckAccessNotGrantedCommand).resolves({ result: 'PASS' });
  analyzerMock.on(CheckNoPublicAccessCommand).resolves({ result: 'PASS' });
}
const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';
const ROLE_ARN = ORDERS_SCALER_ROLE_ARN;

function setup(
  permission:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.DENY,
  /** the keda backend's preflight; null: no request API configured */
  backend: ReturnType<typeof fakePreflight> | null = fakePreflight(),
) {
  const config = testConfig();
  const aws = recordingAwsFactory();
  const permissions = fixedPermissions(permission);
  const action = createKedaScalerRoleEnsureAction({
    planner: new KedaPlanner({
      config,
      aws: aws.factory,
      requests: backend?.api,
    }),
    aws: aws.factory,
    permissions: permissions.service,
  });
  return { action, aws, permissions, config, backend };
}

/** The plan as the server computes it, to describe what IAM holds after a first run. */
function expectedPlan(request = ordersRequest) {
  const keda = readKedaConfig(testConfig());
  return planOf({
    request,
    cluster: clusterSpecOf(keda.clusters[0]) as any,
    roles: keda.roles,
    guardrails: keda.guardrails,
    externalId: EXTERNAL_ID,
    requester: 'user:default/dana',
  });
}

function convergedRole(): Role {
  const p = expectedPlan();
  return {
    RoleName: p.scalerRole.name,
    RoleId: 'AROASCALER',
    Arn: p.scalerRole.arn,
    Path: '/keda/',
    CreateDate: new Date(0),
    AssumeRolePolicyDocument: encodeURIComponent(
      policyJson(p.scalerRole.trustPolicy),
    ),
    Description: p.scalerRole.description,
    MaxSessionDuration: 3600,
    Tags: Object.entries(p.scalerRole.tags).map(([Key, Value]) => ({
      Key,
      Value,
    })),
  };
}

/** The simulator: the scaler role reads its queue, the operator assumes scaler roles only. */
function simulatorAllowsChain() {
  iamMock.on(SimulatePrincipalPolicyCommand).callsFake(input => ({
    EvaluationResults: (input.ActionNames as string[]).map(action => ({
      EvalActionName: action,
      EvalDecision:
        action === 'sqs:GetQueueAttributes' ||
        (action === 'sts:AssumeRole' && input.ResourceArns[0] === ROLE_ARN)
          ? 'allowed'
          : 'implicitDeny',
    })),
  }));
}

const input = {
  request: ordersRequest,
  externalId: EXTERNAL_ID,
  autoApproved: true,
};

describe('keda:aws:scaler-role:ensure', () => {
  beforeEach(() => {
    iamMock.reset();
    cleanAnalyzer();
  });

  it('creates the role from the server-side plan in the queue account and verifies the chain', async () => {
    const { action, aws, permissions } = setup();
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(Object.assign(new Error('no'), { name: 'NoSuchEntity' }))
      .resolves({ Role: convergedRole() });
    iamMock.on(CreateRoleCommand).resolves({});
    iamMock.on(PutRolePolicyCommand).resolves({});
    simulatorAllowsChain();
    const checkpoints: string[] = [];

    const { outputs } = await runAction(action, input, {
      checkpoints,
      taskId: 'task-42',
    });

    expect(outputs).toMatchObject({
      roleArn: ROLE_ARN,
      accountId: '222222222222',
      created: true,
      changes: ['create-role', 'put-role-policy:keda-read-queue-depth'],
      verification: { ok: true },
    });
    // simulator, Access Analyzer and in-process evaluation, none failed
    const checks = outputs.verification.checks as Array<{
      check: string;
      outcome: string;
    }>;
    expect(checks.filter(c => c.outcome === 'fail')).toEqual([]);
    expect(new Set(checks.map(c => c.check))).toEqual(
      new Set([
        'simulate-scaler-permissions',
        'simulate-operator-permissions',
        'access-analyzer-validate-policy',
        'access-analyzer-access-not-granted',
        'access-analyzer-no-public-access',
        'evaluate-scaler-trust',
        'evaluate-operator-trust',
      ]),
    );
    expect(analyzerMock.commandCalls(ValidatePolicyCommand)).toHaveLength(4);
    // an auto-approved plan claimed as such needs no platform permission
    expect(permissions.asked).toEqual([]);
    expect(aws.accounts).toEqual(['222222222222', '111111111111']);
    const create = iamMock.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(JSON.parse(create.AssumeRolePolicyDocument!)).toEqual(
      expectedPlan().scalerRole.trustPolicy,
    );
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        {
          Key: 'keda.backstage.io/entity-ref',
          Value: 'component:default/orders-worker',
        },
        { Key: 'keda.backstage.io/requested-by', Value: 'user:default/dana' },
        { Key: 'keda.backstage.io/task-id', Value: 'task-42' },
      ]),
    );
    expect(checkpoints).toEqual([
      expect.stringMatching(/^create-role:/),
      expect.stringMatching(/^put-role-policy:/),
    ]);
  });

  it('makes no mutating call on a second run', async () => {
    const { action } = setup();
    iamMock.on(GetRoleCommand).resolves({ Role: convergedRole() });
    iamMock.on(GetRolePolicyCommand).resolves({
      PolicyDocument: encodeURIComponent(
        policyJson(expectedPlan().scalerRole.permissionPolicy),
      ),
    });
    simulatorAllowsChain();

    const { outputs } = await runAction(action, input, { taskId: 'task-43' });

    expect(outputs.changes).toEqual([]);
    expect(outputs.created).toBe(false);
    for (const command of [
      CreateRoleCommand,
      PutRolePolicyCommand,
      TagRoleCommand,
      UpdateAssumeRolePolicyCommand,
    ]) {
      expect(iamMock.commandCalls(command as any)).toHaveLength(0);
    }
  });

  it('makes no AWS call at all in dry run and still outputs the role', async () => {
    const { action, aws, backend } = setup();
    const { outputs } = await runAction(action, input, { dryRun: true });
    expect(iamMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
    // nor asks the keda backend: dry run must not need it
    expect(backend!.calls).toEqual([]);
    expect(outputs).toEqual({
      roleArn: ROLE_ARN,
      roleName: ORDERS_SCALER_ROLE,
      accountId: '222222222222',
      created: false,
      changes: [],
    });
  });

  it('refuses a plan that needs approval when the initiator may not provision IAM, whatever autoApproved says', async () => {
    const { action, permissions } = setup(AuthorizeResult.DENY);
    await expect(
      runAction(action, {
        ...input,
        request: { ...ordersRequest, maxReplicas: 30 },
      }),
    ).rejects.toThrow(
      'The recomputed plan needs approval (maxReplicas 30 is above 20, the most that is approved automatically) although the step claims autoApproved: true, and only members of the KEDA approver groups',
    );
    expect(permissions.asked).toEqual(['keda.iam.provision']);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('asks the keda backend as the initiator before any AWS call, with the ExternalId', async () => {
    const { action, backend } = setup();
    iamMock.on(GetRoleCommand).resolves({ Role: convergedRole() });
    iamMock.on(GetRolePolicyCommand).resolves({
      PolicyDocument: encodeURIComponent(
        policyJson(expectedPlan().scalerRole.permissionPolicy),
      ),
    });
    simulatorAllowsChain();
    await runAction(action, input);
    expect(backend!.calls).toEqual([
      {
        request: ordersRequest,
        externalId: EXTERNAL_ID,
        user: 'user:default/mock',
      },
    ]);
  });

  it('refuses when the keda backend says the request needs approval, before any IAM call, even for an approver', async () => {
    const reason =
      'It changes request req-0001, which user:default/priya approved: a change to an approved request needs approval again';
    for (const permission of [AuthorizeResult.DENY, AuthorizeResult.ALLOW]) {
      const { action, aws } = setup(
        permission,
        fakePreflight({ autoApproved: false, approvalReasons: [reason] }),
      );
      const error = await runAction(action, input).catch(e => e);
      expect(error).toBeInstanceOf(NotAllowedError);
      expect(error.message).toBe(
        `autoApproved: the step claims an auto-approved plan, but the keda backend says it needs approval (${reason}). The scaler role is created only after a platform engineer approves the request on the KEDA requests page`,
      );
      expect(iamMock.calls()).toHaveLength(0);
      expect(aws.accounts).toEqual([]);
    }
  });

  it('refuses an ExternalId that is not the workload’s, before any IAM call', async () => {
    const { action, aws } = setup(
      AuthorizeResult.DENY,
      fakePreflight({ externalId: 'fedcba9876543210fedcba9876543210' }),
    );
    await expect(runAction(action, input)).rejects.toThrow(
      'externalId: the step’s externalId is not the ExternalId the keda backend keeps for this workload (a workload has one). Run the template again so that keda:plan plans with the workload’s ExternalId',
    );
    expect(iamMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
  });

  it('fails with the backend’s refusal (not the owner, a request in flight) before any IAM call', async () => {
    const refusal = new NotAllowedError(
      'keda backend: POST /requests/preflight answered 403 Forbidden: user:default/dana may not request autoscaling for component:default/orders-worker: it is owned by group:default/team-orders',
    );
    const { action } = setup(AuthorizeResult.DENY, fakePreflight(refusal));
    await expect(runAction(action, input)).rejects.toThrow(refusal.message);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('treats autoApproved as unconfirmed without the keda backend’s request API', async () => {
    const { action, permissions } = setup(AuthorizeResult.DENY, null);
    await expect(runAction(action, input)).rejects.toThrow(
      'The keda backend’s request API is not configured, so the claimed auto-approval cannot be confirmed, and only members of the KEDA approver groups',
    );
    expect(permissions.asked).toEqual(['keda.iam.provision']);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it('lets an approver provision a plan that needs approval', async () => {
    const { action, permissions } = setup(AuthorizeResult.ALLOW);
    iamMock.on(GetRoleCommand).resolves({ Role: convergedRole() });
    iamMock.on(GetRolePolicyCommand).resolves({
      PolicyDocument: encodeURIComponent(
        policyJson(expectedPlan().scalerRole.permissionPolicy),
      ),
    });
    iamMock.on(UpdateAssumeRolePolicyCommand).resolves({});
    iamMock.on(TagRoleCommand).resolves({});
    simulatorAllowsChain();
    const { outputs } = await runAction(action, {
      request: { ...ordersRequest, maxReplicas: 30 },
      externalId: EXTERNAL_ID,
    });
    expect(permissions.asked).toEqual(['keda.iam.provision']);
    // maxReplicas is not part of IAM: the role is already right
    expect(outputs.changes).toEqual([]);
  });

  it('requires the ExternalId of the plan instead of inventing one', async () => {
    const { action } = setup();
    await expect(
      runAction(action, { request: ordersRequest, autoApproved: true }),
    ).rejects.toThrow('externalId is required for this cluster');
  });

  it('fails when the simulator shows the chain is broken, naming principal and action', async () => {
    const { action } = setup();
    iamMock.on(GetRoleCommand).resolves({ Role: convergedRole() });
    iamMock.on(GetRolePolicyCommand).resolves({
      PolicyDocument: encodeURIComponent(
        policyJson(expectedPlan().scalerRole.permissionPolicy),
      ),
    });
    iamMock.on(SimulatePrincipalPolicyCommand).callsFake(i => ({
      EvaluationResults: (i.ActionNames as string[]).map(a => ({
        EvalActionName: a,
        EvalDecision: a === 'sts:AssumeRole' ? 'allowed' : 'implicitDeny',
      })),
    }));
    await expect(runAction(action, input)).rejects.toThrow(
      `The scaler role was converged but the chain does not work: simulate-scaler-permissions (${ROLE_ARN} sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:222222222222:orders-queue): implicitDeny (expected allowed); a permissions boundary (keda.roles.permissionsBoundaryArn) or an SCP may deny it`,
    );
  });

  it.each(exampleInputs(setup().action))(
    'runs the example in dry run: $description',
    async ({ input: example }) => {
      const { action } = setup(AuthorizeResult.ALLOW);
      const { outputs } = await runAction(action, example, { dryRun: true });
      expect(outputs.roleArn).toBe(ROLE_ARN);
      expect(iamMock.calls()).toHaveLength(0);
    },
  );
});
