import { ConfigReader } from '@backstage/config';
import { readKedaConfig } from './config';

const read = (data: object) => readKedaConfig(new ConfigReader(data));

describe('readKedaConfig', () => {
  it('applies documented defaults to an empty keda block', () => {
    const c = read({});
    expect(c.clusters).toEqual([]);
    expect(c.roles).toEqual({
      path: '/keda/',
      namePrefix: 'keda-sqs-',
      tags: {},
    });
    expect(c.guardrails.maxReplicas).toBe(100);
    expect(c.guardrails.autoApprove.enabled).toBe(false);
    expect(c.status).toEqual({
      eventsCacheTtlSeconds: 10,
      historyRetentionHours: 24,
    });
  });

  it('reads keda.clusters with operator and AWS facts, deriving account A from the operator role', () => {
    const c = read({
      keda: {
        clusters: [
          {
            name: 'prod-eks',
            url: 'https://eks.example',
            authProvider: 'aws',
            aws: { region: 'eu-west-1', clusterName: 'prod' },
            kedaVersion: '2.20.2',
            operator: {
              roleArn: 'arn:aws:iam::111111111111:role/keda-operator',
            },
            gitops: { repoUrl: 'github.com?owner=acme&repo=gitops' },
          },
        ],
      },
    });
    expect(c.clusters[0]).toMatchObject({
      name: 'prod-eks',
      authProvider: 'aws',
      aws: {
        accountId: '111111111111',
        region: 'eu-west-1',
        clusterName: 'prod',
      },
      operator: { namespace: 'keda', serviceAccount: 'keda-operator' },
      gitops: { pathPattern: '{cluster}/{namespace}/{name}' },
      source: 'keda.clusters',
    });
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
    expect(c.clusters[1].aws).toMatchObject({
      clusterName: 'eks-prod',
      assumeRole: 'arn:aws:iam::111111111111:role/backstage',
      externalId: 'ext',
    });
  });

  it('lets a keda.clusters entry override the Kubernetes plugin entry of the same name', () => {
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
          clusters: [
            { name: 'a', url: 'u', operator: { roleArn: 'keda-operator' } },
          ],
        },
      },
      /keda\.clusters\[0\]\.operator\.roleArn.*not an IAM role ARN/,
    ],
    [
      { keda: { roles: { path: 'keda' } } },
      /keda\.roles\.path.*starts and ends with '\/'/,
    ],
    [
      { keda: { roles: { namePrefix: 'bad prefix' } } },
      /keda\.roles\.namePrefix/,
    ],
    [
      { keda: { guardrails: { allowedQueueAccounts: ['2222'] } } },
      /allowedQueueAccounts\[0\].*12-digit/,
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
        roles: {
          path: '/platform/keda/',
          permissionsBoundary: 'arn:aws:iam::222222222222:policy/boundary',
          tags: { team: 'platform' },
        },
        guardrails: {
          allowedQueueAccounts: ['222222222222'],
          maxReplicas: 50,
          autoApprove: { maxReplicas: 10, queueAccounts: ['222222222222'] },
        },
        approvals: { approverGroups: ['group:default/platform-team'] },
      },
    });
    expect(c.roles.permissionsBoundary).toBe(
      'arn:aws:iam::222222222222:policy/boundary',
    );
    expect(c.guardrails).toEqual({
      allowedQueueAccounts: ['222222222222'],
      maxReplicas: 50,
      autoApprove: {
        enabled: true,
        maxReplicas: 10,
        queueAccounts: ['222222222222'],
        namespaces: undefined,
      },
    });
    expect(c.approvals.approverGroups).toEqual(['group:default/platform-team']);
  });
});
