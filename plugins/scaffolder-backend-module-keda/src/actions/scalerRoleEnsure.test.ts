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
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mockClient } from 'aws-sdk-client-mock';
import { plan as planOf, policyJson } from '@internal/plugin-keda-common';
import { clusterSpecOf, readKedaConfig } from '@internal/plugin-keda-node';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  ordersRequest,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';

const iamMock = mockClient(IAMClient);
const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';
const ROLE_ARN =
  'arn:aws:iam::222222222222:role/keda/keda-sqs-demo-eks-orders-orders-worker';

function setup(
  permission:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.DENY,
) {
  const config = testConfig();
  const aws = recordingAwsFactory();
  const permissions = fixedPermissions(permission);
  const action = createKedaScalerRoleEnsureAction({
    planner: new KedaPlanner({ config, aws: aws.factory }),
    aws: aws.factory,
    permissions: permissions.service,
  });
  return { action, aws, permissions, config };
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

function simulatorAllowsChain() {
  iamMock.on(SimulatePrincipalPolicyCommand).callsFake(input => ({
    EvaluationResults: (input.ActionNames as string[]).map(action => ({
      EvalActionName: action,
      EvalDecision:
        action === 'sqs:GetQueueAttributes' || action === 'sts:AssumeRole'
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
  beforeEach(() => iamMock.reset());

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
    expect(outputs.verification.decisions).toHaveLength(4);
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
    const { action, aws } = setup();
    const { outputs } = await runAction(action, input, { dryRun: true });
    expect(iamMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
    expect(outputs).toEqual({
      roleArn: ROLE_ARN,
      roleName: 'keda-sqs-demo-eks-orders-orders-worker',
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
      `The scaler role was converged but the chain does not work: ${ROLE_ARN} is not allowed sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:222222222222:orders-queue (simulator: implicitDeny)`,
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
