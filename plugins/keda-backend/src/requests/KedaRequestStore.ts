import {
  resolvePackagePath,
  type DatabaseService,
  type LoggerService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  canTransition,
  KEDA_CURRENT_STATES,
  KEDA_IN_FLIGHT_STATES,
  scaffolderTaskPagePath,
} from '@keda-self-service/plugin-keda-common';
import type {
  KedaDecision,
  KedaDecisionKind,
  KedaPlan,
  KedaProvisionedRoles,
  KedaVerification,
  KedaPullRequestRef,
  KedaRequestListFilter,
  KedaRequestRecord,
  KedaRequestState,
} from '@keda-self-service/plugin-keda-common';
import type { Knex } from 'knex';

const REQUESTS = 'keda_requests';
const DECISIONS = 'keda_request_decisions';

/**
 * Applies the package's knex migrations (shipped in `migrations/`).
 * @public
 */
export async function migrateKedaRequestStore(knex: Knex): Promise<void> {
  await knex.migrate.latest({
    directory: resolvePackagePath(
      '@keda-self-service/plugin-keda-backend',
      'migrations',
    ),
  });
}

interface RequestRow {
  id: string;
  entity_ref: string;
  requester: string;
  owner: string | null;
  cluster: string;
  queue_url: string;
  state: KedaRequestState;
  auto_approved: boolean | number;
  approval_reasons: string;
  plan: string;
  pull_request: string | null;
  task_id: string | null;
  role_arns: string | null;
  error: string | null;
  verification: string | null;
  created_by_task_id: string | null;
  idempotency_key: string | null;
  workload_key: string | null;
  external_id: string | null;
  supersedes: string | null;
  superseded_by: string | null;
  created_at: string;
  updated_at: string;
}

interface DecisionRow {
  seq: number;
  request_id: string;
  actor: string;
  decision: KedaDecisionKind;
  comment: string | null;
  at: string;
}

/** A decision to append; `at` is set by the store. */
export interface NewDecision {
  actor: string;
  decision: KedaDecisionKind;
  comment?: string;
}

/** What `insert` needs to record a new request. */
export interface NewKedaRequest {
  id: string;
  entityRef: string;
  requester: string;
  owner?: string;
  cluster: string;
  queueUrl: string;
  state: Extract<KedaRequestState, 'pending' | 'provisioning'>;
  autoApproved: boolean;
  approvalReasons: string[];
  plan: KedaPlan;
  pullRequest?: KedaPullRequestRef;
  taskId?: string;
  createdByTaskId?: string;
  idempotencyKey?: string;
  /** `kedaWorkloadKey` of the request */
  workloadKey: string;
  externalId?: string;
  /**
   * The workload's current request this one takes over from, moved to
   * `superseded` in the same transaction (only from one of `from`).
   */
  supersedes?: { id: string; from: readonly KedaRequestState[] };
}

/**
 * A state change. Applied only when the request is currently in one of
 * `from`; otherwise a ConflictError names the state it is in.
 */
export interface KedaRequestTransition {
  id: string;
  from: readonly KedaRequestState[];
  to: KedaRequestState;
  decision: NewDecision;
  /** fields to set with the state; `null` clears */
  set?: {
    taskId?: string | null;
    roleArns?: KedaProvisionedRoles | null;
    error?: string | null;
    verification?: KedaVerification | null;
  };
  /** only apply when the request is provisioned by this task (or none yet) */
  taskId?: string;
  /**
   * The workload's current request, moved to `superseded` (by this one) in
   * the same transaction; skipped when it is no longer current.
   */
  supersede?: { id: string; actor: string };
}

/** The state machine's edges, checked before any write. */
function assertEdges(from: readonly KedaRequestState[], to: KedaRequestState) {
  const illegal = from.filter(f => !canTransition(f, to));
  if (illegal.length > 0 || from.length === 0) {
    throw new Error(
      `Illegal KEDA request transition ${
        illegal.join('|') || '(none)'
      } → ${to}: not an edge of KEDA_REQUEST_TRANSITIONS`,
    );
  }
}

