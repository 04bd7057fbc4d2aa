import { ConfigReader } from '@backstage/config';
import {
  operatorRoleTrustPolicy,
  type KedaClusterSpec,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  DEFAULT_APPROVER_GROUPS,
  readKedaApprovals,
  readKedaConfig,
} from './config';

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
        clusters: [
          {
            name: 'demo-eks',
            accountId: '111111111111',
            region: 'eu-west-1',
            kedaVersion: '2.20.2',
          },
        ],
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
    expect(() =>
      read({ keda: { clusters: [{ name: 'lonely', region: 'eu-west-1' }] } }),
    ).toThrow(/keda\.clusters\[0\]\.url.*kubernetes\.clusterLocatorMethods/);
  });

  it('applies documented defaults to an empty keda block', () => {
    const c = read({});
    expect(c.clusters).toEqual([]);
    expect(c.roles).toEqual({
      path: '/keda/',
      namePrefix: 'keda-sqs-',
      tags: {},
      trustOperatorWebIdentity: false,
      adoptExistingRoles: false,
      permissionsBoundaryArn: undefined,
    });
    expect(c.guardrails).toEqual({
      allowedQueueAccounts: [],
      allowedClusters: undefined,
      maxReplicas: 100,
      autoApprove: undefined,
      requireOwnership: true,
      allowedSqsEndpoints: [],
    });
    expect(c.approvals).toEqual({
      approverGroups: ['group:default/platform-team'],
      allowSelfApproval: false,
    });
    expect(c.status).toEqual({ historyRetentionHours: 24 });
    expect(c.templates).toEqual({
      provisioning: 'template:default/keda-provision-request',
    });
  });

  it('reads keda.templates.provisioning as a full template ref', () => {
    expect(
      read({ keda: { templates: { provisioning: 'platform/provision-keda' } } })
        .templates.provisioning,
    ).toBe('template:platform/provision-keda');
    expect(
      read({ keda: { templates: { provisioning: 'Template:ops/x' } } })
        .templates.provisioning,
    ).toBe('template:ops/x');
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
    [
      { keda: { templates: { provisioning: 'component:default/x' } } },
      /Invalid config 'keda\.templates\.provisioning': "component:default\/x" is a component, not a template\. Use a template ref/,
    ],
    [
      { keda: { templates: { provisioning: 'template:default/a b' } } },
      /Invalid config 'keda\.templates\.provisioning': "template:default\/a b" is not an entity ref/,
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
      requireOwnership: true,
      allowedSqsEndpoints: [],
    });
    expect(c.approvals.approverGroups).toEqual(['group:default/platform-team']);
  });

  it('reads every keda.* switch in one place: adoption, self-approval, ownership, SQS endpoints', () => {
    const c = read({
      keda: {
        roles: { adoptExistingRoles: true },
        guardrails: {
          requireOwnership: false,
          allowedSqsEndpoints: [
            'https://vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com',
          ],
        },
        approvals: {
          approverGroups: ['group:default/sre'],
          allowSelfApproval: true,
        },
      },
    });
    expect(c.roles.adoptExistingRoles).toBe(true);
    expect(c.guardrails.requireOwnership).toBe(false);
    expect(c.guardrails.allowedSqsEndpoints).toEqual([
      'https://vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com',
    ]);
    expect(c.approvals).toEqual({
      approverGroups: ['group:default/sre'],
      allowSelfApproval: true,
    });
  });

  it.each([
    'http://vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com',
    'vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com',
    'https://user@vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com',
  ])('rejects allowedSqsEndpoints entry %s, naming the key', endpoint => {
    expect(() =>
      read({ keda: { guardrails: { allowedSqsEndpoints: [endpoint] } } }),
    ).toThrow(/keda\.guardrails\.allowedSqsEndpoints\[0\].*not an https URL/);
  });
});

describe('readKedaApprovals', () => {
  it('has the one approver default, shared with the permission policy', () => {
    expect(DEFAULT_APPROVER_GROUPS).toEqual(['group:default/platform-team']);
    expect(readKedaApprovals(new ConfigReader({}))).toEqual({
      approverGroups: ['group:default/platform-team'],
      allowSelfApproval: false,
    });
  });

  it('reads keda.approvals without needing (valid) clusters', () => {
    const config = new ConfigReader({
      keda: {
        clusters: [{ name: 'no-url' }],
        approvals: { approverGroups: ['group:default/sre'] },
      },
    });
    expect(() => readKedaConfig(config)).toThrow(/url/);
    expect(readKedaApprovals(config).approverGroups).toEqual([
      'group:default/sre',
    ]);
  });

  it('validates like readKedaConfig', () => {
    expect(() =>
      readKedaApprovals(
        new ConfigReader({
          keda: { approvals: { approverGroups: ['platform-team'] } },
        }),
      ),
    ).toThrow(/approverGroups\[0\]/);
  });
});

