import type {
  AuditorService,
  BackstageCredentials,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  kedaRequestReadPermission,
  type KedaPlanPreview,
  type KedaRequestListFilter,
  type KedaRequestPreflight,
  type KedaRequestRecord,
} from '@keda-self-service/plugin-keda-common';
import type {
  KedaClusterService,
  KedaConfig,
} from '@keda-self-service/plugin-keda-node';
import type { Request } from 'express';
import { KedaRequestDecisions } from './KedaRequestDecisions';
import { KedaRequestEffects } from './KedaRequestEffects';
import { KedaRequestProvisioning } from './KedaRequestProvisioning';
import { KedaRequestRecording } from './KedaRequestRecording';
import type { KedaRequestStore } from './KedaRequestStore';
import { KedaRequestPermissions } from './requestCallers';
import type {
  ProvisioningLauncher,
  ProvisioningTaskReader,
} from './ScaffolderProvisioning';

export { APPROVED_WITHOUT_TASK_TIMEOUT_MS } from './KedaRequestProvisioning';

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
 * The approval flow: records requests (recomputing the plan from the portal's
 * own config), lets approvers decide, starts provisioning under the
 * approver's identity and takes the provisioning actions' reports. Every
 * operation checks permissions itself, so the router stays thin.
 *
 * The parts: recording (KedaRequestRecording), the decision routes by one
 * table of rules (KedaRequestDecisions), provisioning and its reconciler
 * (KedaRequestProvisioning), and what follows every change — signal, audit
 * event, notifications (KedaRequestEffects).
 */
export class KedaRequestService {
  private readonly permissions: KedaRequestPermissions;
  private readonly effects: KedaRequestEffects;
  private readonly recording: KedaRequestRecording;
  private readonly provisioning: KedaRequestProvisioning;
  private readonly decisions: KedaRequestDecisions;

  constructor(private readonly options: KedaRequestServiceOptions) {
    this.permissions = new KedaRequestPermissions(options);
    this.effects = new KedaRequestEffects(options);
    this.recording = new KedaRequestRecording(
      options,
      this.permissions,
      this.effects,
    );
    this.provisioning = new KedaRequestProvisioning(
      options,
      this.permissions,
      this.effects,
    );
    this.decisions = new KedaRequestDecisions(
      options,
      this.permissions,
      this.effects,
      this.provisioning,
    );
  }

  // ---- recording -----------------------------------------------------------

  /** `POST /requests/preflight` (KedaRequestRecording.preflight). */
  preflight(
    body: unknown,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestPreflight> {
    return this.recording.preflight(body, credentials);
  }

  /** `POST /plan` (KedaRequestRecording.planPreview). */
  planPreview(
    body: unknown,
    credentials: BackstageCredentials,
  ): Promise<KedaPlanPreview> {
    return this.recording.planPreview(body, credentials);
  }

  /** `POST /requests` (KedaRequestRecording.create). */
  create(
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<{ record: KedaRequestRecord; created: boolean }> {
    return this.recording.create(body, credentials, httpRequest);
  }

  // ---- read ----------------------------------------------------------------

  /** Requests matching the filter, each with the caller's `allowedActions`. */
  async list(
    filter: KedaRequestListFilter,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord[]> {
    await this.permissions.require(
      kedaRequestReadPermission,
      credentials,
      'read KEDA requests',
    );
    const caller = await this.permissions.callerOf(credentials);
    return (await this.options.store.list(filter)).map(r =>
      this.decisions.withActions(r, caller),
    );
  }

  /** One request with the caller's `allowedActions`. */
  async get(
    id: string,
    credentials: BackstageCredentials,
  ): Promise<KedaRequestRecord> {
    await this.permissions.require(
      kedaRequestReadPermission,
      credentials,
      'read KEDA requests',
    );
    const record = await this.effects.getOrThrow(id);
    return this.decisions.withActions(
      record,
      await this.permissions.callerOf(credentials),
    );
  }

  // ---- decisions (one path, DECISION_RULES) ---------------------------------

  /** `POST /requests/:id/approve` (DECISION_RULES.approve). */
  approve(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.decisions.decide('approve', id, body, credentials, httpRequest);
  }

  /** `POST /requests/:id/reject` (DECISION_RULES.reject). */
  reject(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.decisions.decide('reject', id, body, credentials, httpRequest);
  }

  /** `POST /requests/:id/withdraw` (DECISION_RULES.withdraw). */
  withdraw(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.decisions.decide(
      'withdraw',
      id,
      body,
      credentials,
      httpRequest,
    );
  }

  /** `POST /requests/:id/retry` (DECISION_RULES.retry). */
  retry(
    id: string,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.decisions.decide(
      'retry',
      id,
      undefined,
      credentials,
      httpRequest,
    );
  }

  /** `POST /requests/:id/decommission` (DECISION_RULES.decommission). */
  decommission(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.decisions.decide(
      'decommission',
      id,
      body,
      credentials,
      httpRequest,
    );
  }

  // ---- provisioning ----------------------------------------------------------

  /** `POST /requests/:id/progress` (KedaRequestProvisioning.progress). */
  progress(
    id: string,
    body: unknown,
    credentials: BackstageCredentials,
    httpRequest?: Request,
  ): Promise<KedaRequestRecord> {
    return this.provisioning.progress(id, body, credentials, httpRequest);
  }

  /**
   * The scheduled job's reconciler
   * (KedaRequestProvisioning.reconcileProvisioningTasks).
   */
  reconcileProvisioningTasks(): Promise<number> {
    return this.provisioning.reconcileProvisioningTasks();
  }
}
