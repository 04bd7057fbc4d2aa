import type {
  KedaDecisionKind,
  KedaRequestAction,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';

/** Colour family of a request state; the word always goes with it. */
export type RequestTone = 'ok' | 'progressing' | 'waiting' | 'error' | 'closed';

/** How a request state reads on the page. */
export interface RequestStateView {
  label: string;
  tone: RequestTone;
  /** one sentence: what happens next, or why nothing does */
  description: string;
}

/** Every state the backend knows, in words. */
export const REQUEST_STATE_VIEWS: Readonly<
  Record<KedaRequestState, RequestStateView>
> = {
  pending: {
    label: 'Pending approval',
    tone: 'waiting',
    description: 'Waiting for a platform engineer to approve or reject it.',
  },
  approved: {
    label: 'Approved',
    tone: 'progressing',
    description: 'Approved; the provisioning task is starting.',
  },
  provisioning: {
    label: 'Provisioning',
    tone: 'progressing',
    description: 'The provisioning task is creating the IAM roles.',
  },
  provisioned: {
    label: 'Provisioned',
    tone: 'ok',
    description:
      'The IAM roles exist; the ScaledObject applies once the pull request is merged.',
  },
  failed: {
    label: 'Failed',
    tone: 'error',
    description:
      'Provisioning failed; an approver can retry once the cause is fixed.',
  },
  rejected: {
    label: 'Rejected',
    tone: 'closed',
    description: 'An approver rejected it; see the decision log for why.',
  },
  withdrawn: {
    label: 'Withdrawn',
    tone: 'closed',
    description: 'The requester withdrew it.',
  },
  decommissioned: {
    label: 'Decommissioned',
    tone: 'closed',
    description: 'The scaling was removed again.',
  },
  superseded: {
    label: 'Superseded',
    tone: 'closed',
    description:
      'A newer request for the same workload took over; see the link to it.',
  },
};

/** The view of a state, tolerating states a newer backend may add. */
export function requestStateView(state: string): RequestStateView {
  return (
    REQUEST_STATE_VIEWS[state as KedaRequestState] ?? {
      label: state.replace(/[-_]+/g, ' '),
      tone: 'closed',
      description: `State "${state}" is unknown to this version of the page.`,
    }
  );
}

const DECISION_LABELS: Record<KedaDecisionKind, string> = {
  created: 'Requested',
  'auto-approved': 'Auto-approved',
  approved: 'Approved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  provisioning: 'Provisioning started',
  provisioned: 'Provisioned',
  failed: 'Provisioning failed',
  retried: 'Retried',
  decommissioned: 'Decommissioned',
  superseded: 'Superseded',
};

/** A decision log entry's kind in words. */
export function decisionLabel(decision: string): string {
  return DECISION_LABELS[decision as KedaDecisionKind] ?? decision;
}

/** What the signed-in user may do with a request right now. */
export interface RequestActions {
  approve: boolean;
  reject: boolean;
  withdraw: boolean;
  retry: boolean;
}

/**
 * The controls to offer: exactly the decisions the backend says this user
 * may take on the request now (`allowedActions`, worked out with the same
 * permission checks, state rules and `keda.approvals.allowSelfApproval`
 * setting as its decision routes), so nobody is shown a button that can
 * only fail. A record without `allowedActions` (an older backend) offers
 * none.
 */
export function availableActions(
  record: Pick<KedaRequestRecord, 'allowedActions'>,
): RequestActions {
  const allowed = new Set<KedaRequestAction>(record.allowedActions ?? []);
  return {
    approve: allowed.has('approve'),
    reject: allowed.has('reject'),
    withdraw: allowed.has('withdraw'),
    retry: allowed.has('retry'),
  };
}
