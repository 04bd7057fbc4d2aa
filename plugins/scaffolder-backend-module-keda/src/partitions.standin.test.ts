import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { KedaAwsClientFactory } from '@keda-self-service/plugin-keda-node';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import { KedaPlanner } from './lib/planner';
import {
  CLUSTER_ACCOUNT,
  QUEUE_ACCOUNT,
  runAction,
} from './__testUtils__/fixtures';
import { fixedPermissions } from './__testUtils__/permissions';
import { createKedaOperatorRoleEnsureAction } from './actions/operatorRoleEnsure';
import { createKedaScalerRoleDeleteAction } from './actions/scalerRoleDelete';

jest.setTimeout(60_000);

/*
 * IAM is global per partition: its endpoint, and so the region a request is
 * signed for, is us-east-1 in aws, us-gov-west-1 in aws-us-gov and
 * cn-north-1 in aws-cn — whatever the region of the cluster or queue. The
 * stand-in routes by the SigV4 credential scope and logs its region, so
 * these runs show the region each IAM client of the actions signed for.
 *
 * The clusters and queues sit in a region other than their partition's IAM
 * region, so a client built with the cluster's or queue's region would show.
 * The cluster uses EKS Pod Identity: the stand-in names everything in the aws
 * partition, so an IRSA OIDC-provider check or a scaler role trusting an
 * aws-cn operator role ARN cannot succeed there; the operator role (cluster
 * account, partition from the cluster) and the scaler role deletion (queue
 * account, partition from the queue URL) need neither.
 */

const cases = [
  {
    partition: 'aws',
    region: 'eu-west-1',
    sqsHost: 'sqs.eu-west-1.amazonaws.com',
    iamRegion: 'us-east-1',
  },
  {
    partition: 'aws-us-gov',
    region: 'us-gov-east-1',
    sqsHost: 'sqs.us-gov-east-1.amazonaws.com',
    iamRegion: 'us-gov-west-1',
  },
  {
    partition: 'aws-cn',
    region: 'cn-northwest-1',
    sqsHost: 'sqs.cn-northwest-1.amazonaws.com.cn',
    iamRegion: 'cn-north-1',
  },
];

describe('IAM clients sign for the partition of the account they act in', () => {
  let aws: AwsStandIn;
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;

  beforeEach(async () => {
    aws = await startAwsStandIn({ port: 0, logger: () => {} });
    aws.createAccount(CLUSTER_ACCOUNT);
    aws.createAccount(QUEUE_ACCOUNT);
    process.env.AWS_ENDPOINT_URL = aws.url;
  });

  afterEach(async () => {
    await aws.close();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  });

  function actionsFor(region: string) {
    const config = new ConfigReader({
      keda: {
        clusters: [
          {
            name: 'edge',
            url: 'http://127.0.0.1:6443',
            serviceAccountToken: 'token',
            accountId: CLUSTER_ACCOUNT,
            region,
            identity: 'pod-identity',
            kedaVersion: '2.20.2',
          },
        ],
        roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
        guardrails: { allowedQueueAccounts: [QUEUE_ACCOUNT], maxReplicas: 50 },
      },
      aws: {
        accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
          accountId,
          ...rootCredentialsFor(accountId),
        })),
      },
    });
    const factory = KedaAwsClientFactory.fromConfig(config, {
      maxAttempts: 1,
    });
    const deps = {
      planner: new KedaPlanner({ config, aws: factory }),
      aws: factory,
      permissions: fixedPermissions(AuthorizeResult.ALLOW).service,
    };
    return {
      onboard: createKedaOperatorRoleEnsureAction(deps),
      deleteScalerRole: createKedaScalerRoleDeleteAction(deps),
    };
  }

  it.each(cases)(
    '$partition: a cluster and queue in $region use IAM in $iamRegion',
    async ({ partition, region, sqsHost, iamRegion }) => {
      const { onboard, deleteScalerRole } = actionsFor(region);
      // Pod Identity onboarding checks the agent add-on and binds the role
      // with an association, so the EKS cluster must exist.
      aws.createEksCluster({
        accountId: CLUSTER_ACCOUNT,
        region,
        name: 'edge',
        addons: ['eks-pod-identity-agent'],
      });

      const onboarded = await runAction(onboard, { cluster: 'edge' });
      expect(onboarded.outputs.roleArn).toMatch(
        new RegExp(`^arn:${partition}:iam::${CLUSTER_ACCOUNT}:role/`),
      );
      expect(onboarded.outputs.created).toBe(true);

      const deleted = await runAction(deleteScalerRole, {
        cluster: 'edge',
        namespace: 'jobs',
        workloadName: 'jobs-worker',
        queueUrl: `https://${sqsHost}/${QUEUE_ACCOUNT}/jobs`,
      });
      expect(deleted.outputs).toMatchObject({
        deleted: false,
        alreadyAbsent: true,
      });
      expect(deleted.outputs.roleArn).toMatch(
        new RegExp(`^arn:${partition}:iam::${QUEUE_ACCOUNT}:role/keda/`),
      );

      const iamCalls = aws.requestLog().filter(r => r.service === 'iam');
      // both accounts' clients were used: the cluster's (CreateRole …) and the queue's (GetRole)
      expect(new Set(iamCalls.map(r => r.principal?.split(':')[4]))).toEqual(
        new Set([CLUSTER_ACCOUNT, QUEUE_ACCOUNT]),
      );
      expect(iamCalls.map(r => r.operation)).toEqual(
        expect.arrayContaining(['CreateRole', 'PutRolePolicy', 'GetRole']),
      );
      expect(new Set(iamCalls.map(r => r.region))).toEqual(
        new Set([iamRegion]),
      );
      expect(
        iamCalls.filter(r => r.status >= 400 && r.errorCode !== 'NoSuchEntity'),
      ).toEqual([]);
    },
  );
});
