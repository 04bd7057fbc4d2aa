/*
 * The world of the AWS reliability suite (#16 item 2): the AWS stand-in with
 * two onboarded clusters (IRSA and EKS Pod Identity) in account A and two
 * queues in account B, the portal config pointing at it, the template steps'
 * real action handlers, and an inspection of the resulting IAM/EKS state
 * against what was planned.
 */
import {
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  CreateOpenIDConnectProviderCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ConfigReader } from '@backstage/config';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  MANAGED_BY_VALUE,
  operatorRoleArn,
  planOperatorRole,
  ROLE_TAG_KEYS,
  STS_AUDIENCE,
  type KedaClusterSpec,
  type KedaRequestInput,
  type KedaRequestPreflight,
  type PolicyDocument,
} from '@keda-self-service/plugin-keda-common';
import {
  clusterSpecOf,
  decodeIamPolicy,
  desiredOperatorRole,
  KedaAwsClientFactory,
  readKedaConfig,
  type DesiredRole,
} from '@keda-self-service/plugin-keda-node';
import {
  rootCredentialsFor,
  startAwsStandIn,
  type AwsStandIn,
} from '@internal/sandbox';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKedaManifestsWriteAction } from '../../actions/manifestsWrite';
import { createKedaOperatorRoleEnsureAction } from '../../actions/operatorRoleEnsure';
import { createKedaPlanAction } from '../../actions/plan';
import { createKedaScalerRoleEnsureAction } from '../../actions/scalerRoleEnsure';
import { KedaPlanner } from '../../lib/planner';
import {
  CLUSTER_ACCOUNT,
  kedaConfigData,
  OIDC_ISSUER,
  QUEUE_ACCOUNT,
  runAction,
} from '../../__testUtils__/fixtures';
import { fixedPermissions } from '../../__testUtils__/permissions';

export const REGION = 'eu-west-1';
export const IRSA_CLUSTER = 'demo-eks';
export const POD_IDENTITY_CLUSTER = 'pi-eks';
export const QUEUES = ['orders-queue', 'billing-queue'] as const;

/** The workloads the runs pick from: several per namespace, both kinds. */
export const WORKLOADS = [
  { namespace: 'orders', kind: 'Deployment', name: 'orders-worker' },
  { namespace: 'orders', kind: 'StatefulSet', name: 'orders-ledger' },
  { namespace: 'billing', kind: 'Deployment', name: 'billing-worker' },
  { namespace: 'billing', kind: 'Deployment', name: 'billing-sync' },
  { namespace: 'payments', kind: 'Deployment', name: 'payments-worker' },
] as const;
export type Workload = (typeof WORKLOADS)[number];

export function kedaConfig() {
  const base = kedaConfigData();
  const irsa = base.clusters[0];
  return {
    ...base,
    clusters: [
      irsa,
      {
        ...irsa,
        name: POD_IDENTITY_CLUSTER,
        oidcIssuer: undefined,
        identity: 'pod-identity',
      },
    ].map(c => JSON.parse(JSON.stringify(c))),
  };
}

export function portalConfig() {
  return new ConfigReader({
    app: { baseUrl: 'http://localhost:3000' },
    keda: kedaConfig(),
    aws: {
      accounts: [CLUSTER_ACCOUNT, QUEUE_ACCOUNT].map(accountId => ({
        accountId,
        ...rootCredentialsFor(accountId),
      })),
    },
  });
}

export function clusterSpec(name: string): KedaClusterSpec {
  const cluster = readKedaConfig(portalConfig()).clusters.find(
    c => c.name === name,
  );
  return clusterSpecOf(cluster!) as KedaClusterSpec;
}

