import type {
  AuditorService,
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  parseEntityRef,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import {
  ConflictError,
  InputError,
  isError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { BasicPermission } from '@backstage/plugin-permission-common';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  kedaIamProvisionPermission,
  kedaRequestApprovePermission,
  kedaRequestCreatePermission,
  kedaRequestPagePath,
  kedaRequestReadPermission,
  kedaWorkloadKey,
  KEDA_CURRENT_STATES,
  KEDA_IN_FLIGHT_STATES,
  KEDA_REQUEST_ACTIONS,
  KEDA_REQUESTS_SIGNAL_CHANNEL,
  parseKedaRequest,
  plan,
  pullRequestUrlProblem,
  type KedaPlan,
  type KedaPlanPreview,
  type KedaRequest,
  type KedaRequestAction,
  type KedaRequestPreflight,
  type KedaRequestSignal,
  type KedaProvisionedRoles,
  type KedaRequestListFilter,
  type KedaRequestRecord,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import {
  KedaGuardrailError,
  type KedaClusterService,
  type KedaConfig,
} from '@keda-self-service/plugin-keda-node';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type {
  KedaRequestStore,
  KedaRequestTransition,
  NewDecision,
} from './KedaRequestStore';
import type {
  ProvisioningLauncher,
  ProvisioningTaskReader,
} from './ScaffolderProvisioning';

/** The groups and users a signed-in user stands for (`coreServices.userInfo`). */
export interface RequestUserInfo {
  getUserInfo(
    credentials: BackstageCredentials,
  ): Promise<{ userEntityRef: string; ownershipEntityRefs: string[] }>;
}

/** Looks up the entity a request is for, as the caller sees it. */
export interface RequestEntityLookup {
  getEntityByRef(
    entityRef: string,
    options: { credentials: BackstageCredentials },
  ): Promise<Entity | undefined>;
}

export interface KedaRequestServiceOptions {
  store: KedaRequestStore;
  keda: Pick<KedaConfig, 'clusters' | 'roles' | 'guardrails' | 'approvals'>;
  permissions: PermissionsService;
  catalog: RequestEntityLookup;
  /**
   * Who the requester stands for, for the ownership rule
   * (`keda.guardrails.requireOwnership`, default on): a request is made by a
   * member of the entity's owner or by an approver.
   */
  userInfo: RequestUserInfo;
  launcher: ProvisioningLauncher;
  taskReader?: ProvisioningTaskReader;
  notifications?: Pick<NotificationService, 'send'>;
  /**
   * Announces every change of a request on `keda:requests` (the id only),
   * so open pages refetch. Optional: without it pages poll.
   */
  signals?: Pick<SignalsService, 'publish'>;
  auditor: AuditorService;
  /**
   * keda-node's cluster service (the one the scaffolder actions use): the
   * cluster lookup and a missing OIDC issuer read with eks:DescribeCluster,
   * so the backend and keda:plan plan the same trust policies.
   */
  clusters: KedaClusterService;
  logger: LoggerService;
  newId?: () => string;
  /** clock for the stuck-approval check; default Date.now */
  now?: () => number;
}

/**
 * An approval whose task was never linked after this long is taken as lost
 * (the backend stopped between the decision and starting the task).
 */
export const APPROVED_WITHOUT_TASK_TIMEOUT_MS = 5 * 60_000;

/**
 * The pull request's web URL, which the request page links to: an http(s)
 * URL of a sane length (`pullRequestUrlProblem`), so a `javascript:` or
 * `data:` link never gets as far as the store.
 */
const pullRequestUrlSchema = z.string().superRefine((url, ctx) => {
  const problem = pullRequestUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const pullRequestSchema = z.object({
  url: pullRequestUrlSchema,
  number: z.number().int().positive('pullRequest.number must be positive'),
  repoUrl: z.string().min(1, 'pullRequest.repoUrl is required'),
});

const createBodySchema = z.object({
  request: z.unknown().refine(v => typeof v === 'object' && v !== null, {
    message: 'request is required: the KEDA request the template ran with',
  }),
  externalId: z.string().min(2).max(1224).optional(),
  pullRequest: pullRequestSchema.optional(),
  taskId: z.string().min(1).max(255).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  // A plan in the body is ignored on purpose: the backend recomputes it.
  plan: z.unknown().optional(),
});

const progressBodySchema = z.object({
  state: z.enum(['provisioning', 'provisioned', 'failed'], {
    message: "state must be one of 'provisioning', 'provisioned', 'failed'",
  }),
  taskId: z.string().min(1).max(255).optional(),
  roleArns: z
    .object({
      scaler: z.string().min(1),
      operator: z.string().min(1).optional(),
    })
    .optional(),
  error: z.string().max(8000).optional(),
  verification: z
    .object({
      ok: z.boolean(),
      checks: z
        .array(
          z.object({
            check: z.string().min(1).max(200),
            subject: z.string().max(2000),
            outcome: z.enum(['pass', 'fail', 'warning'], {
              message: "outcome must be one of 'pass', 'fail', 'warning'",
            }),
            detail: z.string().max(4000),
          }),
        )
        .max(
          50,
          'at most 50 checks: report the output of keda:aws:scaler-role:ensure as it is',
        ),
    })
    .refine(v => v.ok === v.checks.every(c => c.outcome !== 'fail'), {
      message: 'ok must be true exactly when no check has outcome fail',
      path: ['ok'],
    })
    .optional(),
});

function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    throw new InputError(
      `Invalid ${what}: ${result.error.issues
        .map(i => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

/**
 * A recording body's pull request URL alone, checked before anything else
 * (who asks, the rest of the body): a link the request page could not show
 * safely is refused whatever else is wrong, naming only the URL.
 */
function refuseUnsafePullRequestUrl(body: unknown) {
  const url = (body as { pullRequest?: { url?: unknown } } | null | undefined)
    ?.pullRequest?.url;
  if (typeof url !== 'string') return;
  parseBody(
    z.object({ pullRequest: z.object({ url: pullRequestUrlSchema }) }),
    { pullRequest: { url } },
    'KEDA request body',
  );
}

/** A person (user entity ref) or a service (`service:<subject>`). */
function actorOf(credentials: BackstageCredentials): string {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user' && p.userEntityRef) return p.userEntityRef;
  if (p.type === 'service' && p.subject) return `service:${p.subject}`;
  return p.type;
}

/** What `create` and `preflight` work out before anything is written. */
interface PreparedRequest {
  request: KedaRequest;
  id: string;
  requester: string;
  owner?: string;
  workloadKey: string;
  plan: KedaPlan;
  autoApproved: boolean;
  approvalReasons: string[];
  /** the workload's current request, which this one supersedes */
  current?: KedaRequestRecord;
}

/** Only a lost race is expected; anything else (a database outage) is not. */
function isConflict(e: unknown): boolean {
  return isError(e) && e.name === ConflictError.name;
}

/**
 * How often linking a started provisioning task is tried when the database
 * is unavailable (a dropped connection is replaced by the pool at once).
 */
const LINK_ATTEMPTS = 3;

function userRefOf(credentials: BackstageCredentials): string | undefined {
  const p = credentials.principal as { type: string; userEntityRef?: string };
  return p.type === 'user' ? p.userEntityRef : undefined;
}

// Report transitions the provisioning actions may make. `failed → approved`
// is not among them: a retry is an approver's decision (POST /retry).
const PROGRESS_FROM: Record<
  'provisioning' | 'provisioned' | 'failed',
  KedaRequestState[]
> = {
  provisioning: ['approved', 'provisioning'],
  provisioned: ['approved', 'provisioning'],
  failed: ['approved', 'provisioning'],
};

/**
 * The states each decision route moves a request from: the store's
 * conditional updates and the caller's `allowedActions` both use these.
 */
const ACTION_FROM: Record<KedaRequestAction, KedaRequestState[]> = {
  approve: ['pending'],
  reject: ['pending'],
  withdraw: ['pending'],
  retry: ['failed'],
  decommission: ['provisioned', 'failed'],
};

/** Who is asking, as far as the decision routes are concerned. */
interface Caller {
  /** the user entity ref; undefined for a service */
  userRef?: string;
  /** `keda.request.approve` */
  mayApprove: boolean;
  /** `keda.iam.provision` */
  mayProvision: boolean;
}

/**
 * The approval flow: records requests (recomputing the plan from the portal's
 * own config), lets approvers decide, starts provisioning under the
 * approver's identity and takes the provisioning actions' reports. Every
 * operation checks permissions itself, so the router stays thin.
 */
export class KedaRequestService {
  private readonly newId: () => string;

  constructor(private readonly options: KedaRequestServiceOptions) {
    this.newId = options.newId ?? randomUUID;
  }

  private async authorize(
    permission: BasicPermission,
    credentials: BackstageCredentials,
  ): Promise<boolean> {
    const [decision] = await this.options.permissions.authorize(
      [{ permission }],
      { credentials },
    );
    return decision.result === AuthorizeResult.ALLOW;
  }

  private deniedMessage(permission: BasicPermission, what: string): string {
    return `You may not ${what}: permission '${permission.name}' was denied. ${
      permission === kedaRequestApprovePermission ||
      permission === kedaIamProvisionPermission
        ? `Members of ${
            this.options.keda.approvals.approverGroups.join(', ') ||
            'the approver groups (keda.approvals.approverGroups)'
          } may`
        : 'Ask the platform team for access'
    }`;
  }

  private async require(
    permission: BasicPermission,
    credentials: BackstageCredentials,
    what: string,
  ) {
    if (!(await this.authorize(permission, credentials))) {
      throw new NotAllowedError(this.deniedMessage(permission, what));
    }
  }

  /** The caller's rights for the decision routes, in one permission call. */
  private async callerOf(credentials: BackstageCredentials): Promise<Caller> {
    const [approve, provision] = await this.options.permissions.authorize(
      [
        { permission: kedaRequestApprovePermission },
        { permission: kedaIamProvisionPermission },
      ],
      { credentials },
    );
    return {
      userRef: userRefOf(credentials),
      mayApprove: approve.result === AuthorizeResult.ALLOW,
      mayProvision: provision.result === AuthorizeResult.ALLOW,
    };
  }

  /**
   * The one rule of who may take which decision on a request (the state
   * aside: the store checks that atomically, see ACTION_FROM). Answers why
   * not, or undefined when allowed. The decision routes throw its answer;
   * `allowedActions` lists the actions it allows.
   */
  private denial(
    action: KedaRequestAction,
    record: KedaRequestRecord,
    caller: Caller,
  ): string | undefined {
    const { userRef, mayApprove, mayProvision } = caller;
    switch (action) {
      case 'approve':
      case 'reject':
        if (!userRef) {
          return `Only a person may ${action} a KEDA request; a service cannot`;
        }
        if (!mayApprove) {
          return this.deniedMessage(
            kedaRequestApprovePermission,
            `${action} KEDA requests`,
          );
        }
        if (
          action === 'approve' &&
          userRef === record.requester &&
          !this.options.keda.approvals.allowSelfApproval
        ) {
          return `You requested ${record.id} yourself; another approver has to approve it (or set keda.approvals.allowSelfApproval: true)`;
        }
        return undefined;
      case 'withdraw':
        return userRef === record.requester
          ? undefined
          : `Only the requester (${record.requester}) may withdraw KEDA request ${record.id}; approvers reject instead`;
      case 'retry':
        if (!userRef) return 'Only a person may retry provisioning';
        return mayProvision
          ? undefined
          : this.deniedMessage(
              kedaIamProvisionPermission,
              'retry provisioning of KEDA requests',
            );
      case 'decommission':
        return userRef === record.requester || mayProvision
          ? undefined
          : `Only the requester (${record.requester}) or the platform team may decommission KEDA request ${record.id}`;
      default:
        return `Unknown action '${action as string}'`;
    }
  }

  /** Throws the rule's answer; returns the acting person (or service). */
  private async requireAction(
    action: KedaRequestAction,
    record: KedaRequestRecord,
    credentials: BackstageCredentials,
  ): Promise<{ actor: string; caller: Caller }> {
    const caller = await this.callerOf(credentials);
    const denial = this.denial(action, record, caller);
    if (denial) throw new NotAllowedError(denial);
    return { actor: actorOf(credentials), caller };
  }

  /** The record as the caller sees it: with what they may do with it now. */
  private withActions(
    record: KedaRequestRecord,
    caller: Caller,
  ): KedaRequestRecord {
    return {
      ...record,
      allowedActions: KEDA_REQUEST_ACTIONS.filter(
        action =>
          ACTION_FROM[action].includes(record.state) &&
          !this.denial(action, record, caller),
      ),
    };
  }

  /**
   * Announces that requests changed. Only the ids go out, to everyone
   * signed in: a page refetches with its own permissions, so nothing of a
   * request reaches someone who may not read it. Best effort.
   */
  private async announce(...ids: Array<string | undefined>) {
    const { signals, logger } = this.options;
    if (!signals) return;
    for (const requestId of new Set(ids.filter((id): id is string => !!id))) {
      try {
        await signals.publish<KedaRequestSignal>({
          recipients: { type: 'broadcast' },
          channel: KEDA_REQUESTS_SIGNAL_CHANNEL,
          message: { requestId },
        });
      } catch (e) {
        logger.warn(
          `Could not signal the change of KEDA request ${requestId}: ${e}`,
        );
      }
    }
  }

  /**
   * Every state change goes through here: the store's conditional update,
   * then the signal (for the request and the one it superseded).
   */
  private async transition(
    change: KedaRequestTransition,
  ): Promise<KedaRequestRecord> {
    const record = await this.options.store.transition(change);
    await this.announce(record.id, change.supersede?.id);
    return record;
  }

  private async audit<T>(
    eventId: string,
    meta: Record<string, string | boolean | undefined>,
    request: Request | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const clean = Object.fromEntries(
      Object.entries(meta).filter(([, v]) => v !== undefined),
    ) as Record<string, string | boolean>;
    const event = await this.options.auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request,
      meta: clean,
    });
    try {
      const result = await fn();
      const record = result as unknown as Partial<KedaRequestRecord>;
      await event.success({
        meta: record?.state ? { state: record.state } : {},
      });
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }

  /** Notifications are best effort: a decision stands even if mail is down. */
  private async notify(
    recipients: { entityRef: string[]; excludeEntityRef?: string },
    record: KedaRequestRecord,
    title: string,
    description: string,
    severity: 'normal' | 'high' = 'normal',
  ) {
    const { notifications, logger } = this.options;
    if (!notifications || recipients.entityRef.length === 0) return;
    try {
      await notifications.send({
        recipients: { type: 'entity', ...recipients },
        payload: {
          title,
          description,
          link: kedaRequestPagePath(record.id),
          severity,
          topic: `keda-request:${record.id}`,
          scope: `keda-request:${record.id}`,
        },
      });
    } catch (e) {
      logger.warn(
        `Could not send the notification "${title}" for KEDA request ${record.id}: ${e}`,
      );
    }
  }

  private subject(record: KedaRequestRecord) {
    return `${record.entityRef} on ${record.cluster}`;
  }

  private async getOrThrow(id: string): Promise<KedaRequestRecord> {
    const record = await this.options.store.get(id);
    if (!record) throw new NotFoundError(`KEDA request '${id}' does not exist`);
    return record;
  }

  // ---- create ------------------------------------------------------------

  private requireCreate(credentials: BackstageCredentials) {
    return this.require(
      kedaRequestCreatePermission,
      credentials,
      'request KEDA autoscaling',
    );
  }

  private requesterOf(credentials: BackstageCredentials): string {
    const requester = userRefOf(credentials);
    if (!requester) {
      throw new NotAllowedError(
        "A KEDA request is recorded on behalf of the user who ran the template; call with the initiator's credentials (ctx.getInitiatorCredentials())",
      );
    }
    return requester;
  }

  /**
   * The entity's owner must be among the groups (or the user) the requester
   * stands for, unless the requester is an approver. Checked before anything
   * is created anywhere: `keda:plan` asks `preflight` first.
   */
  private async requireOwnership(
    request: KedaRequest,
    owner: string | undefined,
    requester: string,
    credentials: BackstageCredentials,
  ) {
    if (this.options.keda.guardrails.requireOwnership === false) return;
    const { ownershipEntityRefs } = await this.options.userInfo.getUserInfo(
      credentials,
    );
    if (owner && ownershipEntityRefs.includes(owner)) return;
    if (await this.authorize(kedaRequestApprovePermission, credentials)) return;
    throw new NotAllowedError(
      `${requester} may not request autoscaling for ${
        request.entityRef
      }: it is owned by ${
        owner ?? '(no owner in the catalog)'
      }, and only members of the owner (or the approver groups ${
        this.options.keda.approvals.approverGroups.join(', ') || '(none)'
      }) may. Ask ${owner ?? 'the platform team'} to run the template`,
    );
  }

  /**
   * Everything recording a request decides, without writing: the caller's
   * right to ask, the plan recomputed from this backend's config, the
   * workload's active request and ExternalId, and whether approval is needed.
   */
  private async prepare(
    rawRequest: unknown,
    externalId: string | undefined,
    credentials: BackstageCredentials,
    taskId?: string,
    /** the plan preview lists violations instead of refusing */
    options: { allowViolations?: boolean } = {},
  ): Promise<PreparedRequest> {
    const requester = this.requesterOf(credentials);
    const request = parseKedaRequest(rawRequest);
    const { keda } = this.options;
    // An unknown cluster is refused before anything else is read.
    this.options.clusters.cluster(request.cluster, {
      field: 'request.cluster',
    });
    const entity = await this.options.catalog.getEntityByRef(
      request.entityRef,
      { credentials },
    );
    if (!entity) {
      throw new InputError(
        `request.entityRef: '${request.entityRef}' was not found in the catalog or you may not read it`,
      );
    }
    const owner =
      typeof entity.spec?.owner === 'string'
        ? stringifyEntityRef(
            parseEntityRef(entity.spec.owner, {
              defaultKind: 'group',
              defaultNamespace: entity.metadata.namespace ?? 'default',
            }),
          )
        : undefined;
    await this.requireOwnership(request, owner, requester, credentials);

    const workloadKey = kedaWorkloadKey(request);
    // A retried task meets the request it recorded itself: not a conflict.
    const own = taskId
      ? await this.options.store.findRecorded({ createdByTaskId: taskId })
      : undefined;
    const active = (await this.options.store.activeFor(workloadKey)).filter(
      r => r.id !== own?.id,
    );
    const inFlight = active.find(r => KEDA_IN_FLIGHT_STATES.includes(r.state));
    if (inFlight) {
      throw new ConflictError(
        `${request.entityRef} (${workloadKey}) already has request ${inFlight.id} in flight (${inFlight.state}, by ${inFlight.requester}); withdraw it or wait until it is decided and provisioned, then run the template again`,
      );
    }
    const current = active.find(r => KEDA_CURRENT_STATES.includes(r.state));
    // One ExternalId per workload: the TriggerAuthentication already merged
    // keeps working while the new pull request waits.
    const workloadExternalId =
      own?.externalId ??
      current?.externalId ??
      current?.plan.scalerRole.externalId;
    if (workloadExternalId && externalId && externalId !== workloadExternalId) {
      throw new ConflictError(
        `externalId: the run planned with another ExternalId than ${workloadKey} has (request ${
          current!.id
        }); run the template again so that keda:plan uses the workload's ExternalId`,
      );
    }

    const id = request.requestId ?? this.newId();
    // Never trust a plan from the client: recompute it from the request
    // and this backend's configuration.
    const kedaPlan = plan({
      request: { ...request, requestId: id },
      cluster: (
        await this.options.clusters.resolve(request.cluster, {
          field: 'request.cluster',
        })
      ).spec,
      roles: keda.roles,
      guardrails: keda.guardrails,
      externalId: workloadExternalId ?? externalId,
      requester,
    });
    const { violations, reasons } = kedaPlan.guardrails;
    if (violations.length > 0 && !options.allowViolations) {
      throw new KedaGuardrailError(violations, { fieldPrefix: 'request.' });
    }
    const approvalReasons = reasons.map(r => r.message);
    // An approved request is never changed by an auto-approved run.
    if (current && !current.autoApproved) {
      const approver = [...current.decisions]
        .reverse()
        .find(d => d.decision === 'approved')?.actor;
      approvalReasons.push(
        `It changes request ${current.id}, which ${
          approver ?? 'an approver'
        } approved: a change to an approved request needs approval again`,
      );
    }
    return {
      request,
      id,
      requester,
      owner,
      workloadKey,
      plan: kedaPlan,
      autoApproved: approvalReasons.length === 0,
      approvalReasons,
      current,
    };
  }

  /**
   * What recording this request would do (`POST /requests/preflight`),
   * checked before the template run creates anything: ownership, the
   * workload's active request and ExternalId, guardrails. Writes nothing.
   */
  async preflight(
    body: unknown,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestPreflight> {
    this.requesterOf(credentials);
    await this.requireCreate(credentials);
    const input = parseBody(
      z.object({
        request: createBodySchema.shape.request,
        externalId: createBodySchema.shape.externalId,
        taskId: createBodySchema.shape.taskId,
      }),
      body,
      'KEDA request preflight body',
    );
    const prepared = await this.prepare(
      input.request,
      input.externalId,
      credentials,
      input.taskId,
    );
    return {
      ...(prepared.plan.scalerRole.externalId
        ? { externalId: prepared.plan.scalerRole.externalId }
        : {}),
      autoApproved: prepared.autoApproved,
      approvalReasons: prepared.approvalReasons,
      ...(prepared.owner ? { owner: prepared.owner } : {}),
      ...(prepared.current
        ? {
            supersedes: {
              id: prepared.current.id,
              state: prepared.current.state,
            },
          }
        : {}),
    };
  }

  // ---- plan preview (POST /plan) ------------------------------------------

  /**
   * What running the template with this request would plan
   * (`POST /plan`, the template form's live preview): the same checks as
   * `preflight` (permission, ownership, a request in flight) and the same
   * plan, but guardrail violations are listed rather than refused. Writes
   * nothing and answers no ExternalId.
   */
  async planPreview(
    body: unknown,
    credentials: BackstageCredentials,
  ): Promise<KedaPlanPreview> {
    this.requesterOf(credentials);
    await this.requireCreate(credentials);
    const input = parseBody(
      z.object({ request: createBodySchema.shape.request }),
      body,
      'KEDA plan preview body',
    );
    const prepared = await this.prepare(
      input.request,
      undefined,
      credentials,
      undefined,
      { allowViolations: true },
    );
    const { plan: kedaPlan } = prepared;
    const { violations, warnings } = kedaPlan.guardrails;
    const { requestId: _planned, ...request } = kedaPlan.request;
    const finding = (f: { code: string; field?: string; message: string }) => ({
      code: f.code,
      ...(f.field ? { field: f.field } : {}),
      message: f.message,
    });
    return {
      request: (prepared.request.requestId
        ? kedaPlan.request
        : request) as KedaRequest,
      cluster: {
        name: kedaPlan.cluster.name,
        accountId: kedaPlan.cluster.accountId,
        region: kedaPlan.cluster.region,
      },
      queue: {
        url: kedaPlan.queue.url,
        arn: kedaPlan.queue.arn,
        name: kedaPlan.queue.queueName,
        accountId: kedaPlan.queue.accountId,
        region: kedaPlan.queue.region,
      },
      crossAccount: kedaPlan.queue.accountId !== kedaPlan.cluster.accountId,
      scalerRole: {
        name: kedaPlan.scalerRole.name,
        arn: kedaPlan.scalerRole.arn,
        externalIdRequired: Boolean(kedaPlan.scalerRole.externalId),
      },
      operatorRole: {
        name: kedaPlan.operatorRole.name,
        arn: kedaPlan.operatorRole.arn,
      },
      manifestDirectory: kedaPlan.manifestDirectory,
      violations: violations.map(finding),
      autoApproved: violations.length === 0 && prepared.autoApproved,
      approvalReasons: prepared.approvalReasons,
      warnings: warnings.map(finding),
      ...(prepared.owner ? { owner: prepared.owner } : {}),
      ...(prepared.current
        ? {
            supersedes: {
              id: prepared.current.id,
              state: prepared.current.state,
            },
          }
        : {}),
    };
  }

  /**
   * Records a request for the caller (who must be a user: the template run's
   * initiator). Returns `created: false` for an idempotent re-run.
   */
  async create(
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<{ record: KedaRequestRecord; created: boolean }> {
    refuseUnsafePullRequestUrl(body);
    const requester = this.requesterOf(credentials);
    await this.requireCreate(credentials);
    const input = parseBody(createBodySchema, body, 'KEDA request body');
    const request = parseKedaRequest(input.request);

    return this.audit(
      'request-create',
      { entityRef: request.entityRef, cluster: request.cluster, requester },
      httpRequest,
      async () => {
        // A re-run of the recording step answers with what it recorded.
        const again = await this.options.store.findRecorded({
          createdByTaskId: input.taskId,
          idempotencyKey: input.idempotencyKey,
        });
        if (again) {
          if (again.requester !== requester) {
            throw new NotAllowedError(
              `Task or idempotency key already recorded request ${again.id} for ${again.requester}; use your own key`,
            );
          }
          return { record: again, created: false };
        }
        const prepared = await this.prepare(
          input.request,
          input.externalId,
          credentials,
        );
        const { autoApproved, plan: kedaPlan, current } = prepared;
        const decisions: NewDecision[] = [
          { actor: requester, decision: 'created' },
        ];
        if (autoApproved) {
          decisions.push({
            actor: 'policy',
            decision: 'auto-approved',
            comment:
              "Inside the auto-approve guardrails (keda.guardrails.autoApprove); the requester's own run provisions",
          });
        }
        const result = await this.options.store.insert(
          {
            id: prepared.id,
            entityRef: request.entityRef,
            requester,
            owner: prepared.owner,
            cluster: request.cluster,
            queueUrl: kedaPlan.queue.url,
            state: autoApproved ? 'provisioning' : 'pending',
            autoApproved,
            approvalReasons: prepared.approvalReasons,
            plan: kedaPlan,
            pullRequest: input.pullRequest,
            taskId: autoApproved ? input.taskId : undefined,
            createdByTaskId: input.taskId,
            idempotencyKey: input.idempotencyKey,
            workloadKey: prepared.workloadKey,
            externalId: kedaPlan.scalerRole.externalId,
            ...(current
              ? { supersedes: { id: current.id, from: [current.state] } }
              : {}),
          },
          decisions,
        );
        if (!result.created && result.record.requester !== requester) {
          throw new NotAllowedError(
            `Task or idempotency key already recorded request ${result.record.id} for ${result.record.requester}; use your own key`,
          );
        }
        if (result.created) {
          // An auto-approved request supersedes the current one at once.
          await this.announce(
            result.record.id,
            autoApproved ? result.record.supersedes : undefined,
          );
        }
        if (result.created && !autoApproved) {
          await this.notify(
            {
              entityRef: this.options.keda.approvals.approverGroups,
              excludeEntityRef: requester,
            },
            result.record,
            `KEDA request for ${this.subject(result.record)} awaits approval`,
            `${requester} asks for queue-driven autoscaling: ${result.record.approvalReasons.join(
              ' ',
            )}`,
          );
        }
        return result;
      },
    );
  }

  // ---- read --------------------------------------------------------------

  /** Requests matching the filter, each with the caller's `allowedActions`. */
  async list(
    filter: KedaRequestListFilter,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord[]> {
    await this.require(
      kedaRequestReadPermission,
      credentials,
      'read KEDA requests',
    );
    const caller = await this.callerOf(credentials);
    return (await this.options.store.list(filter)).map(r =>
      this.withActions(r, caller),
    );
  }

  /** One request with the caller's `allowedActions`. */
  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    await this.require(
      kedaRequestReadPermission,
      credentials,
      'read KEDA requests',
    );
    const record = await this.getOrThrow(id);
    return this.withActions(record, await this.callerOf(credentials));
  }

  // ---- decisions -----------------------------------------------------------

  /**
   * Approves a pending request and starts its provisioning task as the
   * approver. Of two concurrent approvals (or approve vs. withdraw) exactly
   * one applies; the other gets a ConflictError.
   */
  async approve(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const { comment } = parseBody(
      z.object({ comment: z.string().max(4000).optional() }),
      body,
      'approval',
    );
    const record = await this.getOrThrow(id);
    const { actor: approver, caller } = await this.requireAction(
      'approve',
      record,
      credentials,
    );
    return this.audit(
      'request-approve',
      { requestId: id, actor: approver },
      httpRequest,
      async () => {
        const approved = await this.transition({
          id,
          from: ACTION_FROM.approve,
          to: 'approved',
          decision: { actor: approver, decision: 'approved', comment },
          // The workload's current request gives way to the approved one.
          ...(record.supersedes
            ? { supersede: { id: record.supersedes, actor: approver } }
            : {}),
        });
        await this.notify(
          { entityRef: [approved.requester] },
          approved,
          `KEDA request for ${this.subject(approved)} approved`,
          `${approver} approved it${
            comment ? `: ${comment}` : ''
          }. Provisioning starts now.`,
        );
        return this.withActions(
          await this.startProvisioning(approved, credentials, approver),
          caller,
        );
      },
    );
  }

  async reject(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const { comment } = parseBody(
      z.object({
        comment: z
          .string({ message: 'comment is required: tell the requester why' })
          .trim()
          .min(1, 'comment is required: tell the requester why')
          .max(4000),
      }),
      body,
      'rejection',
    );
    const record = await this.getOrThrow(id);
    const { actor, caller } = await this.requireAction(
      'reject',
      record,
      credentials,
    );
    return this.audit(
      'request-reject',
      { requestId: id, actor },
      httpRequest,
      async () => {
        const rejected = await this.transition({
          id,
          from: ACTION_FROM.reject,
          to: 'rejected',
          decision: { actor, decision: 'rejected', comment },
        });
        await this.notify(
          { entityRef: [rejected.requester] },
          rejected,
          `KEDA request for ${this.subject(rejected)} rejected`,
          `${actor}: ${comment}`,
          'high',
        );
        return this.withActions(rejected, caller);
      },
    );
  }

  async withdraw(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const { comment } = parseBody(
      z.object({ comment: z.string().max(4000).optional() }),
      body,
      'withdrawal',
    );
    const record = await this.getOrThrow(id);
    const { actor, caller } = await this.requireAction(
      'withdraw',
      record,
      credentials,
    );
    return this.audit(
      'request-withdraw',
      { requestId: id, actor },
      httpRequest,
      async () =>
        this.withActions(
          await this.transition({
            id,
            from: ACTION_FROM.withdraw,
            to: 'withdrawn',
            decision: { actor, decision: 'withdrawn', comment },
          }),
          caller,
        ),
    );
  }

  /** Approves provisioning again after a failure, with a new task. */
  async retry(
    id: string,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const record = await this.getOrThrow(id);
    const { actor, caller } = await this.requireAction(
      'retry',
      record,
      credentials,
    );
    return this.audit(
      'request-provision',
      { requestId: id, actor, queryType: 'retry' },
      httpRequest,
      async () => {
        const again = await this.transition({
          id,
          from: ACTION_FROM.retry,
          to: 'approved',
          decision: {
            actor,
            decision: 'retried',
            comment: record.provisioning?.error
              ? `after: ${record.provisioning.error}`
              : undefined,
          },
          set: { taskId: null, error: null },
        });
        return this.withActions(
          await this.startProvisioning(again, credentials, actor),
          caller,
        );
      },
    );
  }

  /**
   * Starts the provisioning template as `credentials` (the approver) and
   * links the task. A failure to start is recorded on the request, which can
   * then be retried.
   */
  private async startProvisioning(
    record: KedaRequestRecord,
    credentials: BackstageCredentials,
    actor: string,
  ): Promise<KedaRequestRecord> {
    let taskId: string;
    try {
      ({ taskId } = await this.options.launcher.start({
        requestId: record.id,
        onBehalfOf: credentials,
      }));
    } catch (e) {
      const error = `Could not start the provisioning task: ${
        (e as Error).message
      }`;
      this.options.logger.warn(`KEDA request ${record.id}: ${error}`);
      const failed = await this.transition({
        id: record.id,
        from: ['approved'],
        to: 'failed',
        decision: { actor: 'policy', decision: 'failed', comment: error },
        set: { error },
      });
      await this.notifyOutcome(failed);
      return failed;
    }
    // The task exists now: linking it must not be given up on a dropped
    // database connection, or the approval would stand without its task
    // (until the task reports). The link is a conditional update, so trying
    // again is safe; a link that did apply meets a conflict below.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transition({
          id: record.id,
          from: ['approved'],
          to: 'provisioning',
          decision: {
            actor,
            decision: 'provisioning',
            comment: `scaffolder task ${taskId}`,
          },
          set: { taskId },
        });
      } catch (e) {
        if (ServiceUnavailableError.is(e)) {
          if (attempt < LINK_ATTEMPTS) {
            this.options.logger.warn(
              `KEDA request ${record.id}: linking task ${taskId} failed (attempt ${attempt}), trying again: ${e.message}`,
            );
            await new Promise(r => setTimeout(r, 100 * attempt));
            continue;
          }
          throw new ServiceUnavailableError(
            `KEDA request ${record.id} is approved and its provisioning task ${taskId} started, but the database became unavailable before the task could be linked; the task links itself when it reports. Reload the request in a moment. ${e.message}`,
          );
        }
        if (!isConflict(e)) throw e;
        // The task reported before we linked it (it is fast, or we are slow),
        // or an earlier attempt did link it: keep what is recorded.
        this.options.logger.info(
          `KEDA request ${record.id}: task ${taskId} reported before it was linked: ${e}`,
        );
        return this.getOrThrow(record.id);
      }
    }
  }

  private async notifyOutcome(record: KedaRequestRecord) {
    if (record.state === 'provisioned') {
      await this.notify(
        { entityRef: [record.requester] },
        record,
        `KEDA request for ${this.subject(record)} provisioned`,
        `The scaler role ${record.provisioning?.roleArns?.scaler} exists; the pull request is ready for review and takes effect once merged.`,
      );
    } else if (record.state === 'failed') {
      await this.notify(
        {
          entityRef: [
            record.requester,
            ...this.options.keda.approvals.approverGroups,
          ],
        },
        record,
        `Provisioning of the KEDA request for ${this.subject(record)} failed`,
        `${
          record.provisioning?.error ?? 'unknown error'
        }. An approver can retry it.`,
        'high',
      );
    }
  }

  /**
   * Records that a provisioned (or failed) request was taken down: the
   * decommission template removed its manifests and scaler role. Allowed to
   * the requester and to whoever may provision IAM.
   */
  async decommission(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const { comment } = parseBody(
      z.object({ comment: z.string().max(4000).optional() }),
      body,
      'decommission',
    );
    const record = await this.getOrThrow(id);
    const { actor, caller } = await this.requireAction(
      'decommission',
      record,
      credentials,
    );
    return this.audit(
      'request-decommission',
      { requestId: id, actor },
      httpRequest,
      async () =>
        this.withActions(
          await this.transition({
            id,
            from: ACTION_FROM.decommission,
            to: 'decommissioned',
            decision: { actor, decision: 'decommissioned', comment },
          }),
          caller,
        ),
    );
  }

  // ---- provisioning reports ------------------------------------------------

  /**
   * A provisioning action reports. Allowed to approvers (the approver's
   * task) and to the requester of an auto-approved request (their own run).
   */
  async progress(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    const report = parseBody(progressBodySchema, body, 'progress report');
    const record = await this.getOrThrow(id);
    const actor = actorOf(credentials);
    const mayProvision =
      (await this.authorize(kedaIamProvisionPermission, credentials)) ||
      (record.autoApproved && userRefOf(credentials) === record.requester);
    if (!mayProvision) {
      throw new NotAllowedError(
        `You may not report provisioning of KEDA request ${id}: permission '${kedaIamProvisionPermission.name}' was denied and it is not your auto-approved request`,
      );
    }
    let roleArns: KedaProvisionedRoles | undefined;
    if (report.state === 'provisioned') {
      // The ARNs are deterministic; a report naming other roles means the
      // action planned with a different configuration than this backend.
      const planned = record.plan.scalerRole.arn;
      if (report.roleArns && report.roleArns.scaler !== planned) {
        throw new InputError(
          `roleArns.scaler: reported ${report.roleArns.scaler} but the request's plan is ${planned}; the provisioning action and the keda backend must read the same keda.roles config`,
        );
      }
      roleArns = {
        scaler: planned,
        operator: report.roleArns?.operator ?? record.plan.operatorRole.arn,
      };
    }
    if (report.state === 'failed' && !report.error) {
      throw new InputError(
        'error is required when state is failed: say what went wrong',
      );
    }
    return this.audit(
      'request-provision',
      { requestId: id, actor, state: report.state, taskId: report.taskId },
      httpRequest,
      async () => {
        const updated = await this.transition({
          id,
          from: PROGRESS_FROM[report.state],
          to: report.state,
          decision: {
            actor,
            decision: report.state,
            comment: {
              failed: report.error,
              provisioned: `scaler role ${roleArns?.scaler}`,
              provisioning: report.taskId && `scaffolder task ${report.taskId}`,
            }[report.state],
          },
          taskId: report.taskId,
          set: {
            ...(report.taskId ? { taskId: report.taskId } : {}),
            ...(roleArns ? { roleArns, error: null } : {}),
            ...(report.state === 'failed' ? { error: report.error } : {}),
            // a provisioned run without a verification clears the last one's
            ...(report.verification || report.state === 'provisioned'
              ? { verification: report.verification ?? null }
              : {}),
          },
        });
        await this.notifyOutcome(updated);
        return updated;
      },
    );
  }

  /**
   * Approved requests whose provisioning task was never linked (the backend
   * stopped right after the decision) would wait forever: after
   * APPROVED_WITHOUT_TASK_TIMEOUT_MS they become `failed`, so an approver can
   * retry. Re-running provisioning is safe; the role actions converge.
   */
  private async failLostApprovals(): Promise<number> {
    const now = (this.options.now ?? Date.now)();
    let changed = 0;
    for (const record of await this.options.store.list({ state: 'approved' })) {
      if (record.provisioning?.taskId) continue;
      if (
        now - Date.parse(record.updatedAt) <
        APPROVED_WITHOUT_TASK_TIMEOUT_MS
      ) {
        continue;
      }
      const error =
        'The provisioning task was never started or linked (the backend stopped after the approval?); retry to start it';
      try {
        const failed = await this.transition({
          id: record.id,
          from: ['approved'],
          to: 'failed',
          decision: { actor: 'policy', decision: 'failed', comment: error },
          set: { error },
        });
        await this.notifyOutcome(failed);
        changed++;
      } catch (e) {
        if (!isConflict(e)) throw e;
        // Another replica (or a late link) changed it first.
        this.options.logger.debug(`KEDA request ${record.id}: ${e}`);
      }
    }
    return changed;
  }

  /**
   * Records the end of tasks that stopped without reporting (a step failed
   * before `keda:request:progress` ran, or the task was cancelled). Run by a
   * scheduled job with global scope; the conditional updates make
   * overlapping runs harmless.
   */
  async reconcileProvisioningTasks(): Promise<number> {
    const { taskReader, store, logger } = this.options;
    let changed = await this.failLostApprovals();
    if (!taskReader) return changed;
    for (const record of await store.list({ state: 'provisioning' })) {
      const taskId = record.provisioning?.taskId;
      if (!taskId) continue;
      let task;
      try {
        task = await taskReader.taskState(taskId);
      } catch (e) {
        logger.warn(`Could not read scaffolder task ${taskId}: ${e}`);
        continue;
      }
      if (!task) continue;
      try {
        if (task.status === 'failed' || task.status === 'cancelled') {
          const failed = await this.transition({
            id: record.id,
            from: ['provisioning'],
            to: 'failed',
            taskId,
            decision: {
              actor: 'policy',
              decision: 'failed',
              comment: `task ${taskId} ${task.status}: ${task.error}`,
            },
            set: { error: task.error ?? `task ${taskId} ${task.status}` },
          });
          await this.notifyOutcome(failed);
          changed++;
        } else if (task.status === 'completed') {
          // Every step ran, the role-ensuring one included, so the planned
          // roles exist (an auto-approved run records before it ends).
          const provisioned = await this.transition({
            id: record.id,
            from: ['provisioning'],
            to: 'provisioned',
            taskId,
            decision: {
              actor: 'policy',
              decision: 'provisioned',
              comment: `task ${taskId} completed`,
            },
            set: {
              roleArns: {
                scaler: record.plan.scalerRole.arn,
                operator: record.plan.operatorRole.arn,
              },
              error: null,
            },
          });
          await this.notifyOutcome(provisioned);
          changed++;
        }
      } catch (e) {
        if (!isConflict(e)) throw e;
        // Someone else (a report, another replica) got there first.
        logger.debug(`KEDA request ${record.id}: ${e}`);
      }
    }
    return changed;
  }
}
