import type { LoggerService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  planOperatorRole,
  type Finding,
  type KedaClusterSpec,
  type OperatorRolePlan,
} from '@keda-self-service/plugin-keda-common';
import type { KedaAwsClientFactory } from './aws/clients';
import { discoverOidcIssuer } from './aws/oidcIssuer';
import {
  clusterSpecOf,
  type KedaClusterConfig,
  type KedaConfig,
} from './config';

/** Where a resolved cluster's OIDC issuer came from. @public */
export type OidcIssuerSource =
  | 'config'
  | 'eks:DescribeCluster'
  | 'dry-run placeholder'
  | 'not needed';

/** A configured cluster and the plan's view of it. @public */
export interface ResolvedKedaCluster {
  config: KedaClusterConfig;
  spec: KedaClusterSpec;
  oidcIssuerSource: OidcIssuerSource;
}

/**
 * A request's plan breaks the platform's guardrails; the message lists every
 * violation with its field (prefixed by `fieldPrefix`, e.g. `request.` where
 * the request is nested in the body).
 * @public
 */
export class KedaGuardrailError extends InputError {
  constructor(
    readonly violations: Finding[],
    options: { fieldPrefix?: string } = {},
  ) {
    const prefix = options.fieldPrefix ?? '';
    super(
      `The KEDA request breaks ${violations.length} guardrail${
        violations.length === 1 ? '' : 's'
      }: ${violations
        .map(v => `${v.field ? `${prefix}${v.field}: ` : ''}${v.message}`)
        .join('; ')}`,
    );
  }
}

/** How long an issuer read with `eks:DescribeCluster` is reused. */
const ISSUER_TTL_MS = 15 * 60 * 1000;

/**
 * The clusters of `keda.clusters[]` as the plan sees them, for the keda
 * backend and the scaffolder actions alike: the lookup by name (one error
 * for an unknown cluster), the OIDC issuer of IRSA clusters configured
 * without `oidcIssuer` (read with `eks:DescribeCluster`, shared by
 * concurrent callers and reused for 15 minutes; a failure is not kept, so
 * the next call asks again; a dry run makes no call and plans with a
 * placeholder), and the cluster's operator role plan.
 * @public
 */
export class KedaClusterService {
  private readonly issuers = new Map<
    string,
    { issuer: Promise<string>; at: number }
  >();

  constructor(
    private readonly options: {
      /** the `keda` config, read once by the caller with `readKedaConfig` */
      keda: () => Pick<KedaConfig, 'clusters' | 'roles' | 'guardrails'>;
      /** AWS clients, created on first use */
      aws: () => KedaAwsClientFactory;
      logger?: LoggerService;
      /** clock for the issuer cache (tests) */
      now?: () => number;
    },
  ) {}

  /**
   * The configured cluster `name`, or an `InputError` on `field` naming the
   * configured clusters.
   */
  cluster(name: string, options: { field?: string } = {}): KedaClusterConfig {
    const { clusters } = this.options.keda();
    const cluster = clusters.find(c => c.name === name);
    if (!cluster) {
      throw new InputError(
        `${
          options.field ?? 'cluster'
        }: "${name}" is not a configured cluster; choose one of ${
          clusters.map(c => c.name).join(', ') ||
          '(none: the platform team must add keda.clusters[])'
        }`,
      );
    }
    return cluster;
  }

  /** The cluster `name` with its plan spec, the OIDC issuer resolved. */
  async resolve(
    name: string,
    options: { dryRun?: boolean; field?: string } = {},
  ): Promise<ResolvedKedaCluster> {
    const config = this.cluster(name, options);
    const spec = clusterSpecOf(config) as KedaClusterSpec;
    if (spec.identity !== 'irsa') {
      return { config, spec, oidcIssuerSource: 'not needed' };
    }
    if (spec.oidcIssuer) {
      return { config, spec, oidcIssuerSource: 'config' };
    }
    if (options.dryRun) {
      // Dry run makes no remote call; the issuer only shapes the operator
      // role's trust policy, which the developer's pull request does not
      // contain.
      return {
        config,
        spec: {
          ...spec,
          oidcIssuer: `https://oidc.eks.${spec.region}.amazonaws.com/id/DRY-RUN-ISSUER-FROM-DESCRIBE-CLUSTER`,
        },
        oidcIssuerSource: 'dry-run placeholder',
      };
    }
    const oidcIssuer = await this.discoverIssuer(
      spec,
      config.eks.clusterName ?? config.name,
    );
    return {
      config,
      spec: { ...spec, oidcIssuer },
      oidcIssuerSource: 'eks:DescribeCluster',
    };
  }

  /** The cluster's KEDA operator role as it must be (keda-common's plan). */
  operatorRole(spec: KedaClusterSpec): OperatorRolePlan {
    const { roles, guardrails } = this.options.keda();
    return planOperatorRole({ cluster: spec, roles, guardrails });
  }

  private discoverIssuer(
    spec: KedaClusterSpec,
    eksClusterName: string,
  ): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    // Keyed by what identifies the EKS cluster, so a changed config never
    // reuses another cluster's issuer.
    const key = [
      spec.partition ?? '',
      spec.accountId,
      spec.region,
      eksClusterName,
    ].join('/');
    const cached = this.issuers.get(key);
    if (cached && now - cached.at < ISSUER_TTL_MS) return cached.issuer;
    const issuer = (async () => {
      const eks = await this.options.aws().eks(spec.accountId, spec.region);
      const found = await discoverOidcIssuer({
        eks,
        accountId: spec.accountId,
        clusterName: eksClusterName,
      });
      this.options.logger?.info(
        `Cluster ${spec.name}: OIDC issuer ${found} from eks:DescribeCluster`,
      );
      return found;
    })();
    const entry = { issuer, at: now };
    this.issuers.set(key, entry);
    issuer.catch(() => {
      if (this.issuers.get(key) === entry) this.issuers.delete(key);
    });
    return issuer;
  }
}
