import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer';
import {
  CreateOpenIDConnectProviderCommand,
  IAMClient,
  PutRolePolicyCommand,
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
  verifyPlanDocuments,
  type VerificationCheck,
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
  OIDC_ISSUER,
  OPERATOR_ROLE,
  ORDERS_SCALER_ROLE,
  ordersRequest,
  QUEUE_ACCOUNT,
  runAction,
} from '../__testUtils__/fixtures';
import { fixedPermissions } from '../__testUtils__/permissions';
import { createKedaScalerRoleEnsureAction } from './scalerRoleEnsure';

jest.setTimeout(60_000);

/*
 * The role chain's verification against the AWS stand-in, whose IAM refuses
 * what AWS refuses (a resource policy with a role source and no user as
 * CallerArn) and whose Access Analyzer authorises every call: every check
 * passing, a denied case failing with the evidence, and a missing
 * permission as a warning that names the action.
 */

const EXTERNAL_ID = '0123456789abcdef0123456789abcdef';
const ROLE_ARN = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/${ORDERS_SCALER_ROLE}`;
const QUEUE_ARN = `arn:aws:sqs:eu-west-1:${QUEUE_ACCOUNT}:orders-queue`;
const input = {
  request: ordersRequest,
  externalId: EXTERNAL_ID,
  autoApproved: true,
};

type Account = {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
};

describe('keda:aws:scaler-role:ensure verification against the AWS stand-in', () => {
  let aws: AwsStandIn;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  const iam = (account: string) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(account),
    });
  const configWith = (accounts: Account[]) =>
    new ConfigReader({ keda: kedaConfigData(), aws: { accounts } });
  function actionWith(accounts: Account[]) {
    const config = configWith(accounts);
    const factory = KedaAwsClientFactory.fromConfig(config);
    return createKedaScalerRoleEnsureAction({
      planner: new KedaPlanner({
        config,
        aws: factory,
        requests: fakePreflight().api,
      }),
      aws: factory,
      permissions: fixedPermissions(AuthorizeResult.DENY).service,
    });
  }
  const rootAccounts = (): Account[] =>
    [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
      accountId,
      ...rootCredentialsFor(accountId),
    }));
  const notPassed = (checks: VerificationCheck[]) =>
    checks.filter(c => c.outcome !== 'pass');

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

  it('passes every check: the simulator in accepted forms, Access Analyzer, the trust evaluation', async () => {
    const start = aws.requestLog().length;
    const { outputs } = await runAction(actionWith(rootAccounts()), input);
    expect(outputs.verification.ok).toBe(true);
    expect(notPassed(outputs.verification.checks)).toEqual([]);

    const calls = aws.requestLog().slice(start);
    const count = (operation: string) =>
      calls.filter(c => c.operation === operation && c.status === 200).length;
    // scaler role; operator role on the scaler role and outside the KEDA path
    expect(count('SimulatePrincipalPolicy')).toBe(3);
    expect(count('ValidatePolicy')).toBe(4);
    expect(count('CheckAccessNotGranted')).toBe(2);
    expect(count('CheckNoPublicAccess')).toBe(2);
    // the only non-200 answer: GetRole before the role existed
    expect(
      calls.filter(c => c.status !== 200).map(c => [c.operation, c.errorCode]),
    ).toEqual([['GetRole', 'NoSuchEntity']]);
    // Access Analyzer is asked in the queue's region with the queue account's credentials
    expect(
      calls
        .filter(c => c.service === 'access-analyzer')
        .every(
          c =>
            c.region === 'eu-west-1' &&
            c.principal === `arn:aws:iam::${QUEUE_ACCOUNT}:root`,
        ),
    ).toBe(true);
  });

  it('fails with the evidence when the scaler role may also consume the queue', async () => {
    await runAction(actionWith(rootAccounts()), input);
    // someone adds a policy to the role outside Backstage; reconcile keeps
    // its own policy and leaves foreign ones, the verification catches it
    await iam(QUEUE_ACCOUNT).send(
      new PutRolePolicyCommand({
        RoleName: ORDERS_SCALER_ROLE,
        PolicyName: 'consume',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sqs:ReceiveMessage',
              Resource: QUEUE_ARN,
            },
          ],
        }),
      }),
    );
    await expect(runAction(actionWith(rootAccounts()), input)).rejects.toThrow(
      `The scaler role was converged but the chain does not work: simulate-scaler-permissions (${ROLE_ARN} sqs:ReceiveMessage on ${QUEUE_ARN}): allowed (expected denied); more than KEDA needs: check policies attached to the role outside Backstage`,
    );
  });

  it('fails when the operator role may assume roles outside the KEDA roles path', async () => {
    await iam(CLUSTER_ACCOUNT).send(
      new PutRolePolicyCommand({
        RoleName: OPERATOR_ROLE,
        PolicyName: 'too-wide',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
          ],
        }),
      }),
    );
    await expect(runAction(actionWith(rootAccounts()), input)).rejects.toThrow(
      new RegExp(
        `simulate-operator-permissions \\(arn:aws:iam::${CLUSTER_ACCOUNT}:role/${OPERATOR_ROLE} sts:AssumeRole on arn:aws:iam::${QUEUE_ACCOUNT}:role/not-keda-[0-9a-f]{8}\\): allowed \\(expected denied\\); the operator role may assume roles outside keda.roles.path`,
      ),
    );
  });

  it('warns, naming the action, when the queue account credentials lack access-analyzer permissions', async () => {
    const user = aws.createUser(QUEUE_ACCOUNT, 'backstage-portal', {
      inlinePolicies: {
        iam: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                'iam:GetRole',
                'iam:CreateRole',
                'iam:GetRolePolicy',
                'iam:PutRolePolicy',
                'iam:TagRole',
                'iam:SimulatePrincipalPolicy',
              ],
              Resource: '*',
            },
          ],
        },
      },
    });
    const accounts = [
      { accountId: CLUSTER_ACCOUNT, ...rootCredentialsFor(CLUSTER_ACCOUNT) },
      { accountId: QUEUE_ACCOUNT, ...aws.createAccessKey(user.arn) },
    ];
    const { outputs } = await runAction(actionWith(accounts), input);
    // the role is there and works; what could not be checked is said, not hidden
    expect(outputs.created).toBe(true);
    expect(outputs.verification.ok).toBe(true);
    const warnings = notPassed(outputs.verification.checks);
    expect(warnings.every(w => w.outcome === 'warning')).toBe(true);
    expect(warnings.map(w => [w.check, w.detail.split(';')[0]])).toEqual([
      ...Array(4).fill([
        'access-analyzer-validate-policy',
        `not checked: the credentials of account ${QUEUE_ACCOUNT} lack access-analyzer:ValidatePolicy`,
      ]),
      ...Array(2).fill([
        'access-analyzer-access-not-granted',
        `not checked: the credentials of account ${QUEUE_ACCOUNT} lack access-analyzer:CheckAccessNotGranted`,
      ]),
      ...Array(2).fill([
        'access-analyzer-no-public-access',
        `not checked: the credentials of account ${QUEUE_ACCOUNT} lack access-analyzer:CheckNoPublicAccess`,
      ]),
    ]);
    expect(
      aws
        .requestLog()
        .filter(c => c.errorCode === 'AccessDeniedException')
        .map(c => c.operation),
    ).toHaveLength(8);
  });

  it('fails a planned scaler trust without the ExternalId before anything exists', async () => {
    const config = configWith(rootAccounts());
    const planner = new KedaPlanner({
      config,
      aws: KedaAwsClientFactory.fromConfig(config),
    });
    const { plan } = await planner.plan({
      request: ordersRequest,
      externalId: EXTERNAL_ID,
      dryRun: false,
    });
    const { Condition: _dropped, ...assume } =
      plan.scalerRole.trustPolicy.Statement[0];
    const analyzer = new AccessAnalyzerClient({
      endpoint: aws.url,
      region: 'eu-west-1',
      credentials: rootCredentialsFor(QUEUE_ACCOUNT),
    });
    const verification = await verifyPlanDocuments({
      plan: {
        ...plan,
        scalerRole: {
          ...plan.scalerRole,
          trustPolicy: { ...plan.scalerRole.trustPolicy, Statement: [assume] },
        },
      },
      accessAnalyzer: analyzer,
    });
    expect(verification.ok).toBe(false);
    expect(
      verification.checks
        .filter(c => c.outcome === 'fail')
        .map(c => [c.check, c.subject.split(': ')[1], c.detail]),
    ).toEqual([
      [
        'evaluate-scaler-trust',
        'the KEDA operator role without an ExternalId',
        'Allowed (expected denied): the trust does not require the sts:ExternalId condition',
      ],
      [
        'evaluate-scaler-trust',
        'the KEDA operator role with another ExternalId',
        'Allowed (expected denied): the trust accepts an ExternalId other than the plan’s',
      ],
    ]);
    // Access Analyzer still ran and found it valid and not public
    expect(
      verification.checks
        .filter(c => c.check.startsWith('access-analyzer-'))
        .every(c => c.outcome === 'pass'),
    ).toBe(true);
    analyzer.destroy();
  });
});