/** One ExternalId per workload, as the keda backend keeps it. */
export function externalIdOf(request: {
  cluster: string;
  namespace: string;
  workload: { kind?: string; name: string };
}): string {
  return crypto
    .createHash('sha256')
    .update(
      `${request.cluster}/${request.namespace}/${request.workload.kind}/${request.workload.name}`,
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * The keda backend's preflight as far as these runs need it: the owner's
 * run is auto-approved inside the guardrails and gets the workload's
 * ExternalId.
 */
const preflightApi = {
  async preflight(request: KedaRequestInput): Promise<KedaRequestPreflight> {
    return {
      autoApproved: true,
      approvalReasons: [],
      externalId: externalIdOf(request),
    };
  },
};

export function requestFor(
  workload: Workload,
  cluster: string,
  queue: string,
  scaling: { minReplicas: number; maxReplicas: number; queueLength: number },
) {
  return {
    entityRef: `component:default/${workload.name}`,
    cluster,
    namespace: workload.namespace,
    workload: { kind: workload.kind, name: workload.name },
    kubernetesId: workload.name,
    queueUrl: `https://sqs.${REGION}.amazonaws.com/${QUEUE_ACCOUNT}/${queue}`,
    ...scaling,
  };
}

/** The template steps' action handlers, with SDK clients of `maxAttempts`. */
export function templateActions(maxAttempts: number) {
  const config = portalConfig();
  const aws = KedaAwsClientFactory.fromConfig(config, { maxAttempts });
  const planner = new KedaPlanner({ config, aws, requests: preflightApi });
  return {
    planner,
    plan: createKedaPlanAction({ planner, aws }),
    write: createKedaManifestsWriteAction(),
    scalerRole: createKedaScalerRoleEnsureAction({
      planner,
      aws,
      permissions: fixedPermissions(AuthorizeResult.DENY).service,
    }),
    operatorRole: createKedaOperatorRoleEnsureAction({
      planner,
      aws,
      permissions: fixedPermissions(AuthorizeResult.ALLOW).service,
    }),
  };
}

type Actions = ReturnType<typeof templateActions>;

function workspace(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'keda-reliability-'));
}

/**
 * keda-sqs-autoscaling's steps up to the role (plan → write → provision),
 * as the template wires them; returns the request the role was planned for
 * (with the run's request id).
 */
export async function runAutoscaling(
  actions: Actions,
  request: ReturnType<typeof requestFor>,
  taskId: string,
) {
  const workspacePath = workspace();
  try {
    const planned = await runAction(
      actions.plan,
      { request },
      { taskId, workspacePath },
    );
    const out = planned.outputs;
    await runAction(
      actions.write,
      { manifests: out.manifests, targetPath: 'gitops' },
      { taskId, workspacePath },
    );
    if (!out.autoApproved) {
      throw new Error(`plan of ${taskId} unexpectedly needs approval`);
    }
    await runAction(
      actions.scalerRole,
      {
        request: out.request,
        externalId: out.externalId,
        autoApproved: true,
      },
      { taskId, workspacePath },
    );
    return { request: out.request, externalId: out.externalId as string };
  } finally {
    fs.rmSync(workspacePath, { recursive: true, force: true });
  }
}

/** keda-cluster-onboarding's AWS step. */
export async function runOnboarding(
  actions: Actions,
  cluster: string,
  taskId: string,
) {
  const workspacePath = workspace();
  try {
    await runAction(
      actions.operatorRole,
      {
        cluster,
        valuesPath: `gitops/clusters/${cluster}/keda/values.yaml`,
      },
      { taskId, workspacePath, userRef: 'user:default/priya' },
    );
  } finally {
    fs.rmSync(workspacePath, { recursive: true, force: true });
  }
}

export async function startAwsWorld(): Promise<AwsStandIn> {
  const aws = await startAwsStandIn({ port: 0, logger: () => {} });
  aws.createAccount(CLUSTER_ACCOUNT);
  aws.createAccount(QUEUE_ACCOUNT);
  aws.createEksCluster({
    accountId: CLUSTER_ACCOUNT,
    region: REGION,
    name: IRSA_CLUSTER,
    oidcIssuer: OIDC_ISSUER,
  });
  aws.createEksCluster({
    accountId: CLUSTER_ACCOUNT,
    region: REGION,
    name: POD_IDENTITY_CLUSTER,
    addons: ['eks-pod-identity-agent'],
  });
  const admin = rootClients(aws);
  await admin.iam(CLUSTER_ACCOUNT).send(
    new CreateOpenIDConnectProviderCommand({
      Url: OIDC_ISSUER,
      ClientIDList: [STS_AUDIENCE],
      ThumbprintList: [],
    }),
  );
  const sqs = new SQSClient({
    endpoint: aws.url,
    region: REGION,
    credentials: rootCredentialsFor(QUEUE_ACCOUNT),
  });
  for (const name of QUEUES) {
    await sqs.send(new CreateQueueCommand({ QueueName: name }));
  }
  sqs.destroy();
  admin.destroy();
  return aws;
}

