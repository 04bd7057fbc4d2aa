import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  isError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  kedaIamProvisionPermission,
  type KedaProvisionedRoles,
  type KedaRequestRecord,
  type KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import type { Request } from 'express';
import type { KedaRequestServiceOptions } from './KedaRequestService';
import { subjectOf, type KedaRequestEffects } from './KedaRequestEffects';
import { parseBody, progressBodySchema } from './requestBodies';
import {
  actorOf,
  userRefOf,
  type KedaRequestPermissions,
} from './requestCallers';

/**
 * An approval whose task was never linked after this long is taken as lost
 * (the backend stopped between the decision and starting the task).
 */
export const APPROVED_WITHOUT_TASK_TIMEOUT_MS = 5 * 60_000;

/** Only a lost race is expected; anything else (a database outage) is not. */
function isConflict(e: unknown): boolean {
  return isError(e) && e.name === ConflictError.name;
}

/**
 * How often linking a started provisioning task is tried when the database
 * is unavailable (a dropped connection is replaced by the pool at once).
 */
const LINK_ATTEMPTS = 3;

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
 * Provisioning of approved requests: starts the task as the approver and
 * links it, takes the provisioning actions' reports, and (the scheduled
 * reconciler) records the end of tasks that stopped without reporting and of
 * approvals whose task was never linked.
 */
export class KedaRequestProvisioning {
  constructor(
    private readonly options: Pick<
      KedaRequestServiceOptions,
      'keda' | 'launcher' | 'taskReader' | 'store' | 'logger' | 'now'
    >,
    private readonly permissions: KedaRequestPermissions,
    private readonly effects: KedaRequestEffects,
  ) {}

  /**
   * Starts the provisioning template as `credentials` (the approver) and
   * links the task. A failure to start is recorded on the request, which can
   * then be retried.
   */
  async start(
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
      const failed = await this.effects.transition({
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
        return await this.effects.transition({
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
        return this.effects.getOrThrow(record.id);
      }
    }
  }

  async notifyOutcome(record: KedaRequestRecord) {
    if (record.state === 'provisioned') {
      await this.effects.notify(
        { entityRef: [record.requester] },
        record,
        `KEDA request for ${subjectOf(record)} provisioned`,
        `The scaler role ${record.provisioning?.roleArns?.scaler} exists; the pull request is ready for review and takes effect once merged.`,
      );
    } else if (record.state === 'failed') {
      await this.effects.notify(
        {
          entityRef: [
            record.requester,
            ...this.options.keda.approvals.approverGroups,
          ],
        },
        record,
        `Provisioning of the KEDA request for ${subjectOf(record)} failed`,
        `${
          record.provisioning?.error ?? 'unknown error'
        }. An approver can retry it.`,
        'high',
      );
    }
  }

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
    const record = await this.effects.getOrThrow(id);
    const actor = actorOf(credentials);
    const mayProvision =
      (await this.permissions.authorize(
        kedaIamProvisionPermission,
        credentials,
      )) ||
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
    return this.effects.audit(
      'request-provision',
      { requestId: id, actor, state: report.state, taskId: report.taskId },
      httpRequest,
      async () => {
        const updated = await this.effects.transition({
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
        const failed = await this.effects.transition({
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
          const failed = await this.effects.transition({
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
          const provisioned = await this.effects.transition({
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
