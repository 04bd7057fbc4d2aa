import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  EKS_ROLE_ARN_ANNOTATION,
  kedaWorkloadKey,
  parseKedaRequest,
  plan,
  renderPlanSummary,
  type KedaClusterSpec,
  type KedaPlan,
  type OperatorRolePlan,
  type KedaRequestInput,
  type KedaRequestPreflight,
} from '@keda-self-service/plugin-keda-common';
import {
  KedaClusterService,
  KedaGuardrailError,
  readKedaConfig,
  type KedaAwsClientFactory,
  type KedaConfig,
  type ResolvedKedaCluster,
} from '@keda-self-service/plugin-keda-node';
import type { KedaRequestsClient } from './kedaRequestsClient';
import {
  kubernetesServiceAccountReader,
  type ServiceAccountReader,
} from './serviceAccounts';

/**
 * Template forms send "" (and the templating `null`) for optional fields the
 * user left empty; to the request schema an absent field means "default",
 * an empty string is an invalid value. Drop them, one level deep and in
 * nested objects.
 */
export function withoutBlankFields(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== '' && v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutBlankFields(v)]),
  );
}

/**
 * Server-side planning shared by every action: reads `keda.*` config once
 * with keda-node's reader, resolves clusters with keda-node's cluster
 * service (the keda backend's too) and calls keda-common's `plan`. Actions never take
 * IAM documents as input; they recompute them here, so a crafted template
 * cannot smuggle a trust policy into provisioning.
 *
 * @public
 */
export class KedaPlanner {
  private readonly serviceAccounts: ServiceAccountReader;
  private readonly clusters: KedaClusterService;
  private config?: KedaConfig;

  constructor(
    private readonly options: {
      config: Config;
      /**
       * `keda.*` as the process reads it (keda-node's kedaConfigServiceRef);
       * default: read from `config` once with readKedaConfig
       */
      kedaConfig?: () => KedaConfig;
      aws: KedaAwsClientFactory;
      logger?: LoggerService;
      /** the keda backend's request API: ownership, active request, ExternalId */
      requests?: Pick<KedaRequestsClient, 'preflight'>;
      /** default: read from the cluster's Kubernetes API */
      serviceAccounts?: ServiceAccountReader;
    },
  ) {
    this.serviceAccounts =
      options.serviceAccounts ??
      kubernetesServiceAccountReader({ config: options.config });
    this.clusters = new KedaClusterService({
      keda: () => this.kedaConfig(),
      aws: () => options.aws,
      logger: options.logger,
    });
  }

  /** true when the keda backend's preflight can be asked. */
  hasRequestsApi(): boolean {
    return Boolean(this.options.requests);
  }

  /**
   * Asks the keda backend what recording this request would do, as the
   * initiator (`POST /requests/preflight`): refused (403) unless the
   * initiator is in the entity's owner group or an approver, 409 while the
   * workload has a request in flight, 400 for guardrail violations. Validates
   * the request locally first, so a typo is reported field by field.
   * `undefined` when no requests client is configured.
   */
  async preflight(input: {
    request: unknown;
    externalId?: string;
    credentials: BackstageCredentials;
    /** the running task: the request it recorded itself is not in flight */
    taskId?: string;
  }): Promise<KedaRequestPreflight | undefined> {
    const request = withoutBlankFields(input.request);
    parseKedaRequest(request);
    if (!this.options.requests) return undefined;
    return this.options.requests.preflight(
      request as KedaRequestInput,
      input.credentials,
      { externalId: input.externalId, taskId: input.taskId },
    );
  }

  /**
   * `keda.*` as keda-node's reader reads it, once: the first call that
   * succeeds is kept (a configuration error is reported on every call until
   * the backend restarts with a fixed configuration).
   */
  kedaConfig(): KedaConfig {
    if (this.options.kedaConfig) return this.options.kedaConfig();
    this.config ??= readKedaConfig(this.options.config);
    return this.config;
  }

  /** `keda.roles.adoptExistingRoles`: take over unmanaged roles of the same name. */
  adoptExistingRoles(): boolean {
    return this.kedaConfig().roles.adoptExistingRoles;
  }

  /** The configured cluster with its OIDC issuer (none fetched in a dry run). */
  resolveCluster(
    name: string,
    options: { dryRun: boolean },
  ): Promise<ResolvedKedaCluster> {
    return this.clusters.resolve(name, options);
  }

  /** The cluster's KEDA operator role as it must be. */
  operatorRole(spec: KedaClusterSpec): OperatorRolePlan {
    return this.clusters.operatorRole(spec);
  }

