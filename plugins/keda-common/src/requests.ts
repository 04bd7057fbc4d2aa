import type { KedaPlan } from './plan';
import type { KedaRequestInput } from './request';

/**
 * Life cycle of a KEDA autoscaling request record.
 *
 * pending → approved → provisioning → provisioned | failed;
 * pending → rejected | withdrawn; failed → approved (retry, a new task);
 * provisioned | failed → decommissioned | superseded. Auto-approved requests
 * are created in `provisioning` (their own template run provisions). A
 * workload has at most one request in flight (pending, approved,
 * provisioning) and at most one current (provisioned, failed); a newer
 * request for it supersedes the current one when it is auto-approved or
 * approved.
 * @public
 */
export type KedaRequestState =
  | 'pending'
  | 'approved'
  | 'provisioning'
  | 'provisioned'
  | 'failed'
  | 'rejected'
  | 'withdrawn'
  | 'decommissioned'
  | 'superseded';

/** @public */
export const KEDA_REQUEST_STATES: readonly KedaRequestState[] = [
  'pending',
  'approved',
  'provisioning',
  'provisioned',
  'failed',
  'rejected',
  'withdrawn',
  'decommissioned',
  'superseded',
];

/** States of a request still on its way: a workload has at most one. @public */
export const KEDA_IN_FLIGHT_STATES: readonly KedaRequestState[] = [
  'pending',
  'approved',
  'provisioning',
];

/**
 * States of the request that describes what a workload has now: a workload
 * has at most one. @public
 */
export const KEDA_CURRENT_STATES: readonly KedaRequestState[] = [
  'provisioned',
  'failed',
];

/**
 * Which state may follow which. The store only moves a request along these
 * edges, each with a conditional UPDATE on the current state, so two
 * concurrent decisions cannot both apply.
 * @public
 */
export const KEDA_REQUEST_TRANSITIONS: Readonly<
  Record<KedaRequestState, readonly KedaRequestState[]>
> = {
  pending: ['approved', 'rejected', 'withdrawn'],
  // A provisioning task may report before the backend has recorded that it
  // started it, hence approved → provisioned | failed as well.
  approved: ['provisioning', 'provisioned', 'failed'],
  provisioning: ['provisioning', 'provisioned', 'failed'],
  // retry: an approver approves provisioning again, which starts a new task;
  // or clean up what a failed run may have left (decommission); or a newer
  // request for the workload takes over (superseded)
  failed: ['approved', 'decommissioned', 'superseded'],
  provisioned: ['decommissioned', 'superseded'],
  rejected: [],
  withdrawn: [],
  decommissioned: [],
  superseded: [],
};

/** True when `to` may follow `from`. @public */
export function canTransition(
  from: KedaRequestState,
  to: KedaRequestState,
): boolean {
  return KEDA_REQUEST_TRANSITIONS[from].includes(to);
}

/** States in which nothing more happens to a request. @public */
export function isFinalRequestState(state: KedaRequestState): boolean {
  return KEDA_REQUEST_TRANSITIONS[state].length === 0;
}

/** @public */
export type KedaDecisionKind =
  | 'created'
  | 'auto-approved'
  | 'approved'
  | 'rejected'
  | 'withdrawn'
  | 'provisioning'
  | 'provisioned'
  | 'failed'
  | 'retried'
  | 'decommissioned'
  | 'superseded';

/**
 * One entry of a request's append-only decision log. `actor` is a user
 * entity ref, or `policy` for automatic decisions.
 * @public
 */
export interface KedaDecision {
  actor: string;
  decision: KedaDecisionKind;
  comment?: string;
  /** ISO 8601 */
  at: string;
}

/** The longest pull request URL the request API keeps. @public */
export const PULL_REQUEST_URL_MAX = 2048;

/**
 * What is wrong with a pull request's web URL, or undefined when it is one:
 * an absolute http(s) URL of at most {@link PULL_REQUEST_URL_MAX}
 * characters, without spaces or control characters. The request page links
 * to it, so any other scheme (`javascript:`, `data:`) is refused. Values
 * that are not strings are left to the caller's schema.
 * @public
 */
