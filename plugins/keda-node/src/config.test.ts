import { ConfigReader } from '@backstage/config';
import { clusterSpecOf, readKedaConfig } from './config';

const read = (data: object) => readKedaConfig(new ConfigReader(data));

describe('readKedaConfig', () => {
  it('adds KEDA facts to the Kubernetes plugin cluster of the same name without repeating its connection', () => {
    const c = read({
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'demo-eks',
                url: 'https://k8s.example:6443',
                authProvider: 'serviceAccount',
                serviceAccountToken: 'token-1',
                skipTLSVerify: true,
              },
            ],
          },
        ],
      },
      keda: {
        clusters: [{ name: 'demo-eks', accountId: '111111111111', region: 'eu-west-1', kedaVersion: '2.20.2' }],
      },
    });
    expect(c.clusters).toHaveLength(1);
    expect(c.clusters[0]).toMatchObject({
      name: 'demo-eks',
      url: 'https://k8s.example:6443',
      authProvider: 'serviceAccount',
      serviceAccountToken: 'token-1',
      skipTLSVerify: true,
      accountId: '111111111111',
      region: 'eu-west-1',
      source: 'keda.clusters',
    });
  });

  it('names keda.clusters[].url when a cluster has no connection of its own or from the Kubernetes plugin', () => {
    expect(() => read({ keda: { clusters: [{ name: 'lonely', region: 'eu-west-1' }] } })).toThrow(
      /keda\.clusters\[0\]\.url.*kubernetes\.clusterLocatorMethods/,
    );
  });

  it('applies documented defaults to an empty keda block', () => {
    const c = read({});
    expect(c.clusters).toEqual([]);
    expect(c.roles).toEqual({
      path: '/keda/',
      namePrefix: 'keda-sqs-',
      tags: {},
      trustOperatorWebIdentity: false,
      permissionsBoundaryArn: undefined,
    });
    expect(c.guardrails).toEqual({
      allowedQueueAccounts: [],
      allowedClusters: undefined,
      maxReplicas: 100,
      autoApprove: undefined,
    });
    expect(c.status).toEqual({
      eventsCacheTtlSeconds: 10,
      historyRetentionHours: 24,
    });
  });

  it('reads keda.clusters and derives account, partition and operator role from the operator role ARN', () => {
    const c = read({
      keda: {
        clusters: [
          {
            name: 'prod-eks',
            url: 'https://eks.example',
            authProvider: 'aws',
            region: 'us-gov-west-1',
            eks: { clusterName: 'prod' },
            kedaVersion: '2.20.2',
            operator: {
              roleArn: 'arn:aws-us-gov:iam::111111111111:role/platform/keda-op',
            },
            gitops: { repoUrl: 'github.com?owner=acme&repo=gitops' },
          },
        ],
      },
    });
    expect(c.clusters[0]).toMatchObject({
      name: 'prod-eks',
      authProvider: 'aws',
      accountId: '111111111111',
      partition: 'aws-us-gov',
      eks: { clusterName: 'prod' },
      identity: 'irsa',
      operator: {
        namespace: 'keda',
        serviceAccount: 'keda-operator',
        roleName: 'keda-op',
        rolePath: '/platform/',
        roleArn: 'arn:aws-us-gov:iam::111111111111:role/platform/keda-op',
      },
      gitops: { path: 'clusters/{cluster}/{namespace}/{name}' },
      source: 'keda.clusters',
    });
  });

  it('builds the operator role ARN from accountId, rolePath and roleName', () => {
    const c = read({
      keda: {
        clusters: [
          {
            name: 'a',
            url: 'http://k',
            accountId: '111111111111',
            region: 'cn-north-1',
            operator: { rolePath: '/keda/', roleName: 'op' },
          },
        ],
      },
    });
    expect(c.clusters[0].operator.roleArn).toBe(
      'arn:aws-cn:iam::111111111111:role/keda/op',
    );
  });

  it("reuses the Kubernetes plugin's config locator, mapping its authMetadata", () => {
    const c = read({
      kubernetes: {
        clusterLocatorMethods: [
          { type: 'catalog' },
          {
            type: 'config',
            clusters: [
              {
                name: 'dev',
                url: 'http://127.0.0.1:6443',
                authProvider: 'serviceAccount',
                serviceAccountToken: 't',
              },
              {
                name: 'eks',
                url: 'https://eks',
                authProvider: 'aws',
                authMetadata: {
                  'kubernetes.io/x-k8s-aws-id': 'eks-prod',
                  'kubernetes.io/aws-assume-role':
                    'arn:aws:iam::111111111111:role/backstage',
                  'kubernetes.io/aws-external-id': 'ext',
                },
              },
              {
                name: 'pod',
                url: 'https://kubernetes.default.svc',
                authProvider: 'serviceAccount',
              },
            ],
          },
        ],
      },
    });
    expect(c.clusters.map(x => [x.name, x.authProvider, x.source])).toEqual([
      ['dev', 'serviceAccount', 'kubernetes.clusterLocatorMethods'],
      ['eks', 'aws', 'kubernetes.clusterLocatorMethods'],
      // The Kubernetes plugin reads the pod's own token when none is configured.
      ['pod', 'inCluster', 'kubernetes.clusterLocatorMethods'],
    ]);
    expect(c.clusters[1].eks).toEqual({
      clusterName: 'eks-prod',
      assumeRole: 'arn:aws:iam::111111111111:role/backstage',
      externalId: 'ext',
    });
  });

  it('lets a keda.clusters entry win over the Kubernetes plugin entry of the same name', () => {
    const c = read({
      keda: {
        clusters: [
          {
            name: 'dev',
            url: 'http://k',
            serviceAccountToken: 'mine',
            kedaVersion: '2.20.2',
          },
        ],
      },
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'dev',
                url: 'http://k',
                authProvider: 'serviceAccount',
                serviceAccountToken: 'theirs',
              },
            ],
          },
        ],
      },
    });
    expect(c.clusters).toHaveLength(1);
    expect(c.clusters[0]).toMatchObject({
      serviceAccountToken: 'mine',
      kedaVersion: '2.20.2',
      source: 'keda.clusters',
    });
  });

  it.each([
    [
      { keda: { clusters: [{ name: 'a', url: 'u', authProvider: 'google' }] } },
      /keda\.clusters\[0\]\.authProvider.*'google'/,
    ],
    [
      {
        keda: {
          clusters: [
            { name: 'a', url: 'u' },
            { name: 'a', url: 'v' },
          ],
        },
      },
      /keda\.clusters\[1\]\.name.*used twice/,
    ],
    [
      {
        keda: {
          clusters: [{ name: 'a', url: 'u', operator: { roleArn: 'keda-op' } }],
        },
      },
      /keda\.clusters\[0\]\.operator\.roleArn.*not an IAM role ARN/,
    ],
    [
      {
        keda: {
          clusters: [
            {
              name: 'a',
              url: 'u',
              accountId: '111111111111',
              operator: { roleArn: 'arn:aws:iam::999999999999:role/op' },
            },
          ],
        },
      },
      /operator\.roleArn.*account 999999999999.*accountId is 111111111111/,
    ],
    [
      { keda: { clusters: [{ name: 'a', url: 'u', identity: 'kiam' }] } },
      /keda\.clusters\[0\]\.identity/,
    ],
    [
      { keda: { roles: { path: 'keda' } } },
      /keda\.roles\.path.*starts and ends/,
    ],
    [
      { keda: { roles: { namePrefix: 'bad prefix' } } },
      /keda\.roles\.namePrefix/,
    ],
    [
      { keda: { roles: { permissionsBoundaryArn: 'boundary' } } },
      /keda\.roles\.permissionsBoundaryArn.*not an IAM policy ARN/,
    ],
    [
      { keda: { guardrails: { allowedQueueAccounts: ['2222'] } } },
      /allowedQueueAccounts\[0\].*12-digit/,
    ],
    [
      { keda: { guardrails: { allowedClusters: ['nope'] } } },
      /allowedClusters\[0\].*cluster 'nope' is not configured/,
    ],
    [
      {
        keda: {
          guardrails: { maxReplicas: 10, autoApprove: { maxReplicas: 20 } },
        },
      },
      /autoApprove\.maxReplicas.*exceeds/,
    ],
    [
      {
        keda: {
          guardrails: {
            allowedQueueAccounts: ['222222222222'],
            autoApprove: { queueAccounts: ['333333333333'] },
          },
        },
      },
      /autoApprove\.queueAccounts\[0\].*not in keda\.guardrails\.allowedQueueAccounts/,
    ],
    [
      { keda: { approvals: { approverGroups: ['platform-team'] } } },
      /approverGroups\[0\].*group:default\/platform-team/,
    ],
    [
      { keda: { status: { historyRetentionHours: 0 } } },
      /historyRetentionHours/,
    ],
  ])(
    'rejects invalid config %#, naming the key and the fix',
    (data, message) => {
      expect(() => read(data)).toThrow(message);
    },
  );

  it('reads guardrails, auto-approval and approver groups', () => {
    const c = read({
      keda: {
        clusters: [{ name: 'prod', url: 'http://k' }],
        roles: {
          path: '/platform/keda/',
          permissionsBoundaryArn: 'arn:aws:iam::222222222222:policy/boundary',
          tags: { team: 'platform' },
        },
        guardrails: {
          allowedQueueAccounts: ['222222222222'],
          allowedClusters: ['prod'],
          maxReplicas: 50,
          autoApprove: {
            maxReplicas: 10,
            queueAccounts: ['222222222222'],
            clusters: ['prod'],
          },
        },
        approvals: { approverGroups: ['group:default/platform-team'] },
      },
    });
    expect(c.roles.permissionsBoundaryArn).toBe(
      'arn:aws:iam::222222222222:policy/boundary',
    );
    expect(c.guardrails).toEqual({
      allowedQueueAccounts: ['222222222222'],
      allowedClusters: ['prod'],
      maxReplicas: 50,
      autoApprove: {
        maxReplicas: 10,
        queueAccounts: ['222222222222'],
        clusters: ['prod'],
      },
    });
    expect(c.approvals.approverGroups).toEqual(['group:default/platform-team']);
  });
});

describe('clusterSpecOf', () => {
  it('returns the plan facts of a fully configured cluster', () => {
    const [cluster] = read({
      keda: {
        clusters: [
          {
            name: 'prod',
            url: 'http://k',
            accountId: '111111111111',
            region: 'eu-west-1',
            kedaVersion: '2.20.2',
            oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
          },
        ],
      },
    }).clusters;
    expect(clusterSpecOf(cluster)).toEqual({
      name: 'prod',
      accountId: '111111111111',
      region: 'eu-west-1',
      partition: 'aws',
      oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      kedaVersion: '2.20.2',
      identity: 'irsa',
      operator: {
        namespace: 'keda',
        serviceAccount: 'keda-operator',
        roleName: 'keda-operator',
        rolePath: '/',
      },
      gitops: undefined,
    });
  });

  it('names the missing key when a cluster lacks a fact the plan needs', () => {
    const [cluster] = read({
      keda: {
        clusters: [{ name: 'dev', url: 'http://k', region: 'eu-west-1' }],
      },
    }).clusters;
    expect(() => clusterSpecOf(cluster)).toThrow(
      /keda\.clusters\[name=dev\]\.accountId/,
    );
  });
});
