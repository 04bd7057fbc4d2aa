import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreatePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
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
const eksMock = mockClient(EKSClient);

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
    eksMock.reset();
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

  describe('EKS Pod Identity cluster', () => {
    const podIdentityConfig = (extra: object = {}) => {
      const [cluster] = kedaConfigData({ oidcIssuer: null }).clusters;
      return testConfig({
        oidcIssuer: null,
        keda: {
          clusters: [{ ...cluster, identity: 'pod-identity', ...extra }],
        },
      });
    };
    const ASSOCIATION = {
      associationId: 'a-0123456789abcdefg',
      associationArn:
        'arn:aws:eks:eu-west-1:111111111111:podidentityassociation/demo-eks/a-0123456789abcdefg',
    };
    const roleLookup = () =>
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

    it('checks the agent add-on, creates the role, then binds the operator service account with a tagged association', async () => {
      const { action } = setup(AuthorizeResult.ALLOW, podIdentityConfig());
      eksMock
        .on(DescribeAddonCommand)
        .resolves({ addon: { status: 'ACTIVE', addonVersion: 'v1.3.8' } });
      eksMock
        .on(ListPodIdentityAssociationsCommand)
        .resolves({ associations: [] });
      eksMock.on(CreatePodIdentityAssociationCommand).resolves({
        association: { ...ASSOCIATION, roleArn: OPERATOR_ROLE_ARN },
      });
      roleLookup();
      const { outputs } = await runAction(action, { cluster: 'demo-eks' });
      expect(outputs).toMatchObject({
        roleArn: OPERATOR_ROLE_ARN,
        podIdentityAssociationId: ASSOCIATION.associationId,
        podIdentityAssociationArn: ASSOCIATION.associationArn,
        changes: [
          'create-role',
          'put-role-policy:keda-assume-scaler-roles',
          'eks:CreatePodIdentityAssociation',
        ],
      });
      const trust = JSON.parse(
        iamMock.commandCalls(CreateRoleCommand)[0].args[0].input
          .AssumeRolePolicyDocument!,
      );
      expect(trust.Statement[0].Condition.StringEquals).toEqual({
        'aws:RequestTag/eks-cluster-arn':
          'arn:aws:eks:eu-west-1:111111111111:cluster/demo-eks',
        'aws:RequestTag/kubernetes-namespace': 'keda',
        'aws:RequestTag/kubernetes-service-account': 'keda-operator',
      });
      const create = eksMock.commandCalls(
        CreatePodIdentityAssociationCommand,
      )[0].args[0].input;
      expect(create).toMatchObject({
        clusterName: 'demo-eks',
        namespace: 'keda',
        serviceAccount: 'keda-operator',
        roleArn: OPERATOR_ROLE_ARN,
        tags: {
          'cost-center': 'platform',
          'backstage.io/managed-by': 'backstage-keda',
          'keda.backstage.io/cluster': 'demo-eks',
        },
      });
      expect(create.clientRequestToken).toMatch(/^[0-9a-f]{32}$/);
      // Helm values: no IRSA annotation on the service account
      expect(yaml.parse(outputs.helmValues)).toEqual({
        podIdentity: { aws: { irsa: { enabled: false } } },
      });
      expect(
        iamMock.commandCalls(GetOpenIDConnectProviderCommand),
      ).toHaveLength(0);
    });

    it('refuses before any change when the cluster has no Pod Identity agent', async () => {
      const { action } = setup(AuthorizeResult.ALLOW, podIdentityConfig());
      eksMock.on(DescribeAddonCommand).rejects(
        Object.assign(
          new Error(
            'No addon: eks-pod-identity-agent found in cluster: demo-eks',
          ),
          {
            name: 'ResourceNotFoundException',
          },
        ),
      );
      eksMock
        .on(DescribeClusterCommand)
        .resolves({ cluster: { name: 'demo-eks' } });
      await expect(runAction(action, { cluster: 'demo-eks' })).rejects.toThrow(
        /has no eks-pod-identity-agent add-on.*aws eks create-addon --cluster-name demo-eks --addon-name eks-pod-identity-agent/,
      );
      expect(iamMock.calls()).toHaveLength(0);
      expect(
        eksMock.commandCalls(CreatePodIdentityAssociationCommand),
      ).toHaveLength(0);
    });

    it('refuses an eks.clusterName that differs from the name the trust pins, before any call', async () => {
      const { action, aws } = setup(
        AuthorizeResult.ALLOW,
        podIdentityConfig({ eks: { clusterName: 'prod-cluster-7' } }),
      );
      await expect(runAction(action, { cluster: 'demo-eks' })).rejects.toThrow(
        /keda\.clusters\[name=demo-eks\]\.eks\.clusterName is 'prod-cluster-7'/,
      );
      expect(aws.accounts).toEqual([]);
    });

    it('makes no EKS call in dry run', async () => {
      const { action, aws } = setup(AuthorizeResult.ALLOW, podIdentityConfig());
      const { outputs } = await runAction(
        action,
        { cluster: 'demo-eks' },
        { dryRun: true },
      );
      expect(eksMock.calls()).toHaveLength(0);
      expect(aws.accounts).toEqual([]);
      expect(outputs.podIdentityAssociationId).toBeUndefined();
    });
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
