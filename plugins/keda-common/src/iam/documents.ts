import type { KedaClusterSpec } from '../config';
import { EKS_POD_IDENTITY_PRINCIPAL, STS_AUDIENCE } from '../constants';
import {
  partitionForRegion,
  type AwsPartition,
  type SqsQueue,
} from '../queueUrl';
import type { PolicyDocument, PolicyStatement } from './policyDocument';
import { iamRoleArn, oidcIssuerHostPath, oidcProviderArn } from './roleNames';

/**
 * IAM's default quota for a role trust policy (characters, whitespace not
 * counted). Raising it needs a Service Quotas request, so we stay under it.
 * @public
 */
export const TRUST_POLICY_MAX_CHARS = 2048;

/** The cluster's partition, defaulting to the one of its region. @public */
export function clusterPartition(cluster: KedaClusterSpec): AwsPartition {
  return cluster.partition ?? partitionForRegion(cluster.region);
}

/** `system:serviceaccount:<namespace>:<name>`, the `sub` of a projected token. @public */
export function serviceAccountSubject(namespace: string, name: string) {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** ARN of the cluster's KEDA operator role (account A). @public */
export function operatorRoleArn(cluster: KedaClusterSpec): string {
  return iamRoleArn(
    clusterPartition(cluster),
    cluster.accountId,
    cluster.operator.rolePath ?? '/',
    cluster.operator.roleName,
  );
}

/** `arn:<partition>:eks:<region>:<account>:cluster/<name>` @public */
export function eksClusterArn(cluster: KedaClusterSpec): string {
  return `arn:${clusterPartition(cluster)}:eks:${cluster.region}:${
    cluster.accountId
  }:cluster/${cluster.name}`;
}

function requireIssuer(cluster: KedaClusterSpec, why: string): string {
  if (!cluster.oidcIssuer) {
    throw new Error(
      `keda.clusters[${cluster.name}].oidcIssuer is required ${why}; set it to the cluster's OIDC issuer URL (aws eks describe-cluster --query cluster.identity.oidc.issuer)`,
    );
  }
  return cluster.oidcIssuer;
}

function webIdentityStatement(
  sid: string,
  partition: AwsPartition,
  providerAccountId: string,
  issuer: string,
  subject: string,
): PolicyStatement {
  const hostPath = oidcIssuerHostPath(issuer);
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: {
      Federated: oidcProviderArn(partition, providerAccountId, issuer),
    },
    Action: 'sts:AssumeRoleWithWebIdentity',
    // Both sub and aud: without aud any token of the issuer for any audience
    // would do (kedacore/keda#4764 is the AccessDenied from leaving it out).
    Condition: {
      StringEquals: {
        [`${hostPath}:sub`]: subject,
        [`${hostPath}:aud`]: STS_AUDIENCE,
      },
    },
  };
}

/**
 * The session tags EKS Pod Identity puts on the `AssumeRole` it makes for a
 * pod (EKS user guide, "Grant Pods access to AWS resources based on tags"):
 * usable as `aws:RequestTag/<key>` in the role's trust and as
 * `aws:PrincipalTag/<key>` afterwards; all of them are transitive.
 * @public
 */
export const EKS_POD_IDENTITY_SESSION_TAGS = {
  clusterArn: 'eks-cluster-arn',
  clusterName: 'eks-cluster-name',
  namespace: 'kubernetes-namespace',
  serviceAccount: 'kubernetes-service-account',
  podName: 'kubernetes-pod-name',
  podUid: 'kubernetes-pod-uid',
} as const;

/**
 * Trust policy of the KEDA operator role in the cluster account.
 * IRSA: only the operator's service account token from this cluster's OIDC
 * issuer, with audience `sts.amazonaws.com` — one statement per issuer when
 * clusters share the role (`operator.sharedIssuers`).
 * EKS Pod Identity, as the EKS user guide documents it ("Create IAM role
 * with trust policy required by EKS Pod Identity"): the
 * `pods.eks.amazonaws.com` service with `sts:AssumeRole` + `sts:TagSession`,
 * restricted by the session tags EKS sets on its request to this cluster's
 * ARN and the operator's namespace and service account. Without them any
 * pod identity association in the account could use the role. The cluster
 * ARN names the account too, which is what `aws:SourceAccount` would add;
 * `aws:SourceArn` is not pinned: AWS does not document it for Pod Identity,
 * and it names the association, not the cluster (unknown before the
 * association exists).
 * A shared operator role is IRSA only (the config refuses it for Pod
 * Identity; the role would then need every sharing cluster's ARN).
 * @public
 */