function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    err?.code === '23505' || // PostgreSQL unique_violation
    err?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed/.test(String(err?.message))
  );
}

/**
 * Why the database cannot answer, when the error says it went away, cannot
 * be reached or is busy (rather than refusing the statement); undefined for
 * any other error. PostgreSQL (class 08 connection exceptions, the server
 * shutting down or terminating the session), the pg driver, knex's pool and
 * SQLite (better-sqlite3).
 */
export function databaseUnavailableReason(e: unknown): string | undefined {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  if (!err || typeof err !== 'object') return undefined;
  const code = typeof err.code === 'string' ? err.code : '';
  const message = typeof err.message === 'string' ? err.message : '';
  if (
    /^08/.test(code) || // connection_exception, …
    ['57P01', '57P02', '57P03'].includes(code) || // admin/crash shutdown, cannot connect now
    /Connection terminated|Connection ended unexpectedly|connection error and is not queryable|The database connection is not open/i.test(
      message,
    )
  ) {
    return 'the connection to it was lost';
  }
  if (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENOTFOUND',
      'EAI_AGAIN',
    ].includes(code) ||
    code === '53300' || // too_many_connections
    code === 'SQLITE_CANTOPEN' ||
    code.startsWith('SQLITE_IOERR')
  ) {
    return 'it cannot be reached';
  }
  if (
    err.name === 'KnexTimeoutError' ||
    /Unable to acquire a connection/.test(message) // the pool is gone
  ) {
    return 'no connection to it became free in time';
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return 'it is locked by another connection';
  }
  return undefined;
}

const json = <T>(value: string | null): T | undefined =>
  value === null || value === undefined ? undefined : (JSON.parse(value) as T);

/**
 * The request store in the keda plugin's database. Every state change is a
 * conditional UPDATE (`WHERE state IN (...)`) in a transaction together
 * with its decision-log entry, and succeeds only when it changed exactly one
 * row: with several backend replicas on one database, of two concurrent
 * decisions on the same request exactly one applies and the other gets a
 * ConflictError. The decision log is only ever appended to.
 */
export class KedaRequestStore {
  static async create(options: {
    database: DatabaseService;
    now?: () => Date;
    /** where the database errors behind a 503 are logged */
    logger?: LoggerService;
  }): Promise<KedaRequestStore> {
    const knex = await options.database.getClient();
    if (!options.database.migrations?.skip) {
      await migrateKedaRequestStore(knex);
    }
    return new KedaRequestStore(knex, options.now, options.logger);
  }

