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
 * `keda.roles`: where and how scaler roles are created in queue accounts.
 * @public
 */
export interface KedaRolesConfig {
  /** IAM path of scaler roles, e.g. `/keda/` */
  path: string;
  /** name prefix of scaler roles, e.g. `keda-sqs-` */
  namePrefix: string;
  permissionsBoundaryArn?: string;
  tags?: Record<string, string>;
  /**
   * Also trust the operator's web identity (`system:serviceaccount:<keda-ns>:<sa>`)
   * in the scaler role. Needs the cluster's OIDC provider registered in every
   * queue account, and bypasses the ExternalId check (KEDA tries
   * AssumeRoleWithWebIdentity first), so it is off by default.
   */
  trustOperatorWebIdentity?: boolean;
}

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
