import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CreateOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { ConfigReader } from '@backstage/config';
import {
  plan,
  STS_AUDIENCE,
  type KedaClusterSpec,
  type KedaPlan,
  type KedaRequestInput,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  desiredOperatorRole,
  desiredScalerRole,
  readKedaConfig,
  reconcileRole,
} from '@keda-self-service/plugin-keda-node';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';

jest.setTimeout(60_000);

/*
 * Many teams against the AWS stand-in: two clusters in one account
 * (111111111111), one queue account (222222222222), two teams. Each case is
 * one way requests and roles used to overwrite each other; the request-level
 * cases (ownership, one active request, the ExternalId) are in
 * module.integration.test.ts and keda-backend's router.test.ts.
 */

const CLUSTERS = '111111111111';
const QUEUES = '222222222222';
const ISSUER = {
  'prod-eu': 'https://oidc.eks.eu-west-1.amazonaws.com/id/EUEUEUEU',
  'prod-us': 'https://oidc.eks.us-east-1.amazonaws.com/id/USUSUSUS',
};

const keda = readKedaConfig(
  new ConfigReader({
    keda: {
      // No operator.roleName: each cluster gets its own operator role.
      clusters: Object.entries(ISSUER).map(([name, oidcIssuer]) => ({
        name,
        url: 'https://127.0.0.1:6443',
        serviceAccountToken: 'unused',
        accountId: CLUSTERS,
        region: name === 'prod-eu' ? 'eu-west-1' : 'us-east-1',
        oidcIssuer,
        kedaVersion: '2.20.2',
      })),
      roles: { path: '/keda/', namePrefix: 'keda-sqs-' },
      guardrails: { allowedQueueAccounts: [QUEUES], maxReplicas: 50 },
    },
  }),
);
const spec = (name: string) =>
  clusterSpecOf(keda.clusters.find(c => c.name === name)!) as KedaClusterSpec;

function planFor(
  cluster: string,
  namespace: string,
  workload: string,
  externalId: string,
  queue = 'orders',
): KedaPlan {
  const request: KedaRequestInput = {
    entityRef: `component:default/${workload}`,
    cluster,
    namespace,
    workload: { kind: 'Deployment', name: workload },
    kubernetesId: workload,
    queueUrl: `https://sqs.eu-west-1.amazonaws.com/${QUEUES}/${queue}`,
    minReplicas: 0,
    maxReplicas: 5,
  };
  return plan({
    request,
    cluster: spec(cluster),
    roles: keda.roles,
    guardrails: keda.guardrails,
    externalId,
  });
}

