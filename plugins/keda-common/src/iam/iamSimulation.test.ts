// Proves the generated documents with an independent IAM evaluator
// (@cloud-copilot/iam-simulate, AGPL: test-only, never imported from src/).
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { KedaClusterSpec } from '../config';
import { parseQueueUrl } from '../queueUrl';
import {
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  queueAccessPolicy,
  scalerRolePermissionPolicy,
  scalerRoleTrustPolicy,
  TRUST_POLICY_MAX_CHARS,
} from './documents';
import { policySize, type PolicyDocument } from './policyDocument';
import { iamRoleArn, oidcProviderArn } from './roleNames';

const CLUSTER_ACCOUNT = '111111111111';
const QUEUE_ACCOUNT = '222222222222';
const OTHER_ACCOUNT = '333333333333';
const ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EXTERNAL_ID = '0f3c9a52d7e14b6a9c81e2f4b5a6d7c8';

const irsaCluster: KedaClusterSpec = {
  name: 'prod-eu',
  accountId: CLUSTER_ACCOUNT,
  region: 'eu-west-1',
  oidcIssuer: ISSUER,
  kedaVersion: '2.20.2',
  identity: 'irsa',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator',
  },
};
const podIdentityCluster: KedaClusterSpec = {
  ...irsaCluster,
  identity: 'pod-identity',
};

const queue = parseQueueUrl(
  'https://sqs.eu-west-1.amazonaws.com/222222222222/orders',
);
const scalerArn = iamRoleArn(
  'aws',
  QUEUE_ACCOUNT,
  '/keda/',
  'keda-sqs-prod-eu-shop-orders-worker',
);
const scalerSession = `arn:aws:sts::${QUEUE_ACCOUNT}:assumed-role/keda-sqs-prod-eu-shop-orders-worker/KEDA`;
const operatorSession = `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator/KEDA`;

function operatorPermissions(cluster: KedaClusterSpec) {
  return operatorRolePermissionPolicy({
    cluster,
    queueAccountIds: [QUEUE_ACCOUNT],
    scalerRolePath: '/keda/',
    scalerRoleNamePrefix: 'keda-sqs-',
  });
}

async function decide(s: {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  identity?: PolicyDocument;
  resourcePolicy?: PolicyDocument;
  context?: Record<string, string | string[]>;
}): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: s.principal,
      action: s.action,
      resource: { resource: s.resource, accountId: s.resourceAccount },
      contextVariables: s.context ?? {},
    },
    identityPolicies: s.identity
      ? [{ name: 'inline', policy: s.identity }]
      : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: s.resourcePolicy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(
      `simulation input rejected: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult;
}

describe.each([
  ['IRSA', irsaCluster],
  ['EKS Pod Identity', podIdentityCluster],
])('scaler role chain (%s cluster)', (_label, cluster) => {
  const trust = scalerRoleTrustPolicy({
    cluster,
    queueAccountId: QUEUE_ACCOUNT,
    providerMode: 'aws',
    externalId: EXTERNAL_ID,
  });
  const assume = (over: {
    principal?: string;
    externalId?: string;
    resource?: string;
    identity?: PolicyDocument;
  }) =>
    decide({
      principal: over.principal ?? operatorSession,
      action: 'sts:AssumeRole',
      resource: over.resource ?? scalerArn,
      resourceAccount: QUEUE_ACCOUNT,
      identity: over.identity ?? operatorPermissions(cluster),
      resourcePolicy: trust,
      context: over.externalId ? { 'sts:ExternalId': over.externalId } : {},
    });

  it('lets the operator role assume the scaler role with the right ExternalId', async () => {
    await expect(assume({ externalId: EXTERNAL_ID })).resolves.toBe('Allowed');
  });

  it('denies the operator role without an ExternalId', async () => {
    await expect(assume({})).resolves.not.toBe('Allowed');
  });

  it('denies the operator role with another ExternalId', async () => {
    await expect(
      assume({ externalId: 'another-request-external-id' }),
    ).resolves.not.toBe('Allowed');
  });

  it('denies another role of the cluster account, even with the ExternalId and the same permissions', async () => {
    await expect(
      assume({
        principal: `arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/some-app/KEDA`,
        externalId: EXTERNAL_ID,
      }),
    ).resolves.not.toBe('Allowed');
  });

  it('denies a role of the same name in another account', async () => {
    await expect(
      assume({
        principal: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/keda-operator/KEDA`,
        externalId: EXTERNAL_ID,
      }),
    ).resolves.not.toBe('Allowed');
  });

  it('lets the operator assume only roles under the scaler path and prefix in allowed accounts', async () => {
    const wideOpenTrust: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: operatorRoleArn(cluster) },
          Action: 'sts:AssumeRole',
        },
      ],
    };
    const tryAssume = (resource: string, account: string) =>
      decide({
        principal: operatorSession,
        action: 'sts:AssumeRole',
        resource,
        resourceAccount: account,
        identity: operatorPermissions(cluster),
        resourcePolicy: wideOpenTrust,
      });
    await expect(
      tryAssume(
        iamRoleArn('aws', QUEUE_ACCOUNT, '/keda/', 'keda-sqs-anything'),
        QUEUE_ACCOUNT,
      ),
    ).resolves.toBe('Allowed');
    await expect(
      tryAssume(
        iamRoleArn('aws', QUEUE_ACCOUNT, '/', 'OrganizationAccountAccessRole'),
        QUEUE_ACCOUNT,
      ),
    ).resolves.not.toBe('Allowed');
    await expect(
      tryAssume(
        iamRoleArn('aws', QUEUE_ACCOUNT, '/keda/', 'admin'),
        QUEUE_ACCOUNT,
      ),
    ).resolves.not.toBe('Allowed');
    await expect(
      tryAssume(
        iamRoleArn('aws', OTHER_ACCOUNT, '/keda/', 'keda-sqs-anything'),
        OTHER_ACCOUNT,
      ),
    ).resolves.not.toBe('Allowed');
  });

  it('keeps the trust policy under the 2,048 character quota', () => {
    expect(policySize(trust)).toBeLessThan(TRUST_POLICY_MAX_CHARS);
    expect(policySize(operatorRoleTrustPolicy(cluster))).toBeLessThan(
      TRUST_POLICY_MAX_CHARS,
    );
  });
});

