import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  parseKedaRequest,
  plan,
  type Finding,
  type KedaClusterSpec,
  type KedaPlan,
} from '@internal/plugin-keda-common';
import {
  clusterSpecOf,
  discoverOidcIssuer,
  readKedaConfig,
  type KedaAwsClientFactory,
  type KedaClusterConfig,
  type KedaConfig,
} from '@internal/plugin-keda-node';

/** Where the cluster's OIDC issuer came from. */
export type OidcIssuerSource =
  | 'config'
  | 'eks:DescribeCluster'
  | 'dry-run placeholder'
  | 'not needed';

/** @public */
export interface ResolvedCluster {
  config: KedaClusterConfig;
  spec: KedaClusterSpec;
  oidcIssuerSource: OidcIssuerSource;
}

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

/** A request's plan could not be provisioned as asked; lists every problem. */
export class KedaPlanRejectedError extends InputError {
  constructor(readonly violations: Finding[]) {
    super(
      `The KEDA request breaks ${violations.length} guardrail${
        violations.length === 1 ? '' : 's'
      }: ${violations
        .map(v => `${v.field ? `${v.field}: ` : ''}${v.message}`)
        .join('; ')}`,
    );
  }
}

/**
 * Server-side planning shared by every action: reads `keda.*` config with
 * keda-node's reader, resolves the cluster (OIDC issuer from config or
 * `eks:DescribeCluster`) and calls keda-common's `plan`. Actions never take
 * IAM documents as input; they recompute them here, so a crafted template
 * cannot smuggle a trust policy into provisioning.
 */
export class KedaPlanner {
  constructor(
    private readonly options: {
      config: Config;
      aws: KedaAwsClientFactory;
      logger?: LoggerService;
    },
  ) {}

  /** Re-read on every call: config may be reloaded while the backend runs. */
  kedaConfig(): KedaConfig {
    return readKedaConfig(this.options.config);
  }

  /** `keda.roles.adoptExistingRoles`: take over unmanaged roles of the same name. */
  adoptExistingRoles(): boolean {
    return (
      this.options.config.getOptionalBoolean('keda.roles.adoptExistingRoles') ??
      false
    );
  }

  async resolveCluster(
    name: string,
    options: { dryRun: boolean },
  ): Promise<ResolvedCluster> {
    const kedaConfig = this.kedaConfig();
    const config = kedaConfig.clusters.find(c => c.name === name);
    if (!config) {
      throw new InputError(
        `cluster: "${name}" is not a configured cluster; choose one of ${
          kedaConfig.clusters.map(c => c.name).join(', ') ||
          '(none: the platform team must add keda.clusters[])'
        }`,
      );
    }
    const spec = clusterSpecOf(config) as KedaClusterSpec;
    if (spec.identity !== 'irsa') {
      return { config, spec, oidcIssuerSource: 'not needed' };
    }
    if (spec.oidcIssuer) {
      return { config, spec, oidcIssuerSource: 'config' };
    }
    if (options.dryRun) {
      // Dry run makes no remote call; the issuer only shapes the operator
      // role's trust policy, which the developer's PR does not contain.
      return {
        config,
        spec: {
          ...spec,
          oidcIssuer: `https://oidc.eks.${spec.region}.amazonaws.com/id/DRY-RUN-ISSUER-FROM-DESCRIBE-CLUSTER`,
        },
        oidcIssuerSource: 'dry-run placeholder',
      };
    }
    const eks = await this.options.aws.eks(spec.accountId, spec.region);
    const oidcIssuer = await discoverOidcIssuer({
      eks,
      accountId: spec.accountId,
      clusterName: config.eks.clusterName ?? config.name,
    });
    this.options.logger?.info(
      `Cluster ${name}: OIDC issuer ${oidcIssuer} from eks:DescribeCluster`,
    );
    return {
      config,
      spec: { ...spec, oidcIssuer },
      oidcIssuerSource: 'eks:DescribeCluster',
    };
  }

  /**
   * Validates the request and plans it against config. Throws
   * `KedaRequestError` (every invalid field) or `KedaPlanRejectedError`
   * (every blocking guardrail) unless `allowViolations`.
   */
  async plan(input: {
    request: unknown;
    externalId?: string;
    requester?: string;
    dryRun: boolean;
    allowViolations?: boolean;
  }): Promise<{ plan: KedaPlan; cluster: ResolvedCluster }> {
    const request = parseKedaRequest(withoutBlankFields(input.request));
    const cluster = await this.resolveCluster(request.cluster, {
      dryRun: input.dryRun,
    });
    const { roles, guardrails } = this.kedaConfig();
    const result = plan({
      request,
      cluster: cluster.spec,
      roles,
      guardrails,
      externalId: input.externalId,
      requester: input.requester,
    });
    if (!input.allowViolations && result.guardrails.violations.length > 0) {
      throw new KedaPlanRejectedError(result.guardrails.violations);
    }
    return { plan: result, cluster };
  }
}