export function operatorRoleTrustPolicy(
  cluster: KedaClusterSpec,
): PolicyDocument {
  const partition = clusterPartition(cluster);
  if (cluster.identity === 'pod-identity') {
    if ((cluster.operator.sharedIssuers?.length ?? 0) > 0) {
      throw new Error(
        `keda.clusters[${cluster.name}].operator.sharedRole is supported for identity "irsa" only; give this EKS Pod Identity cluster its own operator role (remove operator.sharedRole and operator.roleName)`,
      );
    }
    return {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EksPodIdentityForKedaOperator',
          Effect: 'Allow',
          Principal: { Service: EKS_POD_IDENTITY_PRINCIPAL },
          // Pod Identity always tags the session, so both are needed.
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              [`aws:RequestTag/${EKS_POD_IDENTITY_SESSION_TAGS.clusterArn}`]:
                eksClusterArn(cluster),
              [`aws:RequestTag/${EKS_POD_IDENTITY_SESSION_TAGS.namespace}`]:
                cluster.operator.namespace,
              [`aws:RequestTag/${EKS_POD_IDENTITY_SESSION_TAGS.serviceAccount}`]:
                cluster.operator.serviceAccount,
            },
          },
        },
      ],
    };
  }
  const issuers = operatorRoleIssuers(cluster);
  const subject = serviceAccountSubject(
    cluster.operator.namespace,
    cluster.operator.serviceAccount,
  );
  return {
    Version: '2012-10-17',
    Statement: issuers.map((issuer, i) =>
      webIdentityStatement(
        // Sids must be unique within a policy; one issuer keeps the plain Sid.
        issuers.length === 1
          ? 'IrsaForKedaOperator'
          : `IrsaForKedaOperator${i + 1}`,
        partition,
        cluster.accountId,
        issuer,
        subject,
      ),
    ),
  };
}

/**
 * The OIDC issuers the operator role trusts (IRSA): the cluster's own, plus
 * those of the clusters sharing the role (`operator.sharedIssuers`), without
 * duplicates and sorted by their IAM form, so every sharing cluster computes
 * the very same trust policy (reconcile from one cluster does not undo
 * another's).
 * @public
 */
export function operatorRoleIssuers(cluster: KedaClusterSpec): string[] {
  const own = requireIssuer(cluster, 'for identity "irsa"');
  const byHostPath = new Map<string, string>();
  for (const issuer of [own, ...(cluster.operator.sharedIssuers ?? [])]) {
    const key = oidcIssuerHostPath(issuer);
    if (key && !byHostPath.has(key)) byHostPath.set(key, issuer);
  }
  return [...byHostPath.keys()].sort().map(key => byHostPath.get(key)!);
}

/**
 * Permission policy of the KEDA operator role: it may assume only scaler
 * roles — those under the configured path and name prefix — and only in the
 * allowed queue accounts; not `Resource: "*"` as in the article.
 * @public
 */