describe('EKS Pod Identity session tags', () => {
  it('allows sts:TagSession on the chain only for Pod Identity clusters', async () => {
    const tag = (cluster: KedaClusterSpec) =>
      decide({
        principal: operatorSession,
        action: 'sts:TagSession',
        resource: scalerArn,
        resourceAccount: QUEUE_ACCOUNT,
        identity: operatorPermissions(cluster),
        resourcePolicy: scalerRoleTrustPolicy({
          cluster,
          queueAccountId: QUEUE_ACCOUNT,
          providerMode: 'aws',
          externalId: EXTERNAL_ID,
        }),
      });
    await expect(tag(podIdentityCluster)).resolves.toBe('Allowed');
    await expect(tag(irsaCluster)).resolves.not.toBe('Allowed');
  });
});

describe('scaler role permissions', () => {
  const permissions = scalerRolePermissionPolicy(queue);
  const call = (action: string, resource: string) =>
    decide({
      principal: scalerSession,
      action,
      resource,
      resourceAccount: QUEUE_ACCOUNT,
      identity: permissions,
    });

  it('may read the depth of its queue', async () => {
    await expect(call('sqs:GetQueueAttributes', queue.arn)).resolves.toBe(
      'Allowed',
    );
  });

  it.each([
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:SendMessage',
    'sqs:PurgeQueue',
    'sqs:SetQueueAttributes',
  ])('may not %s on its queue', async action => {
    await expect(call(action, queue.arn)).resolves.not.toBe('Allowed');
  });

  it('may not read another queue of the same account', async () => {
    await expect(
      call(
        'sqs:GetQueueAttributes',
        'arn:aws:sqs:eu-west-1:222222222222:payments',
      ),
    ).resolves.not.toBe('Allowed');
  });

  it('may not read a queue of the same name in another region', async () => {
    await expect(
      call(
        'sqs:GetQueueAttributes',
        'arn:aws:sqs:us-east-1:222222222222:orders',
      ),
    ).resolves.not.toBe('Allowed');
  });
});