/** Root clients of the accounts, for drift and inspection (no retries needed: faults are off then). */
export function rootClients(aws: AwsStandIn) {
  const clients: Array<{ destroy(): void }> = [];
  const track = <T extends { destroy(): void }>(c: T) => {
    clients.push(c);
    return c;
  };
  return {
    iam: (account: string) =>
      track(
        new IAMClient({
          endpoint: aws.url,
          region: 'us-east-1',
          credentials: rootCredentialsFor(account),
        }),
      ),
    eks: () =>
      track(
        new EKSClient({
          endpoint: aws.url,
          region: REGION,
          credentials: rootCredentialsFor(CLUSTER_ACCOUNT),
        }),
      ),
    destroy: () => clients.splice(0).forEach(c => c.destroy()),
  };
}

/** The operator role of a cluster as onboarding plans it. */
export function plannedOperatorRole(cluster: string): DesiredRole {
  const spec = clusterSpec(cluster);
  const { roles, guardrails } = readKedaConfig(portalConfig());
  return desiredOperatorRole(
    spec,
    planOperatorRole({ cluster: spec, roles, guardrails }),
    { tags: roles.tags },
  );
}

/**
 * Someone changes a role by hand between runs: the next run must converge
 * it. `kind` picks what: the trust policy, the inline policy, a tag, or (Pod
 * Identity) the operator's association.
 */
