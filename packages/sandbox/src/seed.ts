import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { EKSClient } from '@aws-sdk/client-eks';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  EKS_ROLE_ARN_ANNOTATION,
  KUBERNETES_ID_LABEL,
  MANAGED_BY_VALUE,
  ROLE_TAG_KEYS,
  OPERATOR_PERMISSION_POLICY_NAME,
  STS_AUDIENCE,
  iamRoleArn,
  operatorRoleArn,
  operatorRolePermissionPolicy,
  operatorRoleTrustPolicy,
  policyJson,
  type KedaClusterSpec,
  type PolicyDocument,
} from '@keda-self-service/plugin-keda-common';
import { clusterSpecOf, type PortalFacts } from './portalConfig';
import {
  ensurePodIdentityAssociation,
  POD_IDENTITY_AGENT_ADDON,
  type KedaClusterConfig,
} from '@keda-self-service/plugin-keda-node';
import type { AwsStandIn } from './aws';
import type { KubernetesStandIn, KubernetesObject } from './kubernetes';
import type { GitHubStandIn } from './github';

/**
 * The demo world beyond what the portal config says: the workloads and
 * queues of the example catalog (examples/entities.yaml).
 */
export const DEMO = {
  queueAccountId: '222222222222',
  queueRegion: 'eu-west-1',
  portalUserName: 'backstage-portal',
  workloads: [
    { namespace: 'orders', name: 'orders-worker', queue: 'orders-queue' },
    { namespace: 'billing', name: 'billing-worker', queue: 'billing-queue' },
  ],
} as const;

/** The policy of the role the portal assumes in an account to manage KEDA roles. */
export function provisionerPolicy(
  accountId: string,
  facts: PortalFacts,
): PolicyDocument {
  const scalerRoles = iamRoleArn('aws', accountId, facts.keda.roles.path, '*');
  const operatorRoles = facts.keda.clusters
    .filter(c => c.accountId === accountId)
    .map(c =>
      iamRoleArn(
        'aws',
        accountId,
        c.operator.rolePath ?? '/',
        c.operator.roleName,
      ),
    );
  // Onboarding of EKS Pod Identity clusters: check the agent add-on, bind the
  // operator role to the operator's service account.
  const podIdentity = facts.keda.clusters.filter(
    c => c.accountId === accountId && c.identity === 'pod-identity' && c.region,
  );
  const eksArn = (c: KedaClusterConfig, resource: string) =>
    `arn:aws:eks:${c.region}:${accountId}:${resource}`;
  const podIdentityStatements = podIdentity.length
    ? [
        {
          Sid: 'BindKedaOperatorWithPodIdentity',
          Effect: 'Allow' as const,
          Action: [
            'eks:ListPodIdentityAssociations',
            'eks:CreatePodIdentityAssociation',
            'eks:DescribePodIdentityAssociation',
            'eks:UpdatePodIdentityAssociation',
            'eks:DescribeAddon',
          ],
          Resource: podIdentity.flatMap(c => {
            const name = c.eks.clusterName ?? c.name;
            return [
              eksArn(c, `cluster/${name}`),
              eksArn(c, `podidentityassociation/${name}/*`),
              eksArn(c, `addon/${name}/${POD_IDENTITY_AGENT_ADDON}/*`),
            ];
          }),
        },
        {
          Sid: 'PassKedaOperatorRoleToPodIdentity',
          Effect: 'Allow' as const,
          Action: 'iam:PassRole',
          Resource: podIdentity.map(c =>
            iamRoleArn(
              'aws',
              accountId,
              c.operator.rolePath ?? '/',
              c.operator.roleName,
            ),
          ),
          Condition: {
            StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' },
          },
        },
      ]
    : [];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ManageKedaRoles',
        Effect: 'Allow',
        Action: [
          'iam:CreateRole',
          'iam:GetRole',
          'iam:DeleteRole',
          'iam:UpdateAssumeRolePolicy',
          'iam:PutRolePolicy',
          'iam:GetRolePolicy',
          'iam:ListRolePolicies',
          'iam:DeleteRolePolicy',
          'iam:TagRole',
          'iam:UntagRole',
          'iam:ListRoleTags',
          'iam:PutRolePermissionsBoundary',
          'iam:UpdateRole',
          'iam:ListAttachedRolePolicies',
          'iam:DetachRolePolicy',
          'iam:SimulatePrincipalPolicy',
        ],
        Resource: [scalerRoles, ...operatorRoles],
      },
      {
        // IAM authorises GetRole of a role that does not exist (yet) against
        // `role/<name>`, without the path: allow that look-up by name prefix.
        Sid: 'LookUpKedaRolesBeforeTheyExist',
        Effect: 'Allow',
        Action: 'iam:GetRole',
        Resource: iamRoleArn(
          'aws',
          accountId,
          '/',
          `${facts.keda.roles.namePrefix}*`,
        ),
      },
      {
        Sid: 'DiscoverClusters',
        Effect: 'Allow',
        Action: [
          'eks:DescribeCluster',
          'iam:ListOpenIDConnectProviders',
          'iam:GetOpenIDConnectProvider',
        ],
        Resource: '*',
      },
      {
        // Policy checks before and after provisioning (keda-node verification);
        // these Access Analyzer actions have no resource type.
        Sid: 'CheckPolicies',
        Effect: 'Allow',
        Action: [
          'access-analyzer:ValidatePolicy',
          'access-analyzer:CheckAccessNotGranted',
          'access-analyzer:CheckNoPublicAccess',
        ],
        Resource: '*',
      },
      ...podIdentityStatements,
    ],
  };
}