// The IRSA web identity trust is checked structurally in documents.test.ts:
// iam-simulate ignores issuer-specific condition keys (`<issuer>:sub`).
describe('operator role trust', () => {
  it('IRSA, shared role: the OIDC providers of both sharing clusters may assume it, a third may not', async () => {
    const OTHER_ISSUER =
      'https://oidc.eks.us-east-1.amazonaws.com/id/0THERC1USTER00000000000000000000';
    const trust = operatorRoleTrustPolicy({
      ...irsaCluster,
      operator: { ...irsaCluster.operator, sharedIssuers: [OTHER_ISSUER] },
    });
    // Every statement keeps the sub/aud conditions (see documents.test.ts);
    // the simulator drops issuer-specific keys from the request context, so
    // the principal match is simulated on the document without them.
    for (const statement of trust.Statement) {
      expect(Object.keys(statement.Condition!.StringEquals)).toHaveLength(2);
    }
    const principalsOnly: PolicyDocument = {
      ...trust,
      Statement: trust.Statement.map(({ Condition: _c, ...rest }) => rest),
    };
    const assumeFrom = (issuer: string) =>
      decide({
        principal: oidcProviderArn('aws', CLUSTER_ACCOUNT, issuer),
        action: 'sts:AssumeRoleWithWebIdentity',
        resource: operatorRoleArn(irsaCluster),
        resourceAccount: CLUSTER_ACCOUNT,
        resourcePolicy: principalsOnly,
      });
    await expect(assumeFrom(ISSUER)).resolves.toBe('Allowed');
    await expect(assumeFrom(OTHER_ISSUER)).resolves.toBe('Allowed');
    await expect(
      assumeFrom(
        'https://oidc.eks.eu-west-1.amazonaws.com/id/THIRDC1USTER00000000000000000000',
      ),
    ).resolves.not.toBe('Allowed');
    // and an unshared role admits its own cluster's provider only
    const own = operatorRoleTrustPolicy(irsaCluster);
    await expect(
      decide({
        principal: oidcProviderArn('aws', CLUSTER_ACCOUNT, OTHER_ISSUER),
        action: 'sts:AssumeRoleWithWebIdentity',
        resource: operatorRoleArn(irsaCluster),
        resourceAccount: CLUSTER_ACCOUNT,
        resourcePolicy: {
          ...own,
          Statement: own.Statement.map(({ Condition: _c, ...rest }) => rest),
        },
      }),
    ).resolves.not.toBe('Allowed');
  });

  it("Pod Identity: only the EKS Pod Identity service, for this cluster's operator service account", async () => {
    const trust = operatorRoleTrustPolicy(podIdentityCluster);
    const ownTags = {
      'eks-cluster-arn': `arn:aws:eks:eu-west-1:${CLUSTER_ACCOUNT}:cluster/prod-eu`,
      'eks-cluster-name': 'prod-eu',
      'kubernetes-namespace': 'keda',
      'kubernetes-service-account': 'keda-operator',
      'kubernetes-pod-name': 'keda-operator-7d9c8b6f5-x2x4q',
      'kubernetes-pod-uid': '0b7f0c1e-0000-4000-8000-000000000000',
    };
    // What EKS sends: AssumeRole with these session tags as request tags.
    const service = (
      action: string,
      tags: Record<string, string>,
      principal = 'pods.eks.amazonaws.com',
    ) =>
      decide({
        principal,
        action,
        resource: operatorRoleArn(podIdentityCluster),
        resourceAccount: CLUSTER_ACCOUNT,
        resourcePolicy: trust,
        context: {
          'aws:TagKeys': Object.keys(tags),
          ...Object.fromEntries(
            Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]),
          ),
        },
      });
    await expect(service('sts:AssumeRole', ownTags)).resolves.toBe('Allowed');
    await expect(service('sts:TagSession', ownTags)).resolves.toBe('Allowed');
    for (const [key, value] of [
      [
        'eks-cluster-arn',
        `arn:aws:eks:eu-west-1:${CLUSTER_ACCOUNT}:cluster/sandbox`,
      ],
      ['kubernetes-namespace', 'default'],
      ['kubernetes-service-account', 'some-app'],
    ]) {
      await expect(
        service('sts:AssumeRole', { ...ownTags, [key]: value }),
      ).resolves.not.toBe('Allowed');
    }
    // no session tags (an association with disableSessionTags) is refused too
    await expect(service('sts:AssumeRole', {})).resolves.not.toBe('Allowed');
    // and no other service
    await expect(
      service('sts:AssumeRole', ownTags, 'ec2.amazonaws.com'),
    ).resolves.not.toBe('Allowed');
  });
});

describe('queue policy alternative (no scaler role)', () => {
  it('lets only the operator role read the queue depth', async () => {
    const policy = queueAccessPolicy(queue, operatorRoleArn(irsaCluster));
    const identity = operatorRolePermissionPolicy({
      cluster: irsaCluster,
      queueAccountIds: [QUEUE_ACCOUNT],
      scalerRolePath: '/keda/',
      scalerRoleNamePrefix: 'keda-sqs-',
      directQueueArns: [queue.arn],
    });
    const read = (principal: string, action = 'sqs:GetQueueAttributes') =>
      decide({
        principal,
        action,
        resource: queue.arn,
        resourceAccount: QUEUE_ACCOUNT,
        identity,
        resourcePolicy: policy,
      });
    await expect(read(operatorSession)).resolves.toBe('Allowed');
    await expect(read(operatorSession, 'sqs:ReceiveMessage')).resolves.not.toBe(
      'Allowed',
    );
    await expect(
      read(`arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/some-app/x`),
    ).resolves.not.toBe('Allowed');
  });
});
