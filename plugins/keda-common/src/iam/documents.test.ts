import type { KedaClusterSpec } from '../config';
import { parseQueueUrl } from '../queueUrl';
import {
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
  TRUST_POLICY_MAX_CHARS,
} from './documents';
import { policyJson, policySize } from './policyDocument';

const cluster: KedaClusterSpec = {
  name: 'prod-eu',
  accountId: '111111111111',
  region: 'eu-west-1',
  oidcIssuer:
    'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
  kedaVersion: '2.20.2',
  identity: 'irsa',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator',
  },
};
const HOST_PATH =
  'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

describe('operatorRoleTrustPolicy (IRSA)', () => {
  it('trusts only the operator service account of this cluster, with the STS audience', () => {
    expect(operatorRoleTrustPolicy(cluster)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'IrsaForKedaOperator',
          Effect: 'Allow',
          Principal: {
            Federated: `arn:aws:iam::111111111111:oidc-provider/${HOST_PATH}`,
          },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${HOST_PATH}:sub`]: 'system:serviceaccount:keda:keda-operator',
              [`${HOST_PATH}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    });
  });

  it('follows a custom operator namespace and service account', () => {
    const doc = operatorRoleTrustPolicy({
      ...cluster,
      operator: {
        ...cluster.operator,
        namespace: 'autoscaling',
        serviceAccount: 'keda',
      },
    });
    expect(doc.Statement[0].Condition!.StringEquals[`${HOST_PATH}:sub`]).toBe(
      'system:serviceaccount:autoscaling:keda',
    );
  });

  it('has one statement per issuer, with the same conditions, when clusters share the role', () => {
    const other =
      'https://oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER00000000000000000000';
    const otherHostPath =
      'oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER00000000000000000000';
    const doc = operatorRoleTrustPolicy({
      ...cluster,
      // the own issuer repeated (with a trailing slash) is listed once
      operator: {
        ...cluster.operator,
        sharedIssuers: [other, `${cluster.oidcIssuer}/`],
      },
    });
    const statement = (sid: string, hostPath: string) => ({
      Sid: sid,
      Effect: 'Allow',
      Principal: {
        Federated: `arn:aws:iam::111111111111:oidc-provider/${hostPath}`,
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          [`${hostPath}:sub`]: 'system:serviceaccount:keda:keda-operator',
          [`${hostPath}:aud`]: 'sts.amazonaws.com',
        },
      },
    });
    // sorted by issuer, so every sharing cluster computes the same document
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [
        statement('IrsaForKedaOperator1', HOST_PATH),
        statement('IrsaForKedaOperator2', otherHostPath),
      ],
    });
    expect(
      operatorRoleTrustPolicy({
        ...cluster,
        oidcIssuer: other,
        operator: { ...cluster.operator, sharedIssuers: [cluster.oidcIssuer!] },
      }),
    ).toEqual(doc);
    expect(policySize(doc)).toBeLessThan(TRUST_POLICY_MAX_CHARS);
  });

  it('keeps the single-issuer document unchanged for an empty sharedIssuers', () => {
    expect(
      operatorRoleTrustPolicy({
        ...cluster,
        operator: { ...cluster.operator, sharedIssuers: [] },
      }),
    ).toEqual(operatorRoleTrustPolicy(cluster));
  });

  it('names the missing issuer and how to find it', () => {
    expect(() =>
      operatorRoleTrustPolicy({ ...cluster, oidcIssuer: undefined }),
    ).toThrow(
      /keda\.clusters\[prod-eu\]\.oidcIssuer is required .*describe-cluster/,
    );
  });
});

describe('operatorRoleTrustPolicy (EKS Pod Identity)', () => {
  const podIdentity: KedaClusterSpec = {
    ...cluster,
    oidcIssuer: undefined,
    identity: 'pod-identity',
  };

  it("is AWS's documented Pod Identity trust, pinned to this cluster and the operator's service account by EKS's session tags", () => {
    expect(operatorRoleTrustPolicy(podIdentity)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EksPodIdentityForKedaOperator',
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:RequestTag/eks-cluster-arn':
                'arn:aws:eks:eu-west-1:111111111111:cluster/prod-eu',
              'aws:RequestTag/kubernetes-namespace': 'keda',
              'aws:RequestTag/kubernetes-service-account': 'keda-operator',
            },
          },
        },
      ],
    });
  });

  it('needs no OIDC issuer and follows the partition, namespace and service account', () => {
    const doc = operatorRoleTrustPolicy({
      ...podIdentity,
      region: 'cn-north-1',
      operator: {
        ...podIdentity.operator,
        namespace: 'autoscaling',
        serviceAccount: 'keda',
      },
    });
    expect(doc.Statement[0].Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn':
          'arn:aws-cn:eks:cn-north-1:111111111111:cluster/prod-eu',
        'aws:RequestTag/kubernetes-namespace': 'autoscaling',
        'aws:RequestTag/kubernetes-service-account': 'keda',
      },
    });
  });

  it('refuses a shared role: its trust would have to name every sharing cluster', () => {
    expect(() =>
      operatorRoleTrustPolicy({
        ...podIdentity,
        operator: {
          ...podIdentity.operator,
          sharedIssuers: [
            'https://oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER00000000000000000000',
          ],
        },
      }),
    ).toThrow(
      /keda\.clusters\[prod-eu\]\.operator\.sharedRole is supported for identity "irsa" only.*remove operator\.sharedRole/,
    );
  });
});