/** The node role of a seeded cluster, which its EKS Pod Identity agent signs with. */
export const podIdentityNodeRoleName = (clusterName: string) =>
  `eks-node-${clusterName}`.slice(0, 64);

/**
 * EKS Pod Identity on a seeded cluster: the node role whose credentials the
 * Pod Identity agent (here: the KEDA loop) signs `AssumeRoleForPodIdentity`
 * with — allowed `eks-auth:AssumeRoleForPodIdentity` on the cluster, as
 * AmazonEKSWorkerNodePolicy allows it. Idempotent; returns a key of the role.
 */
export async function ensurePodIdentityNode(
  aws: AwsStandIn,
  spec: KedaClusterSpec,
) {
  const iam = new IAMClient({
    endpoint: aws.url,
    region: 'us-east-1',
    credentials: aws.createAccount(spec.accountId),
  });
  const name = podIdentityNodeRoleName(spec.name);
  await ensureRole(
    iam,
    name,
    '/',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'ec2.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    },
    {
      'eks-pod-identity-agent': {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'eks-auth:AssumeRoleForPodIdentity',
            Resource: `arn:aws:eks:${spec.region}:${spec.accountId}:cluster/${spec.name}`,
          },
        ],
      },
    },
  );
  iam.destroy();
  return aws.createAccessKey(iamRoleArn('aws', spec.accountId, '/', name));
}

async function ensureRole(
  iam: IAMClient,
  name: string,
  path: string,
  trust: PolicyDocument,
  inline: Record<string, PolicyDocument>,
) {
  const exists = await iam
    .send(new GetRoleCommand({ RoleName: name }))
    .then(() => true)
    .catch(e => {
      if (e.name === 'NoSuchEntityException' || e.name === 'NoSuchEntity')
        return false;
      throw e;
    });
  if (exists) {
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: name,
        PolicyDocument: policyJson(trust),
      }),
    );
  } else {
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: path,
        AssumeRolePolicyDocument: policyJson(trust),
      }),
    );
  }
  for (const [policyName, doc] of Object.entries(inline)) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: policyName,
        PolicyDocument: policyJson(doc),
      }),
    );
  }
}

/**
 * Brings the stand-ins to the demo state; idempotent (runs on every start,
 * converging what exists). Returns the cluster specs with their OIDC issuer.
 */