export function pullRequestUrlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  if (url.length > PULL_REQUEST_URL_MAX) {
    return `must be at most ${PULL_REQUEST_URL_MAX} characters, got ${url.length}`;
  }
  if (/[^\x21-\x7e]/.test(url)) {
    return 'must not contain spaces, control or non-ASCII characters';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL; expected the pull request's web URL, e.g. https://github.com/acme/gitops/pull/7`;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `must be an http(s) URL (the request page links to it), got "${parsed.protocol}"`;
  }
  return undefined;
}

/** The pull request that carries the request's manifests. @public */
export interface KedaPullRequestRef {
  url: string;
  number: number;
  /** scaffolder form, e.g. `github.com?owner=acme&repo=gitops` */
  repoUrl: string;
}

/** IAM roles a provisioning run created or converged. @public */
export interface KedaProvisionedRoles {
  scaler: string;
  operator?: string;
}

/**
 * One check of a role-chain verification: what was checked (`check`, a
 * stable id such as `simulate-scaler-permissions`), on what (`subject`), the
 * outcome and the evidence. `warning`: the check could not run (e.g. a
 * missing `access-analyzer:ValidatePolicy` permission, named in `detail`) or
 * found something worth reading that does not break the chain; never a
 * silent pass.
 * @public
 */
export interface KedaVerificationCheck {
  check: string;
  subject: string;
  outcome: 'pass' | 'fail' | 'warning';
  detail: string;
}

/**
 * Verification of a plan's role chain in forms AWS accepts (IAM's policy
 * simulator, IAM Access Analyzer, the trust evaluation): ok unless a check
 * failed.
 * @public
 */
export interface KedaVerification {
  ok: boolean;
  checks: KedaVerificationCheck[];
}

/** @public */
export interface KedaProvisioning {
  /** scaffolder task that provisions (or provisioned) the request */
  taskId?: string;
  /** path of the task's log page in the portal, `/create/tasks/<taskId>` */
  taskUrl?: string;
  roleArns?: KedaProvisionedRoles;
  /** why the last provisioning failed */
  error?: string;
  /** the role chain's verification by the last provisioning run, after it converged the roles */
  verification?: KedaVerification;
}

/**
 * A request as the keda backend stores and serves it
 * (`GET /api/keda/requests/:id`).
 * @public
 */
export interface KedaRequestRecord {
  id: string;
  entityRef: string;
  /** user entity ref of whoever ran the request template */
  requester: string;
  /** owner of the entity when the request was made, from the catalog */
  owner?: string;
  cluster: string;
  queueUrl: string;
  state: KedaRequestState;
  autoApproved: boolean;
  /** why a platform engineer has to approve; empty when auto-approved */
  approvalReasons: string[];
  /** recomputed by the backend from the request and its own config */
  plan: KedaPlan;
  pullRequest?: KedaPullRequestRef;
  provisioning?: KedaProvisioning;
  /**
   * The workload's ExternalId (the scaler role's trust and the
   * TriggerAuthentication): one per workload, kept by every later request.
   */
  externalId?: string;
  /** the request this one took over from (same workload) */
  supersedes?: string;
  /** the newer request that took over from this one */
  supersededBy?: string;
  createdAt: string;
  updatedAt: string;
  /** oldest first */
  decisions: KedaDecision[];
  /**
   * What the caller may do with the request now, worked out by the backend
   * with the same checks its decision routes make (permissions, state,
   * `keda.approvals.allowSelfApproval`). Present on the answers of
   * `GET /requests`, `GET /requests/:id` and the decision routes.
   */
  allowedActions?: KedaRequestAction[];
}

/**
 * A decision route of the request API (`POST /requests/:id/<action>`).
 * @public
 */
export type KedaRequestAction =
  | 'approve'
  | 'reject'
  | 'withdraw'
  | 'retry'
  | 'decommission';

