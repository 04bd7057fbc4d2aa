import type { AwsPartition } from './queueUrl';

/**
 * One entry of `keda.clusters[]` after defaults: where KEDA runs (account A)
 * and how its operator authenticates to AWS.
 * @public
 */
export interface KedaClusterSpec {
  name: string;
  accountId: string;
  region: string;
  /** defaults to the partition of `region` */
  partition?: AwsPartition;
  /** e.g. `https://oidc.eks.eu-west-1.amazonaws.com/id/ABC`; required for IRSA */
  oidcIssuer?: string;
  /** the KEDA operator's version, e.g. `2.20.2` */
  kedaVersion: string;
  identity: 'irsa' | 'pod-identity';
  operator: {
    /** `keda` */
    namespace: string;
    /** `keda-operator` */
    serviceAccount: string;
    /**
     * `keda-operator-<cluster name>` unless configured (see
     * `defaultOperatorRoleName`): one operator role per cluster.
     */
    roleName: string;
    /** IAM path of the operator role, `/` unless configured */
    rolePath?: string;
    /**
     * The OIDC issuers of the other clusters sharing this operator role
     * (`keda.clusters[].operator.sharedRole: true` on all of them). The
     * role's IRSA trust then has one statement per issuer — this cluster's
     * and these — with the same `sub`/`aud` conditions. Absent or empty for
     * a role of this cluster alone.
     */
    sharedIssuers?: string[];
  };
  gitops?: {
    repoUrl: string;
    /** template with `{cluster}`, `{namespace}`, `{name}`, e.g. `clusters/{cluster}/{namespace}/{name}` */
    path: string;
  };
}

/**
 * `keda.roles`: where and how scaler roles are created in the queue
 * accounts. The one declaration of this block: the plan builders take it as
 * configured (optional fields may be absent), keda-node's config reader
 * returns it with every default applied ({@link ResolvedKedaRolesConfig}).
 * Defaults: {@link DEFAULT_KEDA_ROLES}; the config schema is keda-node's
 * `config.d.ts`.
 * @public
 */
export interface KedaRolesConfig {
  /** `keda.roles.path`: IAM path of scaler roles, e.g. `/keda/` */
  path: string;
  /** `keda.roles.namePrefix`: name prefix of scaler roles, e.g. `keda-sqs-` */
  namePrefix: string;
  /**
   * `keda.roles.permissionsBoundaryArn`: IAM policy set as permissions
   * boundary on the scaler roles; none when absent.
   */
  permissionsBoundaryArn?: string;
  /** `keda.roles.tags`: extra tags on the scaler roles (default none). */
  tags?: Record<string, string>;
  /**
   * `keda.roles.trustOperatorWebIdentity`: also trust the operator's web
   * identity (`system:serviceaccount:<keda-ns>:<sa>`) in the scaler role.
   * Needs the cluster's OIDC provider registered in every queue account, and
   * bypasses the ExternalId check (KEDA tries AssumeRoleWithWebIdentity
   * first), so it is off by default.
   */
  trustOperatorWebIdentity?: boolean;
  /**
   * `keda.roles.adoptExistingRoles`: converge an existing role of the
   * planned name that has no managed-by tag instead of refusing (default
   * false). Never lets a run take over a role whose identity tags name
   * another workload or cluster.
   */
  adoptExistingRoles?: boolean;
}

/**
 * {@link KedaRolesConfig} with every default applied, as keda-node's config
 * reader returns it: only `permissionsBoundaryArn` may be absent.
 * @public
 */
export type ResolvedKedaRolesConfig = Required<
  Omit<KedaRolesConfig, 'permissionsBoundaryArn'>
> &
  Pick<KedaRolesConfig, 'permissionsBoundaryArn'>;

/**
 * The defaults of `keda.roles`, one per key: used when a key is not
 * configured.
 * @public
 */
export const DEFAULT_KEDA_ROLES: Readonly<
  Omit<ResolvedKedaRolesConfig, 'permissionsBoundaryArn'>
> = Object.freeze({
  path: '/keda/',
  namePrefix: 'keda-sqs-',
  tags: Object.freeze({}) as Record<string, string>,
  trustOperatorWebIdentity: false,
  adoptExistingRoles: false,
});

/**
 * `keda.guardrails`: what a request may ask for, and what needs no approval.
 * @public
 */
export interface KedaGuardrails {
  allowedQueueAccounts: string[];
  allowedClusters?: string[];
  maxReplicas: number;
  autoApprove?: {
    maxReplicas?: number;
    queueAccounts?: string[];
    clusters?: string[];
  };
  /**
   * A request is made by a member of the entity's owner group or an
   * approver (`keda.guardrails.requireOwnership`, default true). Enforced
   * where the requester's groups are known (the requests backend); the plan
   * only carries it.
   */
  requireOwnership?: boolean;
  /**
   * `https://` URLs of SQS (VPC) endpoints a request may name as
   * `awsEndpoint` without approval, besides the queue region's own SQS
   * endpoint (`keda.guardrails.allowedSqsEndpoints`, default none). An
   * entry matches an endpoint that is the entry itself or the entry
   * followed by a path; it is not a host prefix.
   */
  allowedSqsEndpoints?: string[];
}

/** Default GitOps path template. @public */
export const DEFAULT_GITOPS_PATH = 'clusters/{cluster}/{namespace}/{name}';