describe('many teams, two clusters in one account, one queue account', () => {
  let aws: AwsStandIn;
  const clients: Array<{ destroy(): void }> = [];
  const iam = (account: string) => {
    const client = new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: rootCredentialsFor(account),
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const sts = (credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }) => {
    const client = new STSClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const trustOf = async (account: string, name: string) =>
    JSON.parse(
      decodeURIComponent(
        (await iam(account).send(new GetRoleCommand({ RoleName: name }))).Role!
          .AssumeRolePolicyDocument!,
      ),
    );

  /** The cluster's KEDA operator role, as onboarding creates it. */
  const onboard = async (cluster: string) => {
    const p = planFor(cluster, 'default', 'onboarding', 'o'.repeat(32));
    await reconcileRole({
      iam: iam(CLUSTERS),
      role: desiredOperatorRole(p.cluster, p.operatorRole),
    });
  };

  beforeEach(async () => {
    aws = await startAwsStandIn({ port: 0, logger: () => {} });
    aws.createAccount(CLUSTERS);
    aws.createAccount(QUEUES);
    for (const url of Object.values(ISSUER)) {
      await iam(CLUSTERS).send(
        new CreateOpenIDConnectProviderCommand({
          Url: url,
          ClientIDList: [STS_AUDIENCE],
          ThumbprintList: [],
        }),
      );
    }
  });

  afterEach(async () => {
    clients.splice(0).forEach(c => c.destroy());
    await aws.close();
  });

  it('onboards a second cluster of the account without touching the first one’s operator role', async () => {
    const eu = planFor('prod-eu', 'orders', 'orders-worker', 'x'.repeat(32));
    const us = planFor('prod-us', 'orders', 'orders-worker', 'y'.repeat(32));
    expect(eu.operatorRole.name).toBe('keda-operator-prod-eu');
    expect(us.operatorRole.name).toBe('keda-operator-prod-us');

    await reconcileRole({
      iam: iam(CLUSTERS),
      role: desiredOperatorRole(eu.cluster, eu.operatorRole),
    });
    const before = await trustOf(CLUSTERS, 'keda-operator-prod-eu');
    await reconcileRole({
      iam: iam(CLUSTERS),
      role: desiredOperatorRole(us.cluster, us.operatorRole),
    });
    expect(await trustOf(CLUSTERS, 'keda-operator-prod-eu')).toEqual(before);
    expect(JSON.stringify(before)).toContain('EUEUEUEU');
    expect(JSON.stringify(before)).not.toContain('USUSUSUS');
    expect(
      JSON.stringify(await trustOf(CLUSTERS, 'keda-operator-prod-us')),
    ).toContain('USUSUSUS');
  });

  it('refuses config where two clusters resolve to one operator role', () => {
    const shared = (sharedRole?: boolean) =>
      readKedaConfig(
        new ConfigReader({
          keda: {
            clusters: Object.entries(ISSUER).map(([name, oidcIssuer]) => ({
              name,
              url: 'https://127.0.0.1:6443',
              serviceAccountToken: 'unused',
              accountId: CLUSTERS,
              region: 'eu-west-1',
              oidcIssuer,
              operator: {
                roleName: 'keda-operator',
                ...(sharedRole ? { sharedRole } : {}),
              },
            })),
          },
        }),
      );
    expect(() => shared()).toThrow(/prod-eu.*prod-us|prod-us.*prod-eu/);
    expect(() => shared(true)).not.toThrow();
  });

  it('gives workloads whose names used to collide two roles, each tagged with its own identity', async () => {
    const a = planFor('prod-eu', 'team-a', 'worker', 'a'.repeat(32));
    const b = planFor('prod-eu', 'team', 'a-worker', 'b'.repeat(32), 'billing');
    expect(a.scalerRole.name).not.toBe(b.scalerRole.name);
    await onboard('prod-eu');
    await reconcileRole({ iam: iam(QUEUES), role: desiredScalerRole(a) });
    await reconcileRole({ iam: iam(QUEUES), role: desiredScalerRole(b) });
    const tags = async (name: string) =>
      Object.fromEntries(
        (
          await iam(QUEUES).send(new GetRoleCommand({ RoleName: name }))
        ).Role!.Tags!.map(t => [t.Key, t.Value]),
      );
    expect(await tags(a.scalerRole.name)).toMatchObject({
      'keda.backstage.io/namespace': 'team-a',
      'keda.backstage.io/workload': 'Deployment/worker',
    });
    expect(await tags(b.scalerRole.name)).toMatchObject({
      'keda.backstage.io/namespace': 'team',
      'keda.backstage.io/workload': 'Deployment/a-worker',
    });
    // A's trust still carries A's ExternalId.
    expect(JSON.stringify(await trustOf(QUEUES, a.scalerRole.name))).toContain(
      'a'.repeat(32),
    );
  });

  it('never converges a role of another workload, not even when adopting', async () => {
    const a = planFor('prod-eu', 'team-a', 'worker', 'a'.repeat(32));
    await onboard('prod-eu');
    await onboard('prod-us');
    await reconcileRole({ iam: iam(QUEUES), role: desiredScalerRole(a) });
    const trust = await trustOf(QUEUES, a.scalerRole.name);
    // Another workload's desired role under A's name (as a name collision
    // or a hand-edited config would produce).
    const b = planFor('prod-us', 'team', 'a-worker', 'b'.repeat(32), 'billing');
    const intruder = {
      ...desiredScalerRole(b),
      name: a.scalerRole.name,
      arn: a.scalerRole.arn,
    };
    for (const adoptUnmanaged of [false, true]) {
      await expect(
        reconcileRole({ iam: iam(QUEUES), role: intruder, adoptUnmanaged }),
      ).rejects.toThrow(/belongs to another workload/);
    }
    expect(await trustOf(QUEUES, a.scalerRole.name)).toEqual(trust);
  });

  it('lets only its own cluster’s KEDA operator into a workload’s scaler role', async () => {
    const eu = planFor('prod-eu', 'orders', 'orders-worker', 'e'.repeat(32));
    const us = planFor('prod-us', 'orders', 'orders-worker', 'u'.repeat(32));
    await onboard('prod-eu');
    await onboard('prod-us');
    await reconcileRole({ iam: iam(QUEUES), role: desiredScalerRole(eu) });
    // Each operator role with the permission policy its cluster planned, as
    // the KEDA pods would use it (a session of the role; IRSA needs a cluster).
    const operatorSession = async (p: KedaPlan) =>
      sts(aws.createAccessKey(p.operatorRole.arn));
    const euOperator = await operatorSession(eu);
    const usOperator = await operatorSession(us);
    const assumeScaler = (client: STSClient) =>
      client.send(
        new AssumeRoleCommand({
          RoleArn: eu.scalerRole.arn,
          RoleSessionName: 'KEDA',
          ExternalId: eu.scalerRole.externalId,
        }),
      );
    await expect(assumeScaler(euOperator)).resolves.toBeDefined();
    // prod-us's operator may assume keda-sqs-* by its own policy, but the
    // scaler role's trust names prod-eu's operator only.
    await expect(assumeScaler(usOperator)).rejects.toThrow(/not authorized/);
  });
});
