import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ConfigReader } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { plan } from '@keda-self-service/plugin-keda-common';
import { mockClient } from 'aws-sdk-client-mock';
import type { KedaAwsClientFactory } from './aws/clients';
import { KedaClusterService, KedaGuardrailError } from './clusters';
import { readKedaConfig, type KedaConfig } from './config';

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123';

const cluster = (over: object) => ({
  url: 'https://k8s.example:6443',
  authProvider: 'serviceAccount',
  serviceAccountToken: 'token',
  accountId: '111111111111',
  region: 'eu-west-1',
  kedaVersion: '2.20.2',
  ...over,
});

const keda = readKedaConfig(
  new ConfigReader({
    keda: {
      clusters: [
        cluster({ name: 'configured', oidcIssuer: ISSUER }),
        cluster({ name: 'discovered', eks: { clusterName: 'prod-eks' } }),
        cluster({ name: 'pod-identity', identity: 'pod-identity' }),
      ],
      guardrails: { allowedQueueAccounts: ['222222222222'] },
    },
  }),
);

describe('KedaClusterService', () => {
  const eksMock = mockClient(EKSClient);
  const eks = new EKSClient({ region: 'eu-west-1' });
  let now = 0;
  const eksCalls = () => eksMock.commandCalls(DescribeClusterCommand).length;
  const service = (config: KedaConfig = keda) => {
    const aws = { eks: jest.fn(async () => eks) };
    return {
      aws,
      clusters: new KedaClusterService({
        keda: () => config,
        aws: () => aws as unknown as KedaAwsClientFactory,
        now: () => now,
      }),
    };
  };

  beforeEach(() => {
    eksMock.reset();
    now = 0;
    eksMock
      .on(DescribeClusterCommand)
      .resolves({ cluster: { identity: { oidc: { issuer: ISSUER } } } });
  });

  it('refuses an unknown cluster on the caller’s field, naming the configured ones', () => {
    const { clusters } = service();
    expect(() => clusters.cluster('nowhere')).toThrow(
      new InputError(
        'cluster: "nowhere" is not a configured cluster; choose one of configured, discovered, pod-identity',
      ),
    );
    expect(() =>
      clusters.cluster('nowhere', { field: 'request.cluster' }),
    ).toThrow(/^request\.cluster: "nowhere"/);
    const none = service({ ...keda, clusters: [] }).clusters;
    expect(() => none.cluster('x')).toThrow(
      /none: the platform team must add keda\.clusters\[\]/,
    );
  });

  it('takes the issuer from config, needs none for EKS Pod Identity, and makes no AWS call for either', async () => {
    const { clusters, aws } = service();
    const configured = await clusters.resolve('configured');
    expect(configured.oidcIssuerSource).toBe('config');
    expect(configured.spec.oidcIssuer).toBe(ISSUER);
    const pod = await clusters.resolve('pod-identity');
    expect(pod.oidcIssuerSource).toBe('not needed');
    expect(aws.eks).not.toHaveBeenCalled();
  });

  it('plans a dry run with a placeholder issuer and no AWS call', async () => {
    const { clusters, aws } = service();
    const dry = await clusters.resolve('discovered', { dryRun: true });
    expect(dry.oidcIssuerSource).toBe('dry-run placeholder');
    expect(dry.spec.oidcIssuer).toMatch(/DRY-RUN/);
    expect(aws.eks).not.toHaveBeenCalled();
  });

  it('reads a missing issuer once with eks:DescribeCluster (by the EKS name), shared by concurrent callers, and again after 15 minutes', async () => {
    const { clusters, aws } = service();
    const [a, b] = await Promise.all([
      clusters.resolve('discovered'),
      clusters.resolve('discovered'),
    ]);
    expect(a.oidcIssuerSource).toBe('eks:DescribeCluster');
    expect(a.spec.oidcIssuer).toBe(ISSUER);
    expect(b.spec.oidcIssuer).toBe(ISSUER);
    expect(eksCalls()).toBe(1);
    expect(
      eksMock.commandCalls(DescribeClusterCommand)[0].args[0].input,
    ).toEqual({ name: 'prod-eks' });
    expect(aws.eks).toHaveBeenCalledWith('111111111111', 'eu-west-1');
    now += 14 * 60 * 1000;
    await clusters.resolve('discovered');
    expect(eksCalls()).toBe(1);
    now += 2 * 60 * 1000;
    await clusters.resolve('discovered');
    expect(eksCalls()).toBe(2);
  });

  it('does not keep a failed read: the next call asks again', async () => {
    const { clusters } = service();
    eksMock
      .on(DescribeClusterCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
        }),
      )
      .resolves({ cluster: { identity: { oidc: { issuer: ISSUER } } } });
    await expect(clusters.resolve('discovered')).rejects.toThrow();
    const again = await clusters.resolve('discovered');
    expect(again.spec.oidcIssuer).toBe(ISSUER);
    expect(eksCalls()).toBe(2);
  });

  it('never reuses an issuer for another EKS cluster of the same name in config', async () => {
    const first = service();
    await first.clusters.resolve('discovered');
    // Same service, the cluster now points at another account.
    let config = keda;
    const clusters = new KedaClusterService({
      keda: () => config,
      aws: () => first.aws as unknown as KedaAwsClientFactory,
      now: () => now,
    });
    await clusters.resolve('discovered');
    config = {
      ...keda,
      clusters: keda.clusters.map(c =>
        c.name === 'discovered' ? { ...c, accountId: '444444444444' } : c,
      ),
    };
    await clusters.resolve('discovered');
    expect(eksCalls()).toBe(3);
    expect(first.aws.eks).toHaveBeenLastCalledWith('444444444444', 'eu-west-1');
  });

  it('plans the operator role exactly as a request’s plan does', async () => {
    const { clusters } = service();
    const { spec } = await clusters.resolve('configured');
    const role = clusters.operatorRole(spec);
    const request = plan({
      request: {
        entityRef: 'component:default/orders-worker',
        cluster: 'configured',
        namespace: 'orders',
        workload: { kind: 'Deployment', name: 'orders-worker' },
        kubernetesId: 'orders-worker',
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
        minReplicas: 0,
        maxReplicas: 5,
        queueLength: 5,
      },
      cluster: spec,
      roles: keda.roles,
      guardrails: keda.guardrails,
      externalId: 'a'.repeat(32),
    });
    expect(role).toEqual(request.operatorRole);
    expect(JSON.stringify(role.permissionPolicy)).toContain('222222222222');
  });
});

describe('KedaGuardrailError', () => {
  it('lists every violation with its field, prefixed for nested bodies', () => {
    const violations = [
      {
        code: 'a',
        field: 'maxReplicas',
        message: 'maxReplicas 80 is above 50',
      },
      { code: 'b', message: 'no field' },
    ];
    const error = new KedaGuardrailError(violations, {
      fieldPrefix: 'request.',
    });
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'The KEDA request breaks 2 guardrails: request.maxReplicas: maxReplicas 80 is above 50; no field',
    );
    expect(error.violations).toBe(violations);
    expect(new KedaGuardrailError([violations[0]]).message).toBe(
      'The KEDA request breaks 1 guardrail: maxReplicas: maxReplicas 80 is above 50',
    );
  });
});