/** Every {@link KedaRequestAction}. @public */
export const KEDA_REQUEST_ACTIONS: readonly KedaRequestAction[] = [
  'approve',
  'reject',
  'withdraw',
  'retry',
  'decommission',
];

/**
 * Signals channel on which the keda backend announces that a request
 * changed (created, decided, provisioning started or ended, superseded,
 * withdrawn). The message names the request only; pages refetch it with
 * their own permissions.
 * @public
 */
export const KEDA_REQUESTS_SIGNAL_CHANNEL = 'keda:requests';

/** Message on {@link KEDA_REQUESTS_SIGNAL_CHANNEL}. @public */
export type KedaRequestSignal = { requestId: string };

/**
 * Signals channel on which the keda backend announces that the KEDA status
 * of an entity changed; the message carries nothing else, the card refetches.
 * @public
 */
export function kedaStatusSignalChannel(entityRef: string): string {
  return `keda:status:${entityRef}`;
}

/**
 * Identity of the workload a request scales: one scaler role, one ExternalId
 * and one active request per identity. `<cluster>/<namespace>/<kind>/<name>`.
 * @public
 */
export function kedaWorkloadKey(request: {
  cluster: string;
  namespace: string;
  workload: { kind: string; name: string };
}): string {
  return [
    request.cluster,
    request.namespace,
    request.workload.kind,
    request.workload.name,
  ].join('/');
}

/**
 * Answer of `POST /requests/preflight`: what recording this request would
 * do, checked before any side effect (ownership, the workload's active
 * request, guardrails). Nothing is written.
 * @public
 */
export interface KedaRequestPreflight {
  /** the ExternalId to plan with: the workload's own when it has one */
  externalId?: string;
  autoApproved: boolean;
  approvalReasons: string[];
  /** owner of the entity, from the catalog */
  owner?: string;
  /** the workload's current request, which this one would supersede */
  supersedes?: { id: string; state: KedaRequestState };
}

/** Body of `POST /requests/preflight`. @public */
export interface KedaRequestPreflightBody {
  request: KedaRequestInput;
  /** the ExternalId the run would plan with; must be the workload's */
  externalId?: string;
  /**
   * The scaffolder task running the template: the request it recorded
   * itself (a retried task) does not count as in flight.
   */
  taskId?: string;
}

/** Body of `POST /requests`. @public */
export interface CreateKedaRequestBody {
  request: KedaRequestInput;
  /** the ExternalId the template run planned with (and wrote into the PR) */
  externalId?: string;
  pullRequest?: KedaPullRequestRef;
  /** scaffolder task that recorded the request; a re-run with it is idempotent */
  taskId?: string;
  /** any other idempotency key of the caller */
  idempotencyKey?: string;
}

/** Body of `POST /requests/:id/progress`. @public */
export interface KedaRequestProgressBody {
  state: 'provisioning' | 'provisioned' | 'failed';
  taskId?: string;
  roleArns?: KedaProvisionedRoles;
  error?: string;
  /** the role chain's verification by the run (`keda:aws:scaler-role:ensure`) */
  verification?: KedaVerification;
}

/** Body of approve / reject / withdraw / decommission. @public */
export interface KedaDecisionBody {
  comment?: string;
}

/** Query of `GET /requests`. @public */
export interface KedaRequestListFilter {
  state?: KedaRequestState | KedaRequestState[];
  entityRef?: string;
  cluster?: string;
  requester?: string;
  /** owner of the entity (as the catalog said when the request was made), e.g. group:default/team-orders */
  team?: string;
}

/** Response of `GET /requests`. @public */
export interface KedaRequestList {
  items: KedaRequestRecord[];
}

/** Path of a request on the portal's KEDA requests page. @public */
export function kedaRequestPagePath(id: string): string {
  return `/keda/requests/${encodeURIComponent(id)}`;
}

/** Path of a scaffolder task's log page. @public */
export function scaffolderTaskPagePath(taskId: string): string {
  return `/create/tasks/${encodeURIComponent(taskId)}`;
}
