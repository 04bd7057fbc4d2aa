/*
 * EKS Pod Identity in the stand-in, with the real SDK clients and the
 * keda-node helpers onboarding uses: the association API and DescribeAddon
 * (EKS), and AssumeRoleForPodIdentity (EKS Auth) evaluating the operator
 * role's trust as AWS does, then the transitive session tags on the chained
 * AssumeRole into a scaler role.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
} from '@aws-sdk/client-sts';
import {
  operatorRoleArn,
  operatorRoleTrustPolicy,
  policyJson,
  type KedaClusterSpec,
} from '@keda-self-service/plugin-keda-common';
import {
  checkPodIdentityAgentAddon,
  ensurePodIdentityAssociation,
} from '@keda-self-service/plugin-keda-node';
import { ServiceAccountIssuer } from '../kubernetes/oidc';
import { assumeRoleForPodIdentity, EksAuthError } from './eksAuthClient';
import { AwsStandIn, startAwsStandIn } from './server';
import {
  allowDoc,
  CLUSTER_ACCOUNT,
  ISSUER,
  QUEUE_ACCOUNT,
  REGION,
  sdkClients,
  SdkClients,
  sessionCredentials,
} from './__testUtils__/sdkClients';
import type { Credentials } from './world';

jest.setTimeout(30_000);

const CLUSTER = 'demo';
const spec: KedaClusterSpec = {
  name: CLUSTER,
  accountId: CLUSTER_ACCOUNT,
  region: REGION,
  kedaVersion: '2.20.2',
  identity: 'pod-identity',
  operator: {
    namespace: 'keda',
    serviceAccount: 'keda-operator',
    roleName: 'keda-operator-demo',
  },
};
const OURS = {
  'backstage.io/managed-by': 'backstage-keda',
  'keda.backstage.io/cluster': CLUSTER,
};

describe('EKS Pod Identity in the AWS stand-in', () => {
  let standIn: AwsStandIn;
  let issuer: ServiceAccountIssuer;
  let admin: SdkClients;
  let node: Credentials;
  const opened: SdkClients[] = [];
  const clientsFor = (creds: Credentials) => {
    const c = sdkClients(standIn, creds, { region: REGION });
    opened.push(c);
    return c;
  };
  const token = (
    namespace = 'keda',
    serviceAccountName = 'keda-operator',
    audience = 'pods.eks.amazonaws.com',
  ) => issuer.mintToken({ namespace, serviceAccountName, audience });
  const podIdentity = (t: string, credentials = node) =>
    assumeRoleForPodIdentity({
      endpoint: standIn.url,
      region: REGION,
      credentials,
      clusterName: CLUSTER,
      token: t,
    });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as EksAuthError;
    }
    throw new Error('expected a failure');
  };
  const ensure = (
    roleArn = operatorRoleArn(spec),
    eks = admin.eks,
    serviceAccount = 'keda-operator',
  ) =>
    ensurePodIdentityAssociation({
      eks,
      accountId: CLUSTER_ACCOUNT,
      clusterName: CLUSTER,
      namespace: 'keda',
      serviceAccount,
      roleArn,
      tags: OURS,
    });

  beforeEach(async () => {
    standIn = await startAwsStandIn({ port: 0 });
    admin = clientsFor(standIn.createAccount(CLUSTER_ACCOUNT));
    standIn.createAccount(QUEUE_ACCOUNT);
    standIn.createEksCluster({
      accountId: CLUSTER_ACCOUNT,
      region: REGION,
      name: CLUSTER,
      oidcIssuer: ISSUER,
      addons: ['eks-pod-identity-agent'],
    });
    issuer = new ServiceAccountIssuer(ISSUER);
    standIn.setIssuerKeys(issuer.issuerUrl, issuer.jwks());
    await admin.iam.send(
      new CreateRoleCommand({
        RoleName: spec.operator.roleName,
        AssumeRolePolicyDocument: policyJson(operatorRoleTrustPolicy(spec)),
      }),
    );
    // The node role the Pod Identity agent signs with (AmazonEKSWorkerNodePolicy grants this action).
    await admin.iam.send(
      new CreateRoleCommand({
        RoleName: 'eks-node',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ec2.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    await admin.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'eks-node',
        PolicyName: 'pod-identity',
        PolicyDocument: allowDoc('eks-auth:AssumeRoleForPodIdentity', '*'),
      }),
    );
    node = standIn.createAccessKey(
      `arn:aws:iam::${CLUSTER_ACCOUNT}:role/eks-node`,
    );
  });

  afterEach(async () => {
    opened.splice(0).forEach(c => c.destroy());
    await standIn.close();
  });

  describe('association API', () => {
    it('creates, lists, describes and converges an association like EKS', async () => {
      const first = await ensure();
      expect(first).toMatchObject({
        outcome: 'created',
        changes: ['eks:CreatePodIdentityAssociation'],
      });
      expect(first.associationId).toMatch(/^a-[a-z0-9]{17}$/);
      expect(first.associationArn).toBe(
        `arn:aws:eks:${REGION}:${CLUSTER_ACCOUNT}:podidentityassociation/${CLUSTER}/${first.associationId}`,
      );
      const listed = await admin.eks.send(
        new ListPodIdentityAssociationsCommand({
          clusterName: CLUSTER,
          namespace: 'keda',
        }),
      );
      expect(listed.associations).toEqual([
        expect.objectContaining({
          associationId: first.associationId,
          namespace: 'keda',
          serviceAccount: 'keda-operator',
        }),
      ]);
      expect(listed.associations![0]).not.toHaveProperty('roleArn');
      const described = await admin.eks.send(
        new DescribePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: first.associationId,
        }),
      );
      expect(described.association).toMatchObject({
        roleArn: operatorRoleArn(spec),
        tags: OURS,
        disableSessionTags: false,
      });
      expect(described.association!.createdAt).toBeInstanceOf(Date);
      // a second run changes nothing
      await expect(ensure()).resolves.toEqual({
        ...first,
        outcome: 'unchanged',
        changes: [],
      });
      // EKS allows one association per service account
      await expect(
        admin.eks.send(
          new CreatePodIdentityAssociationCommand({
            clusterName: CLUSTER,
            namespace: 'keda',
            serviceAccount: 'keda-operator',
            roleArn: operatorRoleArn(spec),
          }),
        ),
      ).rejects.toMatchObject({ name: 'ResourceInUseException' });
    });

    it('answers a retried create with the same token with the same association', async () => {
      const create = () =>
        admin.eks.send(
          new CreatePodIdentityAssociationCommand({
            clusterName: CLUSTER,
            namespace: 'keda',
            serviceAccount: 'keda-operator',
            roleArn: operatorRoleArn(spec),
            clientRequestToken: 'token-1',
          }),
        );
      const a = await create();
      const b = await create();
      expect(b.association!.associationId).toBe(a.association!.associationId);
    });

    it('re-points only its own association, and refuses one it does not own', async () => {
      const otherRole = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/keda-operator-old`;
      await admin.iam.send(
        new CreateRoleCommand({
          RoleName: 'keda-operator-old',
          AssumeRolePolicyDocument: policyJson(operatorRoleTrustPolicy(spec)),
        }),
      );
      const ours = await ensure(otherRole);
      await expect(ensure()).resolves.toMatchObject({
        associationId: ours.associationId,
        outcome: 'updated',
      });
      await admin.eks.send(
        new DeletePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: ours.associationId,
        }),
      );

      const theirs = await admin.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          namespace: 'keda',
          serviceAccount: 'keda-operator',
          roleArn: otherRole,
        }),
      );
      await expect(ensure()).rejects.toThrow(
        new RegExp(
          `already has EKS Pod Identity association ${
            theirs.association!.associationId
          } with role ${otherRole}, not tagged`,
        ),
      );
      const after = await admin.eks.send(
        new DescribePodIdentityAssociationCommand({
          clusterName: CLUSTER,
          associationId: theirs.association!.associationId,
        }),
      );
      expect(after.association!.roleArn).toBe(otherRole);
    });

    it('needs eks:CreatePodIdentityAssociation and iam:PassRole for pods.eks.amazonaws.com, and says which was denied', async () => {
      const user = (statements: object[]) => {
        const name = `provisioner-${statements.length}`;
        standIn.createUser(CLUSTER_ACCOUNT, name, {
          inlinePolicies: {
            p: { Version: '2012-10-17', Statement: statements as never },
          },
        });
        return clientsFor(
          standIn.createAccessKey(
            `arn:aws:iam::${CLUSTER_ACCOUNT}:user/${name}`,
          ),
        );
      };
      const eksOnly = {
        Effect: 'Allow',
        Action: [
          'eks:ListPodIdentityAssociations',
          'eks:DescribePodIdentityAssociation',
          'eks:CreatePodIdentityAssociation',
        ],
        Resource: '*',
      };
      await expect(ensure(undefined, user([eksOnly]).eks)).rejects.toThrow(
        /AWS denied eks:CreatePodIdentityAssociation on demo\/keda\/keda-operator in account 111111111111 to arn:aws:iam::111111111111:user\/provisioner-1.*iam:PassRole/,
      );
      const passRole = {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: operatorRoleArn(spec),
        Condition: {
          StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' },
        },
      };
      await expect(
        ensure(undefined, user([eksOnly, passRole]).eks),
      ).resolves.toMatchObject({ outcome: 'created' });
      const listOnly = user([
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' },
        { Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: '*' },
        { Effect: 'Allow', Action: 'iam:GetRole', Resource: '*' },
      ]);
      await expect(ensure(undefined, listOnly.eks)).rejects.toThrow(
        /AWS denied eks:ListPodIdentityAssociations/,
      );
    });

    it('rejects a role of another account (targetRoleArn is not modelled)', async () => {
      await expect(
        admin.eks.send(
          new UpdatePodIdentityAssociationCommand({
            clusterName: CLUSTER,
            associationId: (await ensure()).associationId,
            roleArn: `arn:aws:iam::${QUEUE_ACCOUNT}:role/x`,
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  describe('DescribeAddon', () => {
    it('reports the seeded Pod Identity agent add-on as ACTIVE', async () => {
      await expect(
        checkPodIdentityAgentAddon({
          eks: admin.eks,
          accountId: CLUSTER_ACCOUNT,
          clusterName: CLUSTER,
        }),
      ).resolves.toMatchObject({
        source: 'addon',
      });
    });

    it('turns a missing or degraded add-on into the fix', async () => {
      standIn.deleteEksAddon({
        accountId: CLUSTER_ACCOUNT,
        region: REGION,
        clusterName: CLUSTER,
        addonName: 'eks-pod-identity-agent',
      });
      await expect(
        checkPodIdentityAgentAddon({
          eks: admin.eks,
          accountId: CLUSTER_ACCOUNT,
          clusterName: CLUSTER,
        }),
      ).rejects.toThrow(
        /has no eks-pod-identity-agent add-on.*aws eks create-addon --cluster-name demo --addon-name eks-pod-identity-agent/,
      );
      standIn.createEksAddon({
        accountId: CLUSTER_ACCOUNT,
        region: REGION,
        clusterName: CLUSTER,
        addonName: 'eks-pod-identity-agent',
        status: 'DEGRADED',
      });
      await expect(
        checkPodIdentityAgentAddon({
          eks: admin.eks,
          accountId: CLUSTER_ACCOUNT,
          clusterName: CLUSTER,
        }),
      ).rejects.toThrow(/is DEGRADED, not ACTIVE/);
    });
  });

  describe('AssumeRoleForPodIdentity', () => {
    it("gives the operator's pods the role of the association, tagged as EKS tags it", async () => {
      const association = await ensure();
      const out = await podIdentity(token());
      expect(out.subject).toEqual({
        namespace: 'keda',
        serviceAccount: 'keda-operator',
      });
      expect(out.audience).toBe('pods.eks.amazonaws.com');
      expect(out.podIdentityAssociation).toEqual({
        associationArn: association.associationArn,
        associationId: association.associationId,
      });
      expect(out.assumedRoleUser.arn).toMatch(
        new RegExp(
          `^arn:aws:sts::${CLUSTER_ACCOUNT}:assumed-role/keda-operator-demo/eks-demo-keda-operator-`,
        ),
      );
      const who = await clientsFor(out.credentials).sts.send(
        new GetCallerIdentityCommand({}),
      );
      expect(who.Arn).toBe(out.assumedRoleUser.arn);
      expect(
        standIn.state.accessKeys[out.credentials.accessKeyId].sessionTags,
      ).toEqual({
        'eks-cluster-arn': `arn:aws:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/${CLUSTER}`,
        'eks-cluster-name': CLUSTER,
        'kubernetes-namespace': 'keda',
        'kubernetes-service-account': 'keda-operator',
      });
    });

    it('refuses a service account without an association', async () => {
      await ensure();
      const e = await failure(
        podIdentity(token('keda', 'keda-metrics-server')),
      );
      expect(e).toMatchObject({
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it("refuses another namespace's or service account's association to the operator role: the trust pins them", async () => {
      for (const [namespace, serviceAccount] of [
        ['default', 'keda-operator'],
        ['keda', 'keda-webhook'],
      ]) {
        await admin.eks.send(
          new CreatePodIdentityAssociationCommand({
            clusterName: CLUSTER,
            namespace,
            serviceAccount,
            roleArn: operatorRoleArn(spec),
          }),
        );
        const e = await failure(podIdentity(token(namespace, serviceAccount)));
        expect(e).toMatchObject({
          name: 'AccessDeniedException',
          $metadata: { httpStatusCode: 403 },
        });
        expect(e.message).toContain(`${namespace}/${serviceAccount}`);
      }
    });

    it('refuses a trust pinned to another cluster, and the old SourceArn-on-cluster trust', async () => {
      await ensure();
      const trusts = [
        operatorRoleTrustPolicy({ ...spec, name: 'other-cluster' }),
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'pods.eks.amazonaws.com' },
              Action: ['sts:AssumeRole', 'sts:TagSession'],
              Condition: {
                StringEquals: { 'aws:SourceAccount': CLUSTER_ACCOUNT },
                ArnEquals: {
                  'aws:SourceArn': `arn:aws:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/${CLUSTER}`,
                },
              },
            },
          ],
        },
        // without sts:TagSession EKS cannot tag its session
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'pods.eks.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      ];
      for (const trust of trusts) {
        standIn.state.accounts[CLUSTER_ACCOUNT].roles[
          spec.operator.roleName
        ].trustPolicy = JSON.stringify(trust);
        const e = await failure(podIdentity(token()));
        expect(e.name).toBe('AccessDeniedException');
      }
    });

    it('refuses tokens that are not for Pod Identity or not from this cluster, and a node without the permission', async () => {
      await ensure();
      expect(
        (
          await failure(
            podIdentity(token('keda', 'keda-operator', 'sts.amazonaws.com')),
          )
        ).name,
      ).toBe('InvalidTokenException');
      const forged = new ServiceAccountIssuer(ISSUER).mintToken({
        namespace: 'keda',
        serviceAccountName: 'keda-operator',
        audience: 'pods.eks.amazonaws.com',
      });
      expect((await failure(podIdentity(forged))).name).toBe(
        'InvalidTokenException',
      );
      const otherIssuer = new ServiceAccountIssuer(
        'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER',
      ).mintToken({
        namespace: 'keda',
        serviceAccountName: 'keda-operator',
        audience: 'pods.eks.amazonaws.com',
      });
      expect((await failure(podIdentity(otherIssuer))).name).toBe(
        'InvalidTokenException',
      );
      standIn.createUser(CLUSTER_ACCOUNT, 'nobody');
      const nobody = standIn.createAccessKey(
        `arn:aws:iam::${CLUSTER_ACCOUNT}:user/nobody`,
      );
      const denied = await failure(podIdentity(token(), nobody));
      expect(denied).toMatchObject({ name: 'AccessDeniedException' });
      expect(denied.message).toContain('eks-auth:AssumeRoleForPodIdentity');
    });

    it('passes the session tags on when the operator assumes a scaler role: its trust must allow sts:TagSession', async () => {
      await ensure();
      const admin2 = clientsFor(standIn.createAccount(QUEUE_ACCOUNT));
      const scalerArn = `arn:aws:iam::${QUEUE_ACCOUNT}:role/keda/keda-sqs-orders`;
      await admin.iam.send(
        new PutRolePolicyCommand({
          RoleName: spec.operator.roleName,
          PolicyName: 'p',
          PolicyDocument: allowDoc(
            ['sts:AssumeRole', 'sts:TagSession'],
            scalerArn,
          ),
        }),
      );
      const trust = (actions: string[]) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: operatorRoleArn(spec) },
              Action: actions,
            },
          ],
        });
      await admin2.iam.send(
        new CreateRoleCommand({
          RoleName: 'keda-sqs-orders',
          Path: '/keda/',
          AssumeRolePolicyDocument: trust(['sts:AssumeRole']),
        }),
      );
      const operator = clientsFor((await podIdentity(token())).credentials);
      await expect(
        operator.sts.send(
          new AssumeRoleCommand({
            RoleArn: scalerArn,
            RoleSessionName: 'KEDA',
          }),
        ),
      ).rejects.toThrow(/not authorized to perform: sts:TagSession/);
      standIn.state.accounts[QUEUE_ACCOUNT].roles[
        'keda-sqs-orders'
      ].trustPolicy = standIn.state.accounts[QUEUE_ACCOUNT].roles[
        'keda-sqs-orders'
      ].trustPolicy.replace(
        '"sts:AssumeRole"',
        '"sts:AssumeRole","sts:TagSession"',
      );
      const scaler = await operator.sts.send(
        new AssumeRoleCommand({ RoleArn: scalerArn, RoleSessionName: 'KEDA' }),
      );
      const session =
        standIn.state.accessKeys[sessionCredentials(scaler).accessKeyId];
      expect(session.sessionTags).toMatchObject({
        'kubernetes-namespace': 'keda',
        'kubernetes-service-account': 'keda-operator',
      });
      expect(session.transitiveTagKeys).toContain('eks-cluster-arn');
    });
  });
});
