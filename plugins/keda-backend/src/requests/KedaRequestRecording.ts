import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import {
  kedaRequestApprovePermission,
  kedaRequestCreatePermission,
  kedaWorkloadKey,
  KEDA_CURRENT_STATES,
  KEDA_IN_FLIGHT_STATES,
  parseKedaRequest,
  plan,
  type KedaPlan,
  type KedaPlanPreview,
  type KedaRequest,
  type KedaRequestPreflight,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import { KedaGuardrailError } from '@keda-self-service/plugin-keda-node';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { KedaRequestServiceOptions } from './KedaRequestService';
import { subjectOf, type KedaRequestEffects } from './KedaRequestEffects';
import type { NewDecision } from './KedaRequestStore';
import {
  createBodySchema,
  parseBody,
  refuseUnsafePullRequestUrl,
} from './requestBodies';
import { userRefOf, type KedaRequestPermissions } from './requestCallers';

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

/**
 * Recording requests: what recording one would do (`preflight`, the plan
 * preview) and recording it (`create`) — the caller's right to ask, the
 * entity's ownership, the plan recomputed from this backend's config, the
 * workload's active request and ExternalId, and whether approval is needed.
 */
export class KedaRequestRecording {
  private readonly newId: () => string;

  constructor(
    private readonly options: Pick<
      KedaRequestServiceOptions,
      'store' | 'keda' | 'catalog' | 'userInfo' | 'clusters' | 'newId'
    >,
    private readonly permissions: KedaRequestPermissions,
    private readonly effects: KedaRequestEffects,
  ) {
    this.newId = options.newId ?? randomUUID;
  }

  private requireCreate(credentials: BackstageCredentials) {
    return this.permissions.require(
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
    if (
      await this.permissions.authorize(
        kedaRequestApprovePermission,
        credentials,
      )
    )
      return;
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

    return this.effects.audit(
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
          await this.effects.announce(
            result.record.id,
            autoApproved ? result.record.supersedes : undefined,
          );
        }
        if (result.created && !autoApproved) {
          await this.effects.notify(
            {
              entityRef: this.options.keda.approvals.approverGroups,
              excludeEntityRef: requester,
            },
            result.record,
            `KEDA request for ${subjectOf(result.record)} awaits approval`,
            `${requester} asks for queue-driven autoscaling: ${result.record.approvalReasons.join(
              ' ',
            )}`,
          );
        }
        return result;
      },
    );
  }
}