export async function seedSandbox(options: {
  facts: PortalFacts;
  aws: AwsStandIn;
  kubernetes: KubernetesStandIn;
  github: GitHubStandIn;
}): Promise<{ clusters: KedaClusterSpec[] }> {
  const { facts, aws, kubernetes, github } = options;
  const accounts = new Set<string>([
    ...facts.provisionerRoles.map(r => r.accountId),
    ...facts.keda.guardrails.allowedQueueAccounts,
    DEMO.queueAccountId,
  ]);
  const clusters: KedaClusterSpec[] = [];
  for (const c of facts.keda.clusters) {
    if (c.accountId) accounts.add(c.accountId);
  }
  const iamFor = (accountId: string) =>
    new IAMClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: aws.createAccount(accountId),
    });
  for (const id of accounts) aws.createAccount(id);

  // The portal's own identity and the provisioner role it assumes per account.
  if (facts.portalKeys && facts.provisionerRoles.length > 0) {
    const home = facts.provisionerRoles[0].accountId;
    const user = aws.createUser(home, DEMO.portalUserName, {
      inlinePolicies: {
        'assume-keda-provisioners': {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Resource: facts.provisionerRoles.map(r =>
                iamRoleArn('aws', r.accountId, '/', r.roleName),
              ),
            },
          ],
        },
      },
    });
    aws.createAccessKey(
      user.arn,
      facts.portalKeys.accessKeyId,
      facts.portalKeys.secretAccessKey,
    );
    for (const role of facts.provisionerRoles) {
      await ensureRole(
        iamFor(role.accountId),
        role.roleName,
        '/',
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: user.arn },
              Action: 'sts:AssumeRole',
              ...(role.externalId
                ? {
                    Condition: {
                      StringEquals: { 'sts:ExternalId': role.externalId },
                    },
                  }
                : {}),
            },
          ],
        },
        { 'keda-provisioning': provisionerPolicy(role.accountId, facts) },
      );
    }
  }

  // Each KEDA cluster is onboarded, as the onboarding template would do:
  // the EKS cluster's OIDC issuer is registered as the account's OIDC
  // provider, and the KEDA operator role exists.
  for (const c of facts.keda.clusters) {
    if (!c.accountId || !c.region) continue;
    const eksCluster = ensureEksCluster(aws, c);
    const issuer = eksCluster.oidcIssuer;
    const spec = clusterSpecOf({
      ...c,
      oidcIssuer: c.oidcIssuer ?? issuer,
      kedaVersion: c.kedaVersion ?? '2.20.2',
    });
    clusters.push(spec);
    const iam = iamFor(c.accountId);
    const providers = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    const hostPath = issuer.replace(/^https:\/\//, '');
    if (
      !providers.OpenIDConnectProviderList?.some(p =>
        p.Arn?.endsWith(`oidc-provider/${hostPath}`),
      )
    ) {
      await iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: issuer,
          ClientIDList: [STS_AUDIENCE],
          ThumbprintList: [],
        }),
      );
    }
    await ensureRole(
      iam,
      spec.operator.roleName,
      spec.operator.rolePath ?? '/',
      operatorRoleTrustPolicy(spec),
      {
        [OPERATOR_PERMISSION_POLICY_NAME]: operatorRolePermissionPolicy({
          cluster: spec,
          queueAccountIds: facts.keda.guardrails.allowedQueueAccounts,
          scalerRolePath: facts.keda.roles.path,
          scalerRoleNamePrefix: facts.keda.roles.namePrefix,
        }),
      },
    );
    if (spec.identity === 'pod-identity') {
      // As onboarding does it: the operator's service account gets the role
      // through a pod identity association.
      const eks = new EKSClient({
        endpoint: aws.url,
        region: c.region,
        credentials: aws.createAccount(c.accountId),
      });
      await ensurePodIdentityAssociation({
        eks,
        accountId: c.accountId,
        clusterName: eksCluster.name,
        namespace: spec.operator.namespace,
        serviceAccount: spec.operator.serviceAccount,
        roleArn: operatorRoleArn(spec),
        tags: {
          [ROLE_TAG_KEYS.managedBy]: MANAGED_BY_VALUE,
          [ROLE_TAG_KEYS.cluster]: spec.name,
        },
      });
      eks.destroy();
    }
  }

  // Queues of the example workloads.
  const sqs = new SQSClient({
    endpoint: aws.url,
    region: DEMO.queueRegion,
    credentials: aws.createAccount(DEMO.queueAccountId),
  });
  for (const w of DEMO.workloads) {
    await sqs.send(new CreateQueueCommand({ QueueName: w.queue }));
  }

  // The cluster: KEDA's service account and the example workloads.
  const operator = clusters[0];
  const apply = (resource: string, obj: KubernetesObject) => {
    const ns = obj.metadata?.namespace;
    if (!kubernetes.store.find(resource, ns, obj.metadata!.name!)) {
      kubernetes.store.create(resource, ns, obj);
    }
  };
  for (const ns of ['keda', ...DEMO.workloads.map(w => w.namespace)]) {
    apply('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
  }
  if (operator) {
    apply('serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        namespace: operator.operator.namespace,
        name: operator.operator.serviceAccount,
        // IRSA: the role annotation; Pod Identity: the association in EKS, no annotation.
        ...(operator.identity === 'irsa'
          ? {
              annotations: {
                [EKS_ROLE_ARN_ANNOTATION]: operatorRoleArn(operator),
              },
            }
          : {}),
      },
    });
  }
  for (const w of DEMO.workloads) {
    apply('deployments.apps', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        namespace: w.namespace,
        name: w.name,
        labels: { [KUBERNETES_ID_LABEL]: w.name, app: w.name },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: w.name } },
        template: {
          metadata: { labels: { app: w.name, [KUBERNETES_ID_LABEL]: w.name } },
          spec: {
            containers: [
              { name: 'worker', image: `example.com/${w.name}:1.0.0` },
            ],
          },
        },
      },
    });
  }

  // The GitOps repositories the clusters' manifests go to.
  for (const c of facts.keda.clusters) {
    const repo = c.gitops && parseRepoUrl(c.gitops.repoUrl);
    if (repo && !github.state.findRepository(repo.owner, repo.repo)) {
      github.createRepo(repo.owner, repo.repo, {
        defaultBranch: 'main',
        description:
          'GitOps repository applied to the clusters (Argo CD-like loop of the sandbox)',
        files: {
          'README.md': `# GitOps\n\nManifests under \`clusters/<cluster>/\` are applied to that cluster when a pull request is merged.\n`,
        },
      });
    }
  }
  return { clusters };
}

