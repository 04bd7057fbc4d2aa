import type { KedaClusterCacheState } from './status';
import type { KedaRequest, KedaRequestInput } from './request';
import type { KedaRequestState } from './requests';

/**
 * One entry of `GET /api/keda/clusters`: the freshness of the cluster's watch
 * cache plus the facts a person picks a cluster by (the template form's
 * cluster picker).
 * @public
 */
export interface KedaClusterInfo extends KedaClusterCacheState {
  /** `keda.clusters[].title`, when configured */
  title?: string;
  /** account A: the EKS cluster and its KEDA operator role */
  accountId?: string;
  region?: string;
}

/** Response of `GET /api/keda/clusters`. @public */
export interface KedaClusterList {
  clusters: KedaClusterInfo[];
}

/** Body of `POST /api/keda/plan`. @public */
export interface KedaPlanPreviewBody {
  request: KedaRequestInput;
}

/** A guardrail finding as the plan preview shows it. @public */
export interface KedaPlanPreviewFinding {
  code: string;
  /** the request field to change, when one is to blame */
  field?: string;
  message: string;
}

/**
 * Response of `POST /api/keda/plan`: what running the template with this
 * request would plan, as the keda backend computes it for `POST /requests`
 * (the same keda-common `plan`, the same guardrails, the same ownership
 * and in-flight checks), with nothing written and no secret (the ExternalId)
 * in it. Violations are listed instead of refused, so a form can show all
 * of them at once.
 * @public
 */
export interface KedaPlanPreview {
  /** the request as planned: defaults applied */
  request: KedaRequest;
  cluster: { name: string; accountId: string; region: string };
  queue: {
    url: string;
    arn: string;
    name: string;
    accountId: string;
    region: string;
  };
  /** true when the queue lives in another account than the cluster */
  crossAccount: boolean;
  /** the role KEDA assumes in the queue account */
  scalerRole: {
    name: string;
    arn: string;
    /** its trust policy requires an ExternalId (KEDA ≥ 2.20, provider aws) */
    externalIdRequired: boolean;
  };
  /** the cluster's KEDA operator role (account A) */
  operatorRole: { name: string; arn: string };
  /** folder of the manifests in the GitOps repository */
  manifestDirectory: string;
  /** blocking: the run would fail with these */
  violations: KedaPlanPreviewFinding[];
  /** true when no violation blocks and no approval is needed */
  autoApproved: boolean;
  /** why a platform engineer has to approve; empty when auto-approved */
  approvalReasons: string[];
  warnings: KedaPlanPreviewFinding[];
  /** owner of the entity, from the catalog */
  owner?: string;
  /** the workload's current request, which this one would supersede */
  supersedes?: { id: string; state: KedaRequestState };
}