export async function drift(
  aws: AwsStandIn,
  target: { account: string; roleName: string; policyName: string },
  kind: 'trust' | 'policy' | 'tag' | 'association',
  podIdentityCluster?: string,
): Promise<boolean> {
  const admin = rootClients(aws);
  try {
    const iam = admin.iam(target.account);
    const exists = await iam
      .send(new GetRoleCommand({ RoleName: target.roleName }))
      .then(
        () => true,
        () => false,
      );
    if (!exists) return false;
    if (kind === 'trust') {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: target.roleName,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${target.account}:root` },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      );
    } else if (kind === 'policy') {
      await iam
        .send(
          new DeleteRolePolicyCommand({
            RoleName: target.roleName,
            PolicyName: target.policyName,
          }),
        )
        .catch(() => undefined);
    } else if (kind === 'tag') {
      await iam.send(
        new UntagRoleCommand({
          RoleName: target.roleName,
          TagKeys: ['cost-center'],
        }),
      );
    } else if (podIdentityCluster) {
      const eks = admin.eks();
      const spec = clusterSpec(podIdentityCluster);
      const { associations } = await eks.send(
        new ListPodIdentityAssociationsCommand({
          clusterName: podIdentityCluster,
          namespace: spec.operator.namespace,
          serviceAccount: spec.operator.serviceAccount,
        }),
      );
      for (const a of associations ?? []) {
        await eks.send(
          new DeletePodIdentityAssociationCommand({
            clusterName: podIdentityCluster,
            associationId: a.associationId!,
          }),
        );
      }
    }
    return true;
  } finally {
    admin.destroy();
  }
}

export interface PlannedRole {
  account: string;
  name: string;
  trustPolicy: PolicyDocument;
  inlinePolicies: Record<string, PolicyDocument>;
  tags: Record<string, string>;
  /** what says whose role it is (a second role with the same is a duplicate) */
  identity: string;
}

export interface WorldCounts {
  duplicates: string[];
  orphans: string[];
  halfConfigured: string[];
}

function identityOf(tags: Record<string, string>): string | undefined {
  if (tags[ROLE_TAG_KEYS.managedBy] !== MANAGED_BY_VALUE) return undefined;
  return [
    ROLE_TAG_KEYS.cluster,
    ROLE_TAG_KEYS.namespace,
    ROLE_TAG_KEYS.workload,
  ]
    .map(k => tags[k] ?? '')
    .join('/');
}

function canonical(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(canonical);
  if (!d || typeof d !== 'object') return d;
  return Object.fromEntries(
    Object.entries(d as Record<string, unknown>)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

function sameDocument(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * Reads every role (and the Pod Identity associations) through the IAM and
 * EKS APIs and compares them with the planned roles: a role of ours nobody
 * planned is an orphan (so is an inline policy not in the plan), two roles
 * or associations for one identity are duplicates, and a planned role
 * whose trust, inline policies or tags differ from the plan is
 * half-configured. `seeded` are roles the world had before any run.
 */
export async function inspectWorld(
  aws: AwsStandIn,
  planned: PlannedRole[],
  podIdentityClusters: string[],
): Promise<WorldCounts> {
  const admin = rootClients(aws);
  const counts: WorldCounts = {
    duplicates: [],
    orphans: [],
    halfConfigured: [],
  };
  try {
    const byIdentity = new Map<string, string[]>();
    for (const account of [CLUSTER_ACCOUNT, QUEUE_ACCOUNT]) {
      const iam = admin.iam(account);
      const roles = (await iam.send(new ListRolesCommand({}))).Roles ?? [];
      for (const listed of roles) {
        const name = listed.RoleName!;
        const role = (await iam.send(new GetRoleCommand({ RoleName: name })))
          .Role!;
        const tags = Object.fromEntries(
          (role.Tags ?? []).map(t => [t.Key!, t.Value ?? '']),
        );
        const identity = identityOf(tags);
        if (identity) {
          byIdentity.set(identity, [
            ...(byIdentity.get(identity) ?? []),
            `${account}:${name}`,
          ]);
        }
        const plan = planned.find(
          p => p.account === account && p.name === name,
        );
        if (!plan) {
          counts.orphans.push(`role ${account}:${name}`);
          continue;
        }
        const problems: string[] = [];
        if (
          !sameDocument(
            decodeIamPolicy(role.AssumeRolePolicyDocument),
            plan.trustPolicy,
          )
        ) {
          problems.push('trust policy');
        }
        const policyNames =
          (await iam.send(new ListRolePoliciesCommand({ RoleName: name })))
            .PolicyNames ?? [];
        for (const policyName of policyNames) {
          if (!plan.inlinePolicies[policyName]) {
            counts.orphans.push(`inline policy ${policyName} of ${name}`);
          }
        }
        for (const [policyName, document] of Object.entries(
          plan.inlinePolicies,
        )) {
          if (!policyNames.includes(policyName)) {
            problems.push(`inline policy ${policyName} missing`);
            continue;
          }
          const stored = await iam.send(
            new GetRolePolicyCommand({
              RoleName: name,
              PolicyName: policyName,
            }),
          );
          if (!sameDocument(decodeIamPolicy(stored.PolicyDocument), document)) {
            problems.push(`inline policy ${policyName}`);
          }
        }
        const attached =
          (
            await iam.send(
              new ListAttachedRolePoliciesCommand({ RoleName: name }),
            )
          ).AttachedPolicies ?? [];
        if (attached.length > 0) problems.push('attached policies');
        for (const [key, value] of Object.entries(plan.tags)) {
          if (tags[key] !== value) {
            problems.push(`tag ${key}=${tags[key] ?? '(missing)'}`);
          }
        }
        if (problems.length > 0) {
          counts.halfConfigured.push(`${name}: ${problems.join(', ')}`);
        }
      }
    }
    for (const plan of planned) {
      const found = [...byIdentity.values()]
        .flat()
        .includes(`${plan.account}:${plan.name}`);
      if (!found) counts.halfConfigured.push(`${plan.name}: missing`);
    }
    for (const [identity, names] of byIdentity) {
      if (names.length > 1) {
        counts.duplicates.push(`${identity}: ${names.join(', ')}`);
      }
    }
    const eks = admin.eks();
    for (const cluster of podIdentityClusters) {
      const { associations } = await eks.send(
        new ListPodIdentityAssociationsCommand({ clusterName: cluster }),
      );
      const perServiceAccount = new Map<string, number>();
      for (const a of associations ?? []) {
        const key = `${cluster}/${a.namespace}/${a.serviceAccount}`;
        perServiceAccount.set(key, (perServiceAccount.get(key) ?? 0) + 1);
      }
      for (const [key, n] of perServiceAccount) {
        if (n > 1)
          counts.duplicates.push(`${n} pod identity associations for ${key}`);
      }
      const spec = clusterSpec(cluster);
      const operator = (associations ?? []).find(
        a =>
          a.namespace === spec.operator.namespace &&
          a.serviceAccount === spec.operator.serviceAccount,
      );
      if (!operator) {
        counts.halfConfigured.push(`${cluster}: no pod identity association`);
      } else {
        const { association } = await eks.send(
          new DescribePodIdentityAssociationCommand({
            clusterName: cluster,
            associationId: operator.associationId!,
          }),
        );
        if (association?.roleArn !== operatorRoleArn(spec)) {
          counts.halfConfigured.push(
            `${cluster}: pod identity association with role ${association?.roleArn}`,
          );
        }
      }
    }
    return counts;
  } finally {
    admin.destroy();
  }
}
