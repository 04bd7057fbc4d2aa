import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
  KEDA_REQUEST_ACTIONS,
  type KedaDecisionKind,
  type KedaRequestAction,
  type KedaRequestRecord,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import type { KedaConfig } from '@keda-self-service/plugin-keda-node';
import type { Request } from 'express';
import { z } from 'zod';
import type { KedaRequestServiceOptions } from './KedaRequestService';
import { subjectOf, type KedaRequestEffects } from './KedaRequestEffects';
import type { KedaRequestProvisioning } from './KedaRequestProvisioning';
import type { KedaRequestTransition } from './KedaRequestStore';
import { parseBody } from './requestBodies';
import {
  actorOf,
  deniedMessage,
  type Caller,
  type KedaRequestPermissions,
} from './requestCallers';

/** The approval settings the decision rules read. */
export type DecisionApprovals = Pick<
  KedaConfig['approvals'],
  'approverGroups' | 'allowSelfApproval'
>;

/** A notification a decision sends (best effort, see `notify`). */
interface DecisionNotice {
  recipients: { entityRef: string[]; excludeEntityRef?: string };
  title: string;
  description: string;
  severity?: 'normal' | 'high';
}

/** One decision route: who may take it, and what it does. */
export interface DecisionRule {
  /**
   * The states it moves a request from: the store's conditional update
   * checks them atomically, and the caller's `allowedActions` lists it only
   * in these.
   */
  from: readonly KedaRequestState[];
  /** the state it moves a request to */
  to: KedaRequestState;
  /** the decision-log entry */
  decision: KedaDecisionKind;
  /** its `{ comment }` body and the body's name in errors; none: not read */
  body?: { schema: z.ZodType<{ comment?: string }>; what: string };
  /** the audit event, and its meta besides `requestId` and `actor` */
  audit: { eventId: string; meta?: Record<string, string> };
  /**
   * Who may take it (the state aside): why not, or undefined when the
   * caller may. The route throws this answer; `allowedActions` lists the
   * actions it allows.
   */
  denial(
    record: KedaRequestRecord,
    caller: Caller,
    approvals: DecisionApprovals,
  ): string | undefined;
  /** the logged comment when it is not the body's */
  comment?(record: KedaRequestRecord): string | undefined;
  /** fields set with the state */
  set?: KedaRequestTransition['set'];
  /** the workload's current request gives way, in the same transaction */
  supersedes?: boolean;
  /** whom the decision is told, and what */
  notice?(
    changed: KedaRequestRecord,
    actor: string,
    comment: string | undefined,
  ): DecisionNotice;
  /** then starts the provisioning task as the deciding person */
  provisions?: boolean;
}

const optionalComment = z.object({ comment: z.string().max(4000).optional() });

/** Approving and rejecting: a person with `keda.request.approve`. */
function approverDenial(
  action: 'approve' | 'reject',
  { userRef, mayApprove }: Caller,
  approvals: DecisionApprovals,
): string | undefined {
  if (!userRef) {
    return `Only a person may ${action} a KEDA request; a service cannot`;
  }
  if (!mayApprove) {
    return deniedMessage(
      kedaRequestApprovePermission,
      `${action} KEDA requests`,
      approvals.approverGroups,
    );
  }
  return undefined;
}

/**
 * The decision routes, one rule each: who may, from which states, to which
 * state, and what follows (notification, provisioning, audit event). Every
 * change is announced on `keda:requests` (KedaRequestEffects.transition).
 */