describe('operatorRolePermissionPolicy', () => {
  it('allows sts:AssumeRole only on prefixed roles under the path, per allowed account', () => {
    const doc = operatorRolePermissionPolicy({
      cluster,
      queueAccountIds: ['333333333333', '222222222222', '222222222222'],
      scalerRolePath: '/keda/',
      scalerRoleNamePrefix: 'keda-sqs-',
    });
    expect(doc.Statement).toEqual([
      {
        Sid: 'AssumeKedaScalerRoles',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: [
          'arn:aws:iam::222222222222:role/keda/keda-sqs-*',
          'arn:aws:iam::333333333333:role/keda/keda-sqs-*',
        ],
      },
    ]);
    expect(policyJson(doc)).not.toContain('"Resource":"*"');
  });

  it('uses the cluster partition', () => {
    const doc = operatorRolePermissionPolicy({
      cluster: { ...cluster, region: 'cn-north-1' },
      queueAccountIds: ['222222222222'],
      scalerRolePath: '/',
      scalerRoleNamePrefix: 'keda-',
    });
    expect(doc.Statement[0].Resource).toEqual([
      'arn:aws-cn:iam::222222222222:role/keda-*',
    ]);
  });

  it('refuses an empty account list with the config field to fill', () => {
    expect(() =>
      operatorRolePermissionPolicy({
        cluster,
        queueAccountIds: [],
        scalerRolePath: '/keda/',
        scalerRoleNamePrefix: 'keda-sqs-',
      }),
    ).toThrow(/keda\.guardrails\.allowedQueueAccounts is empty/);
  });
});

describe('scalerRoleTrustPolicy', () => {
  it('modern mode: the operator role ARN as principal with the ExternalId', () => {
    const doc = scalerRoleTrustPolicy({
      cluster,
      queueAccountId: '222222222222',
      providerMode: 'aws',
      externalId: 'abc123',
    });
    expect(doc.Statement).toEqual([
      {
        Sid: 'KedaOperatorAssumesScalerRole',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111111111111:role/keda-operator' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'abc123' } },
      },
    ]);
  });

  it('without an ExternalId (KEDA < 2.20) has no condition at all', () => {
    const doc = scalerRoleTrustPolicy({
      cluster,
      queueAccountId: '222222222222',
      providerMode: 'aws',
    });
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Condition).toBeUndefined();
  });

  it('optionally trusts the operator web identity via the OIDC provider registered in the queue account', () => {
    const doc = scalerRoleTrustPolicy({
      cluster,
      queueAccountId: '222222222222',
      providerMode: 'aws',
      externalId: 'abc123',
      trustOperatorWebIdentity: true,
    });
    expect(doc.Statement[1]).toEqual({
      Sid: 'KedaOperatorWebIdentity',
      Effect: 'Allow',
      Principal: {
        Federated: `arn:aws:iam::222222222222:oidc-provider/${HOST_PATH}`,
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          [`${HOST_PATH}:sub`]: 'system:serviceaccount:keda:keda-operator',
          [`${HOST_PATH}:aud`]: 'sts.amazonaws.com',
        },
      },
    });
  });

  it("legacy aws-eks mode reproduces the article: operator principal plus the workload's service account", () => {
    const doc = scalerRoleTrustPolicy({
      cluster,
      queueAccountId: '222222222222',
      providerMode: 'aws-eks',
      workloadServiceAccount: { namespace: 'shop', name: 'orders-worker' },
    });
    expect(doc.Statement.map(s => s.Sid)).toEqual([
      'KedaOperatorAssumesScalerRole',
      'WorkloadServiceAccountWebIdentity',
    ]);
    expect(doc.Statement[0].Condition).toBeUndefined();
    expect(doc.Statement[1].Condition!.StringEquals[`${HOST_PATH}:sub`]).toBe(
      'system:serviceaccount:shop:orders-worker',
    );
  });

  it('stays under the trust policy quota in its largest form', () => {
    const longCluster: KedaClusterSpec = {
      ...cluster,
      identity: 'pod-identity',
      operator: {
        ...cluster.operator,
        roleName: 'r'.repeat(64),
        rolePath: `/${'p'.repeat(100)}/`,
      },
    };
    const doc = scalerRoleTrustPolicy({
      cluster: longCluster,
      queueAccountId: '222222222222',
      providerMode: 'aws',
      externalId: 'e'.repeat(64),
      trustOperatorWebIdentity: true,
    });
    expect(policySize(doc)).toBeLessThan(TRUST_POLICY_MAX_CHARS);
  });

  it('uses the pod identity operator role ARN with its path', () => {
    expect(
      operatorRoleArn({
        ...cluster,
        operator: { ...cluster.operator, rolePath: '/platform/' },
      }),
    ).toBe('arn:aws:iam::111111111111:role/platform/keda-operator');
  });
});

describe('scalerRolePermissionPolicy', () => {
  it('is sqs:GetQueueAttributes on exactly the queue ARN', () => {
    const queue = parseQueueUrl(
      'https://sqs.us-gov-west-1.amazonaws.com/222222222222/jobs.fifo',
    );
    expect(scalerRolePermissionPolicy(queue).Statement).toEqual([
      {
        Sid: 'ReadQueueDepth',
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: 'arn:aws-us-gov:sqs:us-gov-west-1:222222222222:jobs.fifo',
      },
    ]);
  });
});