  private readonly writeListeners: Array<() => void> = [];

  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
    private readonly logger?: LoggerService,
  ) {}

  /**
   * Called after every write this instance made (or tried: a write whose
   * answer was lost may have been made), so caches of what it read can be
   * dropped.
   */
  onWrite(listener: () => void) {
    this.writeListeners.push(listener);
  }

  private wrote() {
    for (const listener of this.writeListeners) listener();
  }

  /**
   * Runs one store operation. When the database went away, cannot be
   * reached or is busy, throws a ServiceUnavailableError (HTTP 503) that
   * says so and that retrying is safe — a change is made in one transaction,
   * so it was made in full or not at all. The driver's error (with its SQL)
   * goes to the log only, never to the caller.
   */
  private async guard<T>(
    what: string,
    write: boolean,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      const result = await fn();
      if (write) this.wrote();
      return result;
    } catch (e) {
      // A failed write may still have been committed (a lost answer).
      if (write) this.wrote();
      const reason = databaseUnavailableReason(e);
      if (!reason) throw e;
      this.logger?.warn(
        `KEDA request store: could not ${what}, the database is unavailable (${reason}): ${e}`,
      );
      throw new ServiceUnavailableError(
        `The KEDA request database is unavailable right now (${reason}), so the portal could not ${what}. ${
          write
            ? 'A change is made in one transaction: it was made in full or not at all, never in part. Reload the request and try again; retrying is safe'
            : 'Nothing was changed; try again in a moment'
        }`,
      );
    }
  }

  /**
   * Records a new request with its first decisions. When the creating task
   * or idempotency key was seen before, returns that request instead
   * (`created: false`), so re-running a template step records nothing twice.
   */
  async insert(
    request: NewKedaRequest,
    decisions: NewDecision[],
  ): Promise<{ record: KedaRequestRecord; created: boolean }> {
    return this.guard('record the KEDA request', true, () =>
      this.insertRequest(request, decisions),
    );
  }

  private async insertRequest(
    request: NewKedaRequest,
    decisions: NewDecision[],
  ): Promise<{ record: KedaRequestRecord; created: boolean }> {
    const existing = await this.findRecorded(request);
    if (existing) return { record: existing, created: false };
    const at = this.now().toISOString();
    let record: KedaRequestRecord;
    try {
      // The record is read back inside the transaction: once it commits,
      // nothing is left that could fail and leave the caller guessing.
      record = await this.db.transaction(async tx => {
        await tx<RequestRow>(REQUESTS).insert({
          id: request.id,
          entity_ref: request.entityRef,
          requester: request.requester,
          owner: request.owner ?? null,
          cluster: request.cluster,
          queue_url: request.queueUrl,
          state: request.state,
          auto_approved: request.autoApproved,
          approval_reasons: JSON.stringify(request.approvalReasons),
          plan: JSON.stringify(request.plan),
          pull_request: request.pullRequest
            ? JSON.stringify(request.pullRequest)
            : null,
          task_id: request.taskId ?? null,
          role_arns: null,
          error: null,
          created_by_task_id: request.createdByTaskId ?? null,
          idempotency_key: request.idempotencyKey ?? null,
          workload_key: request.workloadKey,
          external_id: request.externalId ?? null,
          supersedes: request.supersedes?.id ?? null,
          superseded_by: null,
          created_at: at,
          updated_at: at,
        });
        await this.appendDecisions(tx, request.id, decisions, at);
        if (request.supersedes && request.state === 'provisioning') {
          await this.supersede(
            tx,
            request.supersedes.id,
            request.id,
            request.requester,
            at,
            request.supersedes.from,
          );
        }
        return this.recordIn(tx, request.id);
      });
    } catch (e) {
      await this.rollBackLeftOpenTransaction(e);
      // Two replicas recording the same task at once: the unique index lets
      // one insert win; the loser returns the winner's record.
      const raced = await this.findRecorded(request);
      if (raced) return { record: raced, created: false };
      if (await this.get(request.id)) {
        throw new ConflictError(
          `A KEDA request with id '${request.id}' already exists; choose another requestId`,
        );
      }
      if (isUniqueViolation(e) || e instanceof ConflictError) {
        throw await this.workloadConflict(request.workloadKey, e);
      }
      throw e;
    }
    return { record, created: true };
  }

  /** The request a task or idempotency key recorded, if any. */
  async findRecorded(
    request: Pick<NewKedaRequest, 'createdByTaskId' | 'idempotencyKey'>,
  ): Promise<KedaRequestRecord | undefined> {
    if (!request.createdByTaskId && !request.idempotencyKey) return undefined;
    return this.guard('read the KEDA request', false, async () => {
      const row = await this.db<RequestRow>(REQUESTS)
        .where(builder => {
          if (request.createdByTaskId) {
            builder.orWhere('created_by_task_id', request.createdByTaskId);
          }
          if (request.idempotencyKey) {
            builder.orWhere('idempotency_key', request.idempotencyKey);
          }
        })
        .first();
      return row ? this.toRecord(this.db, row) : undefined;
    });
  }

  async get(id: string): Promise<KedaRequestRecord | undefined> {
    return this.guard('read the KEDA request', false, async () => {
      const row = await this.db<RequestRow>(REQUESTS).where({ id }).first();
      return row ? this.toRecord(this.db, row) : undefined;
    });
  }

  /** The request as `tx` sees it (inside a transaction: before commit). */
  private async recordIn(
    tx: Knex.Transaction,
    id: string,
  ): Promise<KedaRequestRecord> {
    const row = await tx<RequestRow>(REQUESTS).where({ id }).first();
    return this.toRecord(tx, row!);
  }

  async list(filter: KedaRequestListFilter = {}): Promise<KedaRequestRecord[]> {
    return this.guard('list KEDA requests', false, () => this.listRows(filter));
  }

  private async listRows(
    filter: KedaRequestListFilter,
  ): Promise<KedaRequestRecord[]> {
    const query = this.db<RequestRow>(REQUESTS).orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ]);
    if (filter.state) {
      query.whereIn(
        'state',
        Array.isArray(filter.state) ? filter.state : [filter.state],
      );
    }
    if (filter.entityRef) query.where('entity_ref', filter.entityRef);
    if (filter.cluster) query.where('cluster', filter.cluster);
    if (filter.requester) query.where('requester', filter.requester);
    if (filter.team) query.where('owner', filter.team);
    const rows = await query;
    if (rows.length === 0) return [];
    const decisions = await this.db<DecisionRow>(DECISIONS)
      .whereIn(
        'request_id',
        rows.map(r => r.id),
      )
      .orderBy('seq', 'asc');
    const byRequest = new Map<string, DecisionRow[]>();
    for (const d of decisions) {
      byRequest.set(d.request_id, [...(byRequest.get(d.request_id) ?? []), d]);
    }
    return rows.map(r => this.rowToRecord(r, byRequest.get(r.id) ?? []));
  }

  /**
   * Moves a request from one of `from` to `to` and appends the decision,
   * atomically. Throws NotFoundError for an unknown id and ConflictError when
   * the request is no longer in one of `from` (someone else decided first).
   */
  async transition(change: KedaRequestTransition): Promise<KedaRequestRecord> {
    assertEdges(change.from, change.to);
    return this.guard(
      `record the change of KEDA request '${change.id}' to ${change.to}`,
      true,
      () => this.transitionOnce(change),
    );
  }

  private async transitionOnce(
    change: KedaRequestTransition,
  ): Promise<KedaRequestRecord> {
    const at = this.now().toISOString();
    try {
      return await this.applyTransition(change, at);
    } catch (e) {
      await this.rollBackLeftOpenTransaction(e);
      // SQLite: another connection holds the write lock for a decision on
      // this database right now. It may be about this very request, so the
      // caller must reload rather than assume its decision applied.
      if ((e as { code?: string }).code === 'SQLITE_BUSY') {
        throw new ConflictError(
          `KEDA request '${change.id}' is being changed by another decision right now; reload it and try again`,
        );
      }
      if (isUniqueViolation(e)) {
        const row = await this.db<RequestRow>(REQUESTS)
          .where('id', change.id)
          .first();
        throw await this.workloadConflict(row?.workload_key ?? null, e);
      }
      throw e;
    }
  }

  /**
   * SQLite keeps a transaction open when its COMMIT fails (SQLITE_BUSY:
   * another connection — a second backend process, a backup — is reading
   * the database), and knex hands the connection back to the pool as it is:
   * the uncommitted change would look made to this backend, every later
   * statement would run inside that transaction and every later transaction
   * fail to begin. Roll it back (SQLite's pool has one connection); when no
   * transaction was left open, SQLite says so and nothing happens.
   */
  private async rollBackLeftOpenTransaction(e: unknown) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return;
    try {
      await this.db.raw('ROLLBACK');
    } catch {
      // "cannot rollback - no transaction is active": nothing was left open
    }
  }

  /**
   * The change in one transaction, which also reads the changed record back:
   * once it commits, nothing is left that could fail and leave the caller
   * guessing whether the change was made.
   */
  private async applyTransition(
    change: KedaRequestTransition,
    at: string,
  ): Promise<KedaRequestRecord> {
    return this.db.transaction(async tx => {
      const update: Partial<RequestRow> = { state: change.to, updated_at: at };
      if (change.set?.taskId !== undefined) update.task_id = change.set.taskId;
      if (change.set?.roleArns !== undefined) {
        update.role_arns = change.set.roleArns
          ? JSON.stringify(change.set.roleArns)
          : null;
      }
      if (change.set?.error !== undefined) update.error = change.set.error;
      if (change.set?.verification !== undefined) {
        update.verification = change.set.verification
          ? JSON.stringify(change.set.verification)
          : null;
      }
      const query = tx<RequestRow>(REQUESTS)
        .where('id', change.id)
        .whereIn('state', [...change.from]);
      if (change.taskId) {
        query.where(b =>
          b.whereNull('task_id').orWhere('task_id', change.taskId!),
        );
      }
      // The current request steps aside first: the workload then never has
      // two current requests, not even inside the transaction.
      if (change.supersede) {
        await this.supersede(
          tx,
          change.supersede.id,
          change.id,
          change.supersede.actor,
          at,
          KEDA_CURRENT_STATES,
          true,
        );
      }
      const affected = await query.update(update);
      if (affected !== 1) {
        throw await this.conflict(tx, change);
      }
      await this.appendDecisions(tx, change.id, [change.decision], at);
      return this.recordIn(tx, change.id);
    });
  }

  /**
   * Moves the workload's current request `id` to `superseded` by
   * `successor`. Throws a ConflictError when it is no longer in one of
   * `from`, unless `optional` (then nothing happens).
   */
  private async supersede(
    tx: Knex.Transaction,
    id: string,
    successor: string,
    actor: string,
    at: string,
    from: readonly KedaRequestState[],
    optional = false,
  ) {
    assertEdges(from, 'superseded');
    const affected = await tx<RequestRow>(REQUESTS)
      .where('id', id)
      .whereIn('state', [...from])
      .update({
        state: 'superseded',
        superseded_by: successor,
        updated_at: at,
      });
    if (affected !== 1) {
      if (optional) return;
      throw await this.conflict(tx, {
        id,
        from,
        to: 'superseded',
        decision: { actor, decision: 'superseded' },
      });
    }
    await this.appendDecisions(
      tx,
      id,
      [
        {
          actor,
          decision: 'superseded',
          comment: `superseded by request ${successor} for the same workload`,
        },
      ],
      at,
    );
  }

  /** The workload's requests in flight or current (newest first). */
  async activeFor(workloadKey: string): Promise<KedaRequestRecord[]> {
    return this.guard(
      'read the KEDA requests of the workload',
      false,
      async () => {
        const rows = await this.db<RequestRow>(REQUESTS)
          .where('workload_key', workloadKey)
          .whereIn('state', [...KEDA_IN_FLIGHT_STATES, ...KEDA_CURRENT_STATES])
          .orderBy('created_at', 'desc');
        return Promise.all(rows.map(r => this.toRecord(this.db, r)));
      },
    );
  }

  private async workloadConflict(
    workloadKey: string | null,
    cause: unknown,
  ): Promise<Error> {
    if (cause instanceof ConflictError) return cause;
    const active = workloadKey ? await this.activeFor(workloadKey) : [];
    const names = active.map(r => `${r.id} (${r.state})`).join(', ');
    return new ConflictError(
      `Workload ${workloadKey} already has an active KEDA request${
        names ? `: ${names}` : ''
      }; a workload has at most one request in flight and one current. Reload and try again`,
    );
  }

  private async conflict(
    tx: Knex.Transaction,
    change: KedaRequestTransition,
  ): Promise<Error> {
    const row = await tx<RequestRow>(REQUESTS).where('id', change.id).first();
    if (!row) {
      return new NotFoundError(`KEDA request '${change.id}' does not exist`);
    }
    if (
      change.taskId &&
      row.task_id &&
      row.task_id !== change.taskId &&
      change.from.includes(row.state)
    ) {
      return new ConflictError(
        `KEDA request '${change.id}' is provisioned by task ${row.task_id}, not ${change.taskId}; the report of the older task is ignored`,
      );
    }
    // Name the decision that took the request out of the caller's hands
    // (approved, rejected, withdrawn, ...), not just the latest log entry.
    const last = await tx<DecisionRow>(DECISIONS)
      .where('request_id', change.id)
      .whereIn('decision', [
        'auto-approved',
        'approved',
        'rejected',
        'withdrawn',
        'retried',
        'decommissioned',
        'superseded',
      ])
      .orderBy('seq', 'desc')
      .first();
    const by = last ? ` (${last.decision} by ${last.actor} at ${last.at})` : '';
    return new ConflictError(
      `KEDA request '${change.id}' is ${row.state}${by}; it cannot become ${
        change.to
      } from there (only from ${change.from.join(
        ' or ',
      )}). Reload the request to see the current state`,
    );
  }

  private async appendDecisions(
    tx: Knex.Transaction,
    requestId: string,
    decisions: NewDecision[],
    at: string,
  ) {
    if (decisions.length === 0) return;
    await tx<DecisionRow>(DECISIONS).insert(
      decisions.map(d => ({
        request_id: requestId,
        actor: d.actor,
        decision: d.decision,
        comment: d.comment ?? null,
        at,
      })),
    );
  }

  private async toRecord(db: Knex, row: RequestRow) {
    const decisions = await db<DecisionRow>(DECISIONS)
      .where('request_id', row.id)
      .orderBy('seq', 'asc');
    return this.rowToRecord(row, decisions);
  }

  private rowToRecord(
    row: RequestRow,
    decisions: DecisionRow[],
  ): KedaRequestRecord {
    const pullRequest = json<KedaPullRequestRef>(row.pull_request);
    const roleArns = json<KedaProvisionedRoles>(row.role_arns);
    const verification = json<KedaVerification>(row.verification);
    const provisioning =
      row.task_id || roleArns || row.error || verification
        ? {
            ...(row.task_id
              ? {
                  taskId: row.task_id,
                  taskUrl: scaffolderTaskPagePath(row.task_id),
                }
              : {}),
            ...(roleArns ? { roleArns } : {}),
            ...(row.error ? { error: row.error } : {}),
            ...(verification ? { verification } : {}),
          }
        : undefined;
    return {
      id: row.id,
      entityRef: row.entity_ref,
      requester: row.requester,
      ...(row.owner ? { owner: row.owner } : {}),
      cluster: row.cluster,
      queueUrl: row.queue_url,
      state: row.state,
      // SQLite returns booleans as 0/1.
      autoApproved: Boolean(row.auto_approved),
      approvalReasons: json<string[]>(row.approval_reasons) ?? [],
      plan: json<KedaPlan>(row.plan)!,
      ...(pullRequest ? { pullRequest } : {}),
      ...(provisioning ? { provisioning } : {}),
      ...(row.external_id ? { externalId: row.external_id } : {}),
      ...(row.supersedes ? { supersedes: row.supersedes } : {}),
      ...(row.superseded_by ? { supersededBy: row.superseded_by } : {}),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      decisions: decisions.map(
        (d): KedaDecision => ({
          actor: d.actor,
          decision: d.decision,
          ...(d.comment ? { comment: d.comment } : {}),
          at: d.at,
        }),
      ),
    };
  }
}
