import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { createMockDirectory } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { mockClient } from 'aws-sdk-client-mock';
import yaml from 'yaml';
import { KedaPlanner } from '../lib/planner';
import { recordingAwsFactory } from '../__testUtils__/awsClients';
import {
  exampleInputs,
  kedaConfigData,
  OPERATOR_ROLE,
  OPERATOR_ROLE_ARN,
  runAction,
  testConfig,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaOperatorRoleEnsureAction } from './operatorRoleEnsure';

const iamMock = mockClient(IAMClient);

function setup(
  permission:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  config = testConfig(),
) {
  const aws = recordingAwsFactory();
  const permissions = fixedPermissions(permission);
  const action = createKedaOperatorRoleEnsureAction({
    planner: new KedaPlanner({ config, aws: aws.factory }),
    aws: aws.factory,
    permissions: permissions.service,
  });
  return { action, aws, permissions };
}

describe('keda:aws:operator-role:ensure', () => {
  const workspace = createMockDirectory();
  beforeEach(() => {
    iamMock.reset();
    workspace.clear();
  });

  it('creates the IRSA operator role in the cluster account with the restricted assume permission', async () => {
    const { action, aws } = setup();
    iamMock
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ ClientIDList: ['sts.amazonaws.com'] });
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(Object.assign(new Error('no'), { name: 'NoSuchEntity' }))
      .resolves({
        Role: {
          RoleName: OPERATOR_ROLE,
          RoleId: 'AROAOPERATOR',
          Arn: OPERATOR_ROLE_ARN,
          Path: '/',
          CreateDate: new Date(0),
        },
      });
    const { outputs } = await runAction(action, { cluster: 'demo-eks' });

    expect(aws.accounts).toEqual(['111111111111']);
    expect(outputs).toMatchObject({
      roleArn: OPERATOR_ROLE_ARN,
      created: true,
      changes: ['create-role', 'put-role-policy:keda-assume-scaler-roles'],
    });
    const create = iamMock.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(
      JSON.parse(create.AssumeRolePolicyDocument!).Statement[0],
    ).toMatchObject({
      Principal: {
        Federated:
          'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub':
            'system:serviceaccount:keda:keda-operator',
          'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud':
            'sts.amazonaws.com',
        },
      },
    });
    expect(create.Tags).toContainEqual({
      Key: 'keda.backstage.io/cluster',
      Value: 'demo-eks',
    });
    const put = iamMock.commandCalls(PutRolePolicyCommand)[0].args[0].input;
    expect(JSON.parse(put.PolicyDocument!).Statement).toEqual([
      expect.objectContaining({
        Action: 'sts:AssumeRole',
        Resource: [
          'arn:aws:iam::222222222222:role/keda/keda-sqs-*',
          'arn:aws:iam::333333333333:role/keda/keda-sqs-*',
        ],
      }),
    ]);
  });

  it('refuses to create a role IRSA cannot use: OIDC provider missing or without the STS audience', async () => {
    const { action } = setup();
    const providerArn =
      'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    iamMock
      .on(GetOpenIDConnectProviderCommand, {
        OpenIDConnectProviderArn: providerArn,
      })
      .rejectsOnce(
        Object.assign(new Error('not found'), {
          name: 'NoSuchEntityException',
        }),
      )
      .resolves({ ClientIDList: ['some-other-client'] });

    await expect(runAction(action, { cluster: 'demo-eks' })).rejects.toThrow(
      `The cluster's OIDC provider ${providerArn} is not registered in account 111111111111`,
    );
    await expect(runAction(action, { cluster: 'demo-eks' })).rejects.toThrow(
      `The OIDC provider ${providerArn} does not accept the audience sts.amazonaws.com (client ids: some-other-client)`,
    );
    expect(iamMock.commandCalls(CreateRoleCommand)).toHaveLength(0);
  });

  it('outputs and writes the KEDA Helm values, and calls nothing in dry run', async () => {
    const { action, aws } = setup();
    const { outputs } = await runAction(
      action,
      { cluster: 'demo-eks', valuesPath: 'gitops/keda/values.yaml' },
      { dryRun: true, workspacePath: workspace.path },
    );
    expect(iamMock.calls()).toHaveLength(0);
    expect(aws.accounts).toEqual([]);
    expect(yaml.parse(outputs.helmValues)).toEqual({
      podIdentity: {
        aws: {
          irsa: {
            enabled: true,
            roleArn: OPERATOR_ROLE_ARN,
            audience: 'sts.amazonaws.com',
          },
        },
      },
    });
    expect(workspace.content()).toEqual({
      gitops: { keda: { 'values.yaml': outputs.helmValues } },
    });
  });

  it.each([
    [
      'irsa',
      {
        podIdentity: {
          aws: {
            irsa: {
              enabled: true,
              roleArn: OPERATOR_ROLE_ARN,
              audience: 'sts.amazonaws.com',
            },
          },
        },
      },
      // the IRSA trust names the ServiceAccount the chart creates
      'system:serviceaccount:keda:keda-operator-prod',
    ],
    [
      'pod-identity',
      { podIdentity: { aws: { irsa: { enabled: false } } } },
      // the Pod Identity association (outside this action) names it
      'pods.eks.amazonaws.com',
    ],
  ])(
    'names a non-default operator ServiceAccount in the Helm values (%s)',
    async (identity, podIdentityValues, trustNames) => {
      const [cluster] = kedaConfigData().clusters;
      const config = testConfig({
        keda: {
          clusters: [
            {
              ...cluster,
              identity,
              operator: { serviceAccount: 'keda-operator-prod' },
            },
          ],
        },
      });
      const { action } = setup(AuthorizeResult.ALLOW, config);
      const { outputs } = await runAction(
        action,
        { cluster: 'demo-eks' },
        { dryRun: true },
      );
      // chart v2.20: serviceAccount.operator.name (default keda-operator)
      expect(yaml.parse(outputs.helmValues)).toEqual({
        ...podIdentityValues,
        serviceAccount: { operator: { name: 'keda-operator-prod' } },
      });
      expect(outputs.trustPolicy).toContain(trustNames);
    },
  );

  it('leaves the operator ServiceAccount to the chart when it is keda-operator', async () => {
    const [cluster] = kedaConfigData().clusters;
    const config = testConfig({
      keda: {
        clusters: [
          { ...cluster, operator: { serviceAccount: 'keda-operator' } },
        ],
      },
    });
    const { action } = setup(AuthorizeResult.ALLOW, config);
    const { outputs } = await runAction(
      action,
      { cluster: 'demo-eks' },
      { dryRun: true },
    );
    expect(yaml.parse(outputs.helmValues)).not.toHaveProperty('serviceAccount');
  });

  it('is for the platform team only', async () => {
    const { action } = setup(AuthorizeResult.DENY);
    await expect(runAction(action, { cluster: 'demo-eks' })).rejects.toThrow(
      'Onboarding a cluster creates its KEDA operator role, and only members of the KEDA approver groups',
    );
    expect(iamMock.calls()).toHaveLength(0);
  });

  it.each(exampleInputs(setup().action))(
    'runs the example in dry run: $description',
    async ({ input }) => {
      const { action } = setup();
      const { outputs } = await runAction(action, input, {
        dryRun: true,
        workspacePath: workspace.path,
      });
      expect(outputs.roleArn).toBe(OPERATOR_ROLE_ARN);
    },
  );
});