describe('operator roles per cluster', () => {
  const cluster = (name: string, extra: object = {}) => ({
    name,
    url: `https://${name}.example`,
    accountId: '111111111111',
    region: 'eu-west-1',
    kedaVersion: '2.20.2',
    oidcIssuer: `https://oidc.eks.eu-west-1.amazonaws.com/id/${name.toUpperCase()}`,
    ...extra,
  });

  it('defaults the operator role to keda-operator-<cluster name>, for Kubernetes plugin clusters too', () => {
    const c = read({
      keda: { clusters: [cluster('prod-eu'), cluster('prod-us')] },
      kubernetes: {
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              {
                name: 'dev eu',
                url: 'https://dev',
                authProvider: 'serviceAccount',
              },
            ],
          },
        ],
      },
    });
    expect(c.clusters.map(x => x.operator.roleName)).toEqual([
      'keda-operator-prod-eu',
      'keda-operator-prod-us',
      'keda-operator-dev-eu',
    ]);
    expect(c.clusters[0].operator.roleArn).toBe(
      'arn:aws:iam::111111111111:role/keda-operator-prod-eu',
    );
    expect(c.clusters[0].operator.sharedIssuers).toBeUndefined();
  });

  it('hashes a default name longer than 64 characters', () => {
    const [c] = read({
      keda: { clusters: [cluster('c'.repeat(70))] },
    }).clusters;
    expect(c.operator.roleName).toMatch(/^keda-operator-c+-[0-9a-f]{8}$/);
    expect(c.operator.roleName.length).toBeLessThanOrEqual(64);
  });

  it('rejects two clusters resolving to the same operator role, naming both and the fix', () => {
    expect(() =>
      read({
        keda: {
          clusters: [
            cluster('prod-eu', { operator: { roleName: 'keda-operator' } }),
            cluster('prod-us', { operator: { roleName: 'keda-operator' } }),
          ],
        },
      }),
    ).toThrow(
      /Invalid config 'keda\.clusters\[0\]\.operator': clusters 'prod-eu' \(keda\.clusters\[0\]\) and 'prod-us' \(keda\.clusters\[1\]\) resolve to the same KEDA operator role arn:aws:iam::111111111111:role\/keda-operator .*leave operator\.roleName and operator\.roleArn unset .*operator\.sharedRole: true on every one/,
    );
  });

  it('treats names differing in path or case as the same role (IAM names are unique per account)', () => {
    expect(() =>
      read({
        keda: {
          clusters: [
            cluster('a', {
              operator: { roleName: 'KEDA-op', rolePath: '/x/' },
            }),
            cluster('b', {
              operator: { roleArn: 'arn:aws:iam::111111111111:role/keda-op' },
            }),
          ],
        },
      }),
    ).toThrow(
      /clusters 'a' .* and 'b' .* resolve to the same KEDA operator role/,
    );
  });

  it('allows the same role name in different accounts', () => {
    const c = read({
      keda: {
        clusters: [
          cluster('a', { operator: { roleName: 'keda-operator' } }),
          cluster('b', {
            accountId: '333333333333',
            operator: { roleName: 'keda-operator' },
          }),
        ],
      },
    });
    expect(c.clusters).toHaveLength(2);
  });

  it('rejects a shared role unless every cluster sharing it sets operator.sharedRole', () => {
    expect(() =>
      read({
        keda: {
          clusters: [
            cluster('a', {
              operator: { roleName: 'keda-op', sharedRole: true },
            }),
            cluster('b', { operator: { roleName: 'keda-op' } }),
          ],
        },
      }),
    ).toThrow(/keda\.clusters\[1\]\.operator.*same KEDA operator role/);
  });

  it('accepts operator.sharedRole on both, and the trust then lists both issuers', () => {
    const c = read({
      keda: {
        clusters: [
          cluster('prod-eu', {
            operator: { roleName: 'keda-op', sharedRole: true },
          }),
          cluster('prod-us', {
            operator: { roleName: 'keda-op', sharedRole: true },
          }),
        ],
      },
    });
    expect(c.clusters[0].operator).toMatchObject({
      sharedRole: true,
      sharedIssuers: ['https://oidc.eks.eu-west-1.amazonaws.com/id/PROD-US'],
    });
    const eu = clusterSpecOf(c.clusters[0]) as KedaClusterSpec;
    const us = clusterSpecOf(c.clusters[1]) as KedaClusterSpec;
    expect(eu.operator.sharedIssuers).toEqual([
      'https://oidc.eks.eu-west-1.amazonaws.com/id/PROD-US',
    ]);
    const trust = operatorRoleTrustPolicy(eu);
    expect(trust.Statement.map(st => st.Principal)).toEqual([
      {
        Federated:
          'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/PROD-EU',
      },
      {
        Federated:
          'arn:aws:iam::111111111111:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/PROD-US',
      },
    ]);
    expect(operatorRoleTrustPolicy(us)).toEqual(trust);
  });

  it.each([
    [
      'a cluster without oidcIssuer',
      { oidcIssuer: undefined },
      /keda\.clusters\[1\]\.oidcIssuer.*shares its operator role/,
    ],
    [
      'EKS Pod Identity',
      { identity: 'pod-identity' },
      /keda\.clusters\[1\]\.operator\.sharedRole.*IRSA only/,
    ],
    [
      'another operator service account',
      {
        operator: {
          roleName: 'keda-op',
          sharedRole: true,
          serviceAccount: 'keda',
        },
      },
      /keda\.clusters\[1\]\.operator.*same operator\.namespace and operator\.serviceAccount/,
    ],
    [
      'another path',
      {
        operator: { roleName: 'keda-op', sharedRole: true, rolePath: '/keda/' },
      },
      /keda\.clusters\[1\]\.operator.*same operator\.roleName and operator\.rolePath/,
    ],
  ])('rejects sharing with %s', (_why, extra, message) => {
    expect(() =>
      read({
        keda: {
          clusters: [
            cluster('a', {
              operator: { roleName: 'keda-op', sharedRole: true },
            }),
            cluster('b', {
              operator: { roleName: 'keda-op', sharedRole: true },
              ...extra,
            }),
          ],
        },
      }),
    ).toThrow(message);
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
        roleName: 'keda-operator-prod',
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