export function operatorRolePermissionPolicy(input: {
  cluster: KedaClusterSpec;
  queueAccountIds: string[];
  scalerRolePath: string;
  scalerRoleNamePrefix: string;
  /** queue ARNs the operator reads directly (queue policy alternative) */
  directQueueArns?: string[];
}): PolicyDocument {
  const { cluster, queueAccountIds } = input;
  const accounts = [...new Set(queueAccountIds)].sort();
  if (accounts.length === 0) {
    throw new Error(
      'keda.guardrails.allowedQueueAccounts is empty; list the AWS account ids whose queues KEDA may read',
    );
  }
  const partition = clusterPartition(cluster);
  const statements: PolicyStatement[] = [
    {
      Sid: 'AssumeKedaScalerRoles',
      Effect: 'Allow',
      // With Pod Identity the operator's session carries tags, which are
      // transitive on role chaining: AssumeRole then also needs TagSession.
      Action:
        cluster.identity === 'pod-identity'
          ? ['sts:AssumeRole', 'sts:TagSession']
          : 'sts:AssumeRole',
      Resource: accounts.map(accountId =>
        iamRoleArn(
          partition,
          accountId,
          input.scalerRolePath,
          `${input.scalerRoleNamePrefix}*`,
        ),
      ),
    },
  ];
  const direct = [...new Set(input.directQueueArns ?? [])].sort();
  if (direct.length > 0) {
    statements.push({
      Sid: 'ReadQueueDepthDirectly',
      Effect: 'Allow',
      Action: 'sqs:GetQueueAttributes',
      Resource: direct,
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * How KEDA obtains the scaler role, which decides who the role must trust.
 * `aws`: TriggerAuthentication `provider: aws` + `roleArn` — the operator
 * assumes the role (with the ExternalId when KEDA ≥ 2.20).
 * `aws-eks`: the article's deprecated provider — KEDA reads the role from the
 * workload ServiceAccount annotation and calls plain `sts:AssumeRole`; the
 * article's trust also lets the workload pods themselves in.
 * @public
 */
export type KedaProviderMode = 'aws' | 'aws-eks';

/**
 * Trust policy of a scaler role in the queue account.
 * @public
 */
export function scalerRoleTrustPolicy(input: {
  cluster: KedaClusterSpec;
  /** the account the scaler role lives in (the queue's) */
  queueAccountId: string;
  providerMode: KedaProviderMode;
  /** required with `sts:ExternalId` when set (mode `aws` on KEDA ≥ 2.20) */
  externalId?: string;
  /** mode `aws`: also trust the operator's web identity (see KedaRolesConfig) */
  trustOperatorWebIdentity?: boolean;
  /** mode `aws-eks`: the workload ServiceAccount the article trusts too */
  workloadServiceAccount?: { namespace: string; name: string };
}): PolicyDocument {
  const { cluster } = input;
  const partition = clusterPartition(cluster);
  const operatorArn = operatorRoleArn(cluster);
  const statements: PolicyStatement[] = [
    {
      Sid: 'KedaOperatorAssumesScalerRole',
      Effect: 'Allow',
      Principal: { AWS: operatorArn },
      Action: 'sts:AssumeRole',
      ...(input.externalId
        ? {
            Condition: {
              StringEquals: { 'sts:ExternalId': input.externalId },
            },
          }
        : {}),
    },
  ];
  if (cluster.identity === 'pod-identity') {
    // Pod Identity session tags are transitive, so the chained AssumeRole
    // carries them and needs sts:TagSession. Its own statement: sts:ExternalId
    // is not a condition key of sts:TagSession, and tagging alone never lets
    // anyone in — sts:AssumeRole (with the ExternalId) still has to match.
    statements.push({
      Sid: 'KedaOperatorPassesSessionTags',
      Effect: 'Allow',
      Principal: { AWS: operatorArn },
      Action: 'sts:TagSession',
    });
  }

  if (input.providerMode === 'aws' && input.trustOperatorWebIdentity) {
    // KEDA tries AssumeRoleWithWebIdentity with the operator's own token
    // before AssumeRole; this needs the cluster's OIDC provider in the queue
    // account.
    statements.push(
      webIdentityStatement(
        'KedaOperatorWebIdentity',
        partition,
        input.queueAccountId,
        requireIssuer(cluster, 'to trust the operator web identity'),
        serviceAccountSubject(
          cluster.operator.namespace,
          cluster.operator.serviceAccount,
        ),
      ),
    );
  }
  if (input.providerMode === 'aws-eks' && input.workloadServiceAccount) {
    const sa = input.workloadServiceAccount;
    statements.push(
      webIdentityStatement(
        'WorkloadServiceAccountWebIdentity',
        partition,
        input.queueAccountId,
        requireIssuer(cluster, 'for the aws-eks provider mode'),
        serviceAccountSubject(sa.namespace, sa.name),
      ),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * Permission policy of a scaler role: read the depth of exactly one queue.
 * `GetQueueAttributes` is all KEDA's aws-sqs-queue scaler calls.
 * @public
 */
export function scalerRolePermissionPolicy(queue: SqsQueue): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadQueueDepth',
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: queue.arn,
      },
    ],
  };
}

/**
 * The alternative without a scaler role: a queue policy letting the operator
 * role itself read the queue depth (the operator role then also needs
 * `sqs:GetQueueAttributes` on the queue, see `directQueueArns`).
 * @public
 */
export function queueAccessPolicy(
  queue: SqsQueue,
  operatorArn: string,
): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'KedaOperatorReadsQueueDepth',
        Effect: 'Allow',
        Principal: { AWS: operatorArn },
        Action: 'sqs:GetQueueAttributes',
        Resource: queue.arn,
      },
    ],
  };
}