  /**
   * Validates the request and plans it against config. Throws
   * `KedaRequestError` (every invalid field) or `KedaGuardrailError`
   * (every blocking guardrail) unless `allowViolations`.
   *
   * With `preflight` (the keda backend's answer) the plan uses the
   * workload's ExternalId and the backend's approval verdict and reasons
   * join the guardrails'. With `checkServiceAccount` (keda:plan) an aws-eks
   * plan is refused when the workload's ServiceAccount already names
   * another IRSA role, which the planned manifest would replace.
   */
  async plan(input: {
    request: unknown;
    externalId?: string;
    requester?: string;
    dryRun: boolean;
    allowViolations?: boolean;
    preflight?: KedaRequestPreflight;
    checkServiceAccount?: boolean;
  }): Promise<{ plan: KedaPlan; cluster: ResolvedKedaCluster }> {
    const request = parseKedaRequest(withoutBlankFields(input.request));
    const workloadExternalId = input.preflight?.externalId;
    if (
      workloadExternalId &&
      input.externalId &&
      input.externalId !== workloadExternalId
    ) {
      throw new InputError(
        `externalId: the step's externalId differs from the ExternalId the keda backend keeps for ${kedaWorkloadKey(
          request,
        )} (preflight.externalId); a workload has one ExternalId. Remove externalId from the step input so the workload's own is used`,
      );
    }
    const cluster = await this.resolveCluster(request.cluster, {
      dryRun: input.dryRun,
    });
    const { roles, guardrails } = this.kedaConfig();
    const result = plan({
      request,
      cluster: cluster.spec,
      roles,
      guardrails,
      externalId: workloadExternalId ?? input.externalId,
      requester: input.requester,
    });
    if (!input.allowViolations && result.guardrails.violations.length > 0) {
      throw new KedaGuardrailError(result.guardrails.violations);
    }
    let changed = false;
    if (input.checkServiceAccount && !input.dryRun) {
      changed = await this.checkWorkloadServiceAccount(result, cluster);
    }
    if (input.preflight) {
      changed = mergePreflight(result, input.preflight) || changed;
    }
    if (changed) result.summaryMarkdown = renderPlanSummary(result);
    return { plan: result, cluster };
  }

  /**
   * aws-eks plans a whole ServiceAccount whose `eks.amazonaws.com/role-arn`
   * is the scaler role. If the workload's ServiceAccount already carries
   * another role (its own IRSA role), merging the pull request would take
   * that role away from the pods: refuse. Returns true when it added a
   * warning (the cluster could not be asked).
   */
  private async checkWorkloadServiceAccount(
    result: KedaPlan,
    cluster: ResolvedKedaCluster,
  ): Promise<boolean> {
    const name = result.names.serviceAccount;
    if (result.request.providerMode !== 'aws-eks' || !name) return false;
    const { namespace } = result.request;
    let annotations: Record<string, string> | undefined;
    try {
      annotations = (
        await this.serviceAccounts(cluster.config, namespace, name)
      )?.annotations;
    } catch (error) {
      result.guardrails.warnings.push({
        code: 'service-account-unread',
        field: 'serviceAccountName',
        message: `Could not read ServiceAccount ${namespace}/${name} on cluster "${
          cluster.config.name
        }" (${
          (error as Error)?.message ?? error
        }); make sure it has no ${EKS_ROLE_ARN_ANNOTATION} annotation of its own before merging: the planned manifest replaces it with the scaler role`,
      });
      return true;
    }
    const current = annotations?.[EKS_ROLE_ARN_ANNOTATION];
    if (current && current !== result.scalerRole.arn) {
      throw new InputError(
        `providerMode: the workload already has an IRSA role ${current} (annotation ${EKS_ROLE_ARN_ANNOTATION} of ServiceAccount ${namespace}/${name} on "${cluster.config.name}"). aws-eks would replace it with the scaler role ${result.scalerRole.arn}, and the pods would lose their own AWS permissions. Choose: use providerMode: aws (recommended; KEDA assumes the scaler role itself and the ServiceAccount stays untouched), or have an approver add sqs:GetQueueAttributes on ${result.queue.arn} to the workload's own role ${current} and keep the ServiceAccount as it is`,
      );
    }
    return false;
  }
}

/**
 * Joins the keda backend's verdict to the local guardrails: approval is
 * needed when either says so, with both lists of reasons (without
 * repeats). Returns true when the plan changed.
 */
function mergePreflight(
  result: KedaPlan,
  preflight: KedaRequestPreflight,
): boolean {
  const { guardrails } = result;
  let changed = false;
  for (const message of preflight.approvalReasons ?? []) {
    if (!guardrails.reasons.some(r => r.message === message)) {
      guardrails.reasons.push({ code: 'keda-backend', message });
      changed = true;
    }
  }
  if (!preflight.autoApproved && !guardrails.approvalRequired) {
    guardrails.approvalRequired = true;
    if (guardrails.reasons.length === 0) {
      guardrails.reasons.push({
        code: 'keda-backend',
        message: 'The keda backend requires approval for this request',
      });
    }
    changed = true;
  }
  return changed;
}
