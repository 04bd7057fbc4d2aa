import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mockClient } from 'aws-sdk-client-mock';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  ORDERS_SCALER_ROLE,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaScalerRoleDeleteAction } from './scalerRoleDelete';

const iamMock = mockClient(IAMClient);
const ROLE = ORDERS_SCALER_ROLE;
const input = {
  cluster: 'demo-eks',
  namespace: 'orders',
  workloadName: 'orders-worker',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders-queue',
};
const tags = {
  'backstage.io/managed-by': 'backstage-keda',
  'keda.backstage.io/cluster': 'demo-eks',
  'keda.backstage.io/namespace': 'orders',
  'keda.backstage.io/queue-arn':
    'arn:aws:sqs:eu-west-1:222222222222:orders-queue',
};

function setup(
  permission:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
) {
  const aws = recordingAwsFactory();
  const action = createKedaScalerRoleDeleteAction({
    planner: new KedaPlanner({ config: testConfig(), aws: aws.factory }),
    aws: aws.factory,
    permissions: fixedPermissions(permission).service,
  });
  return { action, aws };
}

describe('keda:aws:scaler-role:delete', () => {
  beforeEach(() => iamMock.reset());

  it('deletes the managed scaler role of the workload in the queue account', async () => {
    const { action, aws } = setup();
    iamMock.on(GetRoleCommand, { RoleName: ROLE }).resolves({
      Role: {
        RoleName: ROLE,
        Arn: `arn:aws:iam::222222222222:role/keda/${ROLE}`,
        Path: '/keda/',
        RoleId: 'AROA1',
        CreateDate: new Date(0),
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      },
    });
    iamMock
      .on(ListRolePoliciesCommand)
      .resolves({ PolicyNames: ['keda-read-queue-depth'] });
    iamMock
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [] });

    const { outputs } = await runAction(action, input);

    expect(aws.accounts).toEqual(['222222222222']);
    expect(outputs).toEqual({
      roleArn: `arn:aws:iam::222222222222:role/keda/${ROLE}`,
      deleted: true,
      alreadyAbsent: false,
    });
    expect(iamMock.commandCalls(DeleteRolePolicyCommand)).toHaveLength(1);
    expect(iamMock.commandCalls(DeleteRoleCommand)[0].args[0].input).toEqual({
      RoleName: ROLE,
    });
  });

  it('succeeds when the role is already gone', async () => {
    const { action } = setup();
    iamMock
      .on(GetRoleCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'NoSuchEntity' }));
    const { outputs } = await runAction(action, input);
    expect(outputs).toMatchObject({ deleted: false, alreadyAbsent: true });
    expect(iamMock.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('does not delete a role of another queue that happens to have the name', async () => {
    const { action } = setup();
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: ROLE,
        Arn: `arn:aws:iam::222222222222:role/keda/${ROLE}`,
        Path: '/keda/',
        RoleId: 'AROA1',
        CreateDate: new Date(0),
        Tags: Object.entries({
          ...tags,
          'keda.backstage.io/queue-arn':
            'arn:aws:sqs:eu-west-1:222222222222:other',
        }).map(([Key, Value]) => ({ Key, Value })),
      },
    });
    await expect(runAction(action, input)).rejects.toThrow(
      'belongs to another workload',
    );
    expect(iamMock.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('needs keda.iam.provision and calls nothing in dry run', async () => {
    await expect(
      runAction(setup(AuthorizeResult.DENY).action, input),
    ).rejects.toThrow('Deleting a scaler role changes IAM');
    const { outputs } = await runAction(setup().action, input, {
      dryRun: true,
    });
    expect(outputs.roleArn).toBe(`arn:aws:iam::222222222222:role/keda/${ROLE}`);
    expect(iamMock.calls()).toHaveLength(0);
  });

  it.each(exampleInputs(setup().action))(
    'runs the example in dry run: $description',
    async ({ input: example }) => {
      const { outputs } = await runAction(setup().action, example, {
        dryRun: true,
      });
      expect(outputs.deleted).toBe(false);
    },
  );
});