export const DECISION_RULES: Readonly<Record<KedaRequestAction, DecisionRule>> =
  {
    /**
     * Approves a pending request and starts its provisioning task as the
     * approver. Of two concurrent approvals (or approve vs. withdraw)
     * exactly one applies; the other gets a ConflictError.
     */
    approve: {
      from: ['pending'],
      to: 'approved',
      decision: 'approved',
      body: { schema: optionalComment, what: 'approval' },
      audit: { eventId: 'request-approve' },
      denial: (record, caller, approvals) =>
        approverDenial('approve', caller, approvals) ??
        (caller.userRef === record.requester && !approvals.allowSelfApproval
          ? `You requested ${record.id} yourself; another approver has to approve it (or set keda.approvals.allowSelfApproval: true)`
          : undefined),
      // The workload's current request gives way to the approved one.
      supersedes: true,
      notice: (approved, approver, comment) => ({
        recipients: { entityRef: [approved.requester] },
        title: `KEDA request for ${subjectOf(approved)} approved`,
        description: `${approver} approved it${
          comment ? `: ${comment}` : ''
        }. Provisioning starts now.`,
      }),
      provisions: true,
    },
    reject: {
      from: ['pending'],
      to: 'rejected',
      decision: 'rejected',
      body: {
        schema: z.object({
          comment: z
            .string({ message: 'comment is required: tell the requester why' })
            .trim()
            .min(1, 'comment is required: tell the requester why')
            .max(4000),
        }),
        what: 'rejection',
      },
      audit: { eventId: 'request-reject' },
      denial: (_record, caller, approvals) =>
        approverDenial('reject', caller, approvals),
      notice: (rejected, actor, comment) => ({
        recipients: { entityRef: [rejected.requester] },
        title: `KEDA request for ${subjectOf(rejected)} rejected`,
        description: `${actor}: ${comment}`,
        severity: 'high',
      }),
    },
    withdraw: {
      from: ['pending'],
      to: 'withdrawn',
      decision: 'withdrawn',
      body: { schema: optionalComment, what: 'withdrawal' },
      audit: { eventId: 'request-withdraw' },
      denial: (record, { userRef }) =>
        userRef === record.requester
          ? undefined
          : `Only the requester (${record.requester}) may withdraw KEDA request ${record.id}; approvers reject instead`,
    },
    /** Approves provisioning again after a failure, with a new task. */
    retry: {
      from: ['failed'],
      to: 'approved',
      decision: 'retried',
      audit: { eventId: 'request-provision', meta: { queryType: 'retry' } },
      denial: (_record, { userRef, mayProvision }, approvals) => {
        if (!userRef) return 'Only a person may retry provisioning';
        return mayProvision
          ? undefined
          : deniedMessage(
              kedaIamProvisionPermission,
              'retry provisioning of KEDA requests',
              approvals.approverGroups,
            );
      },
      comment: record =>
        record.provisioning?.error
          ? `after: ${record.provisioning.error}`
          : undefined,
      set: { taskId: null, error: null },
      provisions: true,
    },
    /**
     * Records that a provisioned (or failed) request was taken down: the
     * decommission template removed its manifests and scaler role. Allowed
     * to the requester and to whoever may provision IAM.
     */
    decommission: {
      from: ['provisioned', 'failed'],
      to: 'decommissioned',
      decision: 'decommissioned',
      body: { schema: optionalComment, what: 'decommission' },
      audit: { eventId: 'request-decommission' },
      denial: (record, { userRef, mayProvision }) =>
        userRef === record.requester || mayProvision
          ? undefined
          : `Only the requester (${record.requester}) or the platform team may decommission KEDA request ${record.id}`,
    },
  };

/** The actions `caller` may take on `record` now: its state and the rules. */
export function allowedActions(
  record: KedaRequestRecord,
  caller: Caller,
  approvals: DecisionApprovals,
): KedaRequestAction[] {
  return KEDA_REQUEST_ACTIONS.filter(action => {
    const rule = DECISION_RULES[action];
    return (
      rule.from.includes(record.state) &&
      !rule.denial(record, caller, approvals)
    );
  });
}

/**
 * The decision routes (approve, reject, withdraw, retry, decommission), one
 * path driven by DECISION_RULES: the body, the rule's answer, then in one
 * audit event the store's conditional update, the notification and, for an
 * approval, the provisioning task.
 */
export class KedaRequestDecisions {
  constructor(
    private readonly options: Pick<KedaRequestServiceOptions, 'keda'>,
    private readonly permissions: KedaRequestPermissions,
    private readonly effects: KedaRequestEffects,
    private readonly provisioning: KedaRequestProvisioning,
  ) {}

  /** The record as the caller sees it: with what they may do with it now. */
  withActions(record: KedaRequestRecord, caller: Caller): KedaRequestRecord {
    return {
      ...record,
      allowedActions: allowedActions(
        record,
        caller,
        this.options.keda.approvals,
      ),
    };
  }

  /** Throws the rule's answer; returns the acting person (or service). */
  private async requireAction(
    action: KedaRequestAction,
    record: KedaRequestRecord,
    credentials: BackstageCredentials,
  ): Promise<{ actor: string; caller: Caller }> {
    const caller = await this.permissions.callerOf(credentials);
    const denial = DECISION_RULES[action].denial(
      record,
      caller,
      this.options.keda.approvals,
    );
    if (denial) throw new NotAllowedError(denial);
    return { actor: actorOf(credentials), caller };
  }

  /** Takes `action` on request `id` as `credentials`, by its rule. */
  async decide(
    action: KedaRequestAction,
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const rule = DECISION_RULES[action];
    const comment = rule.body
      ? parseBody(rule.body.schema, body, rule.body.what).comment
      : undefined;
    const record = await this.effects.getOrThrow(id);
    const { actor, caller } = await this.requireAction(
      action,
      record,
      credentials,
    );
    return this.effects.audit(
      rule.audit.eventId,
      { requestId: id, actor, ...rule.audit.meta },
      httpRequest,
      async () => {
        const changed = await this.effects.transition({
          id,
          from: rule.from,
          to: rule.to,
          decision: {
            actor,
            decision: rule.decision,
            comment: rule.comment ? rule.comment(record) : comment,
          },
          ...(rule.set ? { set: { ...rule.set } } : {}),
          ...(rule.supersedes && record.supersedes
            ? { supersede: { id: record.supersedes, actor } }
            : {}),
        });
        const notice = rule.notice?.(changed, actor, comment);
        if (notice) {
          await this.effects.notify(
            notice.recipients,
            changed,
            notice.title,
            notice.description,
            notice.severity,
          );
        }
        return this.withActions(
          rule.provisions
            ? await this.provisioning.start(changed, credentials, actor)
            : changed,
          caller,
        );
      },
    );
  }
}