/**
 * The EKS cluster record behind a configured cluster (DescribeCluster
 * answers with it): endpoint = the configured API URL, and an EKS-style OIDC
 * issuer (`https://oidc.eks.<region>.amazonaws.com/id/<id>`), which the
 * Kubernetes stand-in then uses for its service account tokens.
 */
export function ensureEksCluster(aws: AwsStandIn, c: KedaClusterConfig) {
  const name = c.eks.clusterName ?? c.name;
  aws.createAccount(c.accountId!);
  const cluster =
    aws.state.accounts[c.accountId!].clusters[`${c.region}/${name}`] ??
    aws.createEksCluster({
      accountId: c.accountId!,
      region: c.region!,
      name,
      endpoint: c.url,
    });
  // The demo clusters have the EKS Pod Identity agent add-on installed, so
  // a cluster configured with identity pod-identity works (tests remove it
  // with aws.deleteEksAddon).
  if (!cluster.addons?.[POD_IDENTITY_AGENT_ADDON]) {
    aws.createEksAddon({
      accountId: c.accountId!,
      region: c.region!,
      clusterName: name,
      addonName: POD_IDENTITY_AGENT_ADDON,
    });
  }
  return cluster;
}

/** `github.com?owner=acme&repo=gitops` (scaffolder repoUrl form) → owner/repo. */
export function parseRepoUrl(repoUrl: string): {
  host: string;
  owner: string;
  repo: string;
} {
  const [host, query = ''] = repoUrl.split('?');
  const params = new URLSearchParams(query);
  const owner = params.get('owner');
  const repo = params.get('repo');
  if (!owner || !repo) {
    throw new Error(
      `GitOps repoUrl '${repoUrl}' needs owner and repo, e.g. github.com?owner=acme&repo=gitops`,
    );
  }
  return { host, owner, repo };
}
