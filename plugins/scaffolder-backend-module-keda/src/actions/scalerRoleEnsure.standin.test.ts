import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePermissionsBoundaryCommand,
} from '@aws-sdk/client-iam';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  OPERATOR_PERMISSION_POLICY_NAME,
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  STS_AUDIENCE,
  type KedaClusterSpec,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  desiredOperatorRole,
  KedaAwsClientFactory,
  readKedaConfig,
  reconcileRole,
} from '@keda-self-service/plugin-keda-node';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import { KedaPlanner } from '../lib/planner';
import {
  CLUSTER_ACCOUNT,
  fakePreflight,
  kedaConfigData,
  OPERATOR_ROLE,
  ORDERS_SCALER_ROLE,
  OIDC_ISSUER,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';
import { createKedaScalerRoleDeleteAction } from './scalerRoleDelete';

jest.setTimeout(60_000);

/*
 * keda:aws:scaler-role:ensure against the AWS stand-in with the real SDK
 * clients, configured only through AWS_ENDPOINT_URL and aws.accounts:
 * throttling retried by the SDK's standard strategy, recovery from a
 * partial failure, and denials reported with action and principal.
 */

const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';
const ROLE = ORDERS_SCALER_ROLE;
const input = {
  request: ordersRequest,
  externalId: EXTERNAL_ID,
  autoApproved: true,
};
const MUTATING = /^(Create|Put|Update|Tag|Untag|Delete|Attach|Detach)/;

describe('keda:aws:scaler-role:ensure against the AWS stand-in', () => {
  let aws: AwsStandIn;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  const iam = (account: string) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(account),
    });

  function actionWith(
    accounts: Array<{
      accountId: string;
      accessKeyId: string;
      secretAccessKey: string;
    }>,
    maxAttempts?: number,
  ) {
    const config = new ConfigReader({
      keda: kedaConfigData(),
      aws: { accounts },
    });
    const factory = KedaAwsClientFactory.fromConfig(config, { maxAttempts });
    return createKedaScalerRoleEnsureAction({
      // the keda backend confirms the auto-approval
      planner: new KedaPlanner({
        config,
        aws: factory,
        requests: fakePreflight().api,
      }),
      aws: factory,
      permissions: fixedPermissions(AuthorizeResult.DENY).service,
    });
  }
  const rootAccounts = () =>
    [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
      accountId,
      ...rootCredentialsFor(accountId),
    }));

  beforeEach(async () => {
    aws = await startAwsStandIn({ port: 0, logger: () => {} });
    aws.createAccount(CLUSTER_ACCOUNT);
    aws.createAccount(QUEUE_ACCOUNT);
    process.env.AWS_ENDPOINT_URL = aws.url;
    // the onboarded cluster: OIDC provider and KEDA operator role
    const keda = kedaConfigData();
    const spec = clusterSpecOf(
      readKedaConfig(new ConfigReader({ keda })).clusters[0],
    ) as KedaClusterSpec;
    await iam(CLUSTER_ACCOUNT).send(
      new CreateOpenIDConnectProviderCommand({
        Url: OIDC_ISSUER,
        ClientIDList: [STS_AUDIENCE],
        ThumbprintList: [],
      }),
    );
    await reconcileRole({
      iam: iam(CLUSTER_ACCOUNT),
      role: desiredOperatorRole(spec, {
        name: spec.operator.roleName,
        path: '/',
        arn: operatorRoleArn(spec),
        accountId: CLUSTER_ACCOUNT,
        trustPolicy: operatorRoleTrustPolicy(spec),
        permissionPolicy: operatorRolePermissionPolicy({
          cluster: spec,
          queueAccountIds: keda.guardrails.allowedQueueAccounts,
          scalerRolePath: '/keda/',
          scalerRoleNamePrefix: 'keda-sqs-',
        }),
        permissionPolicyName: OPERATOR_PERMISSION_POLICY_NAME,
      }),
    });
  });

  afterEach(async () => {
    await aws.close();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  });

  const operations = (from: number) =>
    aws
      .requestLog()
      .slice(from)
      .map(c => c.operation);

  it.each(['throttle', 'unavailable', 'internal'] as const)(
    'rides out IAM %s errors with the SDK retry strategy',
    async error => {
      aws.setFaults([
        { service: 'iam', operation: 'PutRolePolicy', error, times: 2 },
      ]);
      const start = aws.requestLog().length;
      const { outputs } = await runAction(actionWith(rootAccounts()), input);
      expect(outputs).toMatchObject({
        created: true,
        verification: { ok: true },
      });
      expect(
        operations(start).filter(op => op === 'PutRolePolicy'),
      ).toHaveLength(3);
    },
  );

  it('recovers from a partial failure: role created, policy throttled beyond the retries, re-run puts only the policy', async () => {
    aws.setFaults([
      { service: 'iam', operation: 'PutRolePolicy', error: 'throttle' },
    ]);
    // 3 attempts keep the SDK's backoff short here; the default is KEDA_AWS_MAX_ATTEMPTS
    await expect(
      runAction(actionWith(rootAccounts(), 3), input),
    ).rejects.toThrow(
      /AWS kept failing iam:PutRolePolicy .* with Throttling after the SDK's retries/,
    );
    await expect(
      iam(QUEUE_ACCOUNT).send(new GetRoleCommand({ RoleName: ROLE })),
    ).resolves.toBeDefined();

    aws.clearFaults();
    const start = aws.requestLog().length;
    const { outputs } = await runAction(actionWith(rootAccounts()), input);
    expect(outputs).toMatchObject({
      created: false,
      changes: ['put-role-policy:keda-read-queue-depth', 'tag-role'],
      verification: { ok: true },
    });
    expect(operations(start).filter(op => MUTATING.test(op))).toEqual([
      'PutRolePolicy',
      'TagRole',
    ]);

    const again = aws.requestLog().length;
    await runAction(actionWith(rootAccounts()), input);
    expect(operations(again).filter(op => MUTATING.test(op))).toEqual([]);
  });

  it('reports a denied call with the action and the principal that was denied', async () => {
    const user = aws.createUser(QUEUE_ACCOUNT, 'backstage-portal', {
      inlinePolicies: {
        'read-only': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['iam:GetRole', 'iam:GetRolePolicy'],
              Resource: '*',
            },
          ],
        },
      },
    });
    const key = aws.createAccessKey(user.arn);
    const accounts = [
      { accountId: CLUSTER_ACCOUNT, ...rootCredentialsFor(CLUSTER_ACCOUNT) },
      { accountId: QUEUE_ACCOUNT, ...key },
    ];
    await expect(runAction(actionWith(accounts), input)).rejects.toThrow(
      `AWS denied iam:CreateRole on arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/${ROLE} in account ${QUEUE_ACCOUNT} to arn:aws:iam::${QUEUE_ACCOUNT}:user/backstage-portal`,
    );
  });

  it('fails the verification when a permissions boundary keeps the role from reading the queue', async () => {
    const boundary = aws.createManagedPolicy(QUEUE_ACCOUNT, 'keda-boundary', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' }],
    });
    const { outputs } = await runAction(actionWith(rootAccounts()), input);
    expect(outputs.verification.ok).toBe(true);
    // someone fences the role afterwards: the next run converges IAM but proves the chain broken
    await iam(QUEUE_ACCOUNT).send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: ROLE,
        PermissionsBoundary: boundary.arn,
      }),
    );
    await expect(runAction(actionWith(rootAccounts()), input)).rejects.toThrow(
      `simulate-scaler-permissions (arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/${ROLE} sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:${QUEUE_ACCOUNT}:orders-queue): implicitDeny (expected allowed); a permissions boundary`,
    );
  });

  it('works with exactly the permissions the README lists, through assumed per-account roles', async () => {
    // The portal's own user assumes a provisioner role in each account, as a
    // production portal does with aws.mainAccount + aws.accounts[].roleName.
    const portal = aws.createUser(CLUSTER_ACCOUNT, 'backstage-portal', {
      inlinePolicies: {
        assume: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Resource: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(
                a => `arn:aws:iam::${a}:role/keda-provisioner`,
              ),
            },
          ],
        },
      },
    });
    const portalKey = aws.createAccessKey(portal.arn);
    const readmeActions = [
      'iam:GetRole',
      'iam:CreateRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:GetRolePolicy',
      'iam:PutRolePolicy',
      'iam:TagRole',
      'iam:UpdateRole',
      'iam:PutRolePermissionsBoundary',
      'iam:SimulatePrincipalPolicy',
      'iam:ListRolePolicies',
      'iam:DeleteRolePolicy',
      'iam:ListAttachedRolePolicies',
      'iam:DetachRolePolicy',
      'iam:DeleteRole',
    ];
    // IAM Access Analyzer's policy checks have no resource type: Resource "*".
    const readmeAnalyzerActions = [
      'access-analyzer:ValidatePolicy',
      'access-analyzer:CheckAccessNotGranted',
      'access-analyzer:CheckNoPublicAccess',
    ];
    // For a role that does not exist yet IAM evaluates GetRole against
    // `role/<name>` without the path, hence the second resource.
    for (const [account, resource] of [
      [
        QUEUE_ACCOUNT,
        [
          `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/*`,
          `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda-sqs-*`,
        ],
      ],
      [
        CLUSTER_ACCOUNT,
        [`arn:aws:iam::${CLUSTER_ACCOUNT}:role/${OPERATOR_ROLE}`],
      ],
    ] as const) {
      await iam(account).send(
        new CreateRoleCommand({
          RoleName: 'keda-provisioner',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: portal.arn },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      );
      await iam(account).send(
        new PutRolePolicyCommand({
          RoleName: 'keda-provisioner',
          PolicyName: 'keda',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: readmeActions, Resource: resource },
              { Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: '*' },
              ...(account === QUEUE_ACCOUNT
                ? [
                    {
                      Effect: 'Allow',
                      Action: readmeAnalyzerActions,
                      Resource: '*',
                    },
                  ]
                : []),
            ],
          }),
        }),
      );
    }
    const config = new ConfigReader({
      keda: kedaConfigData(),
      aws: {
        mainAccount: { ...portalKey, region: 'eu-west-1' },
        accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
          accountId,
          roleName: 'keda-provisioner',
        })),
      },
    });
    const factory = KedaAwsClientFactory.fromConfig(config);
    const planner = new KedaPlanner({
      config,
      aws: factory,
      requests: fakePreflight().api,
    });
    const permissions = fixedPermissions(AuthorizeResult.ALLOW).service;
    const ensure = createKedaScalerRoleEnsureAction({
      planner,
      aws: factory,
      permissions,
    });

    const { outputs } = await runAction(ensure, input);
    expect(outputs).toMatchObject({
      created: true,
      verification: { ok: true },
    });
    // every check ran (nothing skipped for a missing permission) and passed
    expect(
      outputs.verification.checks.filter(
        (c: { outcome: string }) => c.outcome !== 'pass',
      ),
    ).toEqual([]);

    const remove = createKedaScalerRoleDeleteAction({
      planner,
      aws: factory,
      permissions,
    });
    const deletion = await runAction(remove, {
      cluster: 'demo-eks',
      namespace: 'orders',
      workloadName: 'orders-worker',
      queueUrl: ordersRequest.queueUrl,
    });
    expect(deletion.outputs).toMatchObject({ deleted: true });
    const denied = aws
      .requestLog()
      .filter(c => /^AccessDenied/.test(c.errorCode ?? ''));
    expect(denied).toEqual([]);
  });
});
