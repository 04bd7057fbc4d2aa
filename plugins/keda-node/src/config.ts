import type { Config } from '@backstage/config';
import {
  KubernetesValidatorFunctions,
  parseEntityRef,
  stringifyEntityRef,
  type CompoundEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  DEFAULT_GITOPS_PATH,
  DEFAULT_KEDA_ROLES,
  defaultOperatorRoleName,
  partitionForRegion,
  type AwsPartition,
  type ResolvedKedaRolesConfig,
} from '@keda-self-service/plugin-keda-common';

// `keda.roles` is declared once, in keda-common (the plan builders take it
// too); re-exported here beside the reader that applies its defaults.
export {
  DEFAULT_KEDA_ROLES,
  type KedaRolesConfig,
  type ResolvedKedaRolesConfig,
} from '@keda-self-service/plugin-keda-common';

/**
 * How the backend authenticates to a cluster's Kubernetes API.
 *
 * - `serviceAccount`: a bearer token from config (`serviceAccountToken`).
 * - `inCluster`: the pod's own service account (token file re-read on every
 *   request, so projected-token rotation is picked up).
 * - `aws`: an EKS IAM token (presigned STS GetCallerIdentity), minted with
 *   credentials from `@backstage/integration-aws-node`.
 * @public
 */
export type KedaClusterAuthProvider = 'serviceAccount' | 'inCluster' | 'aws';

/** How the backend mints EKS IAM tokens for `authProvider: aws`. @public */
export interface KedaClusterEksAuthConfig {
  /** EKS cluster name as sent in `x-k8s-aws-id`; defaults to the cluster name. */
  clusterName?: string;
  /** Role to assume before minting the token. */
  assumeRole?: string;
  externalId?: string;
}

/**
 * The KEDA operator identity in a cluster (matches keda-common's
 * `KedaClusterSpec.operator`, plus the derived role ARN).
 * @public
 */
export interface KedaOperatorConfig {
  namespace: string;
  serviceAccount: string;
  /** Default `keda-operator-<cluster name>` (one operator role per cluster). */
  roleName: string;
  rolePath: string;
  /** `arn:<partition>:iam::<accountId>:role<rolePath><roleName>`, when accountId is known. */
  roleArn?: string;
  /**
   * `operator.sharedRole`: this cluster knowingly shares its operator role
   * with the other clusters that set it and resolve to the same role.
   * `readKedaConfig` always sets it; absent means false.
   */
  sharedRole?: boolean;
  /**
   * The OIDC issuers of the other clusters sharing the role (filled by
   * `readKedaConfig`; absent when the role is not shared). The role's trust
   * lists every sharing cluster's issuer.
   */
  sharedIssuers?: string[];
}

/** Where a cluster's manifests live in the GitOps repository. @public */
export interface KedaGitOpsConfig {
  /** Scaffolder repoUrl form: `github.com?owner=<o>&repo=<r>`. */
  repoUrl: string;
  /** Path template with `{cluster}`, `{namespace}`, `{name}`. */
  path: string;
}

/**
 * One cluster KEDA runs in, read from `keda.clusters[]` or from the Kubernetes
 * plugin's `kubernetes.clusterLocatorMethods[type=config].clusters[]`. The
 * AWS/KEDA fields mirror keda-common's `KedaClusterSpec`; the Kubernetes
 * connection fields mirror the Kubernetes plugin's cluster config.
 * @public
 */
export interface KedaClusterConfig {
  name: string;
  title?: string;
  /** Kubernetes API server URL. */
  url: string;
  authProvider: KedaClusterAuthProvider;
  serviceAccountToken?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  eks: KedaClusterEksAuthConfig;
  /** Account A; derived from `operator.roleArn` when not set. */
  accountId?: string;
  region?: string;
  partition?: AwsPartition;
  oidcIssuer?: string;
  kedaVersion?: string;
  identity: 'irsa' | 'pod-identity';
  operator: KedaOperatorConfig;
  gitops?: KedaGitOpsConfig;
  /** Where the entry came from, for error messages and `GET /clusters`. */
  source: 'keda.clusters' | 'kubernetes.clusterLocatorMethods';
}

/** `keda.guardrails.autoApprove`: inside these bounds no approval is needed. @public */
export interface KedaAutoApproveConfig {
  maxReplicas?: number;
  queueAccounts?: string[];
  clusters?: string[];
}

/** `keda.guardrails`. @public */
export interface KedaGuardrailsConfig {
  /** Empty means: no account is allowed (explicit allow-list). */
  allowedQueueAccounts: string[];
  /** Undefined means every configured cluster. */
  allowedClusters?: string[];
  maxReplicas: number;
  /** Undefined means: every request needs an approval. */
  autoApprove?: KedaAutoApproveConfig;
  /**
   * `keda.guardrails.requireOwnership` (default true): a request is made by
   * a member of the entity's owner group or an approver.
   */
  requireOwnership: boolean;
  /**
   * `keda.guardrails.allowedSqsEndpoints` (default none): `https://` URLs of
   * SQS (VPC) endpoints a request may name as `awsEndpoint` without
   * approval, besides the queue region's own SQS endpoint.
   */
  allowedSqsEndpoints: string[];
}

/** `keda.approvals`. @public */
export interface KedaApprovalsConfig {
  /**
   * Entity refs of groups whose members may approve, e.g.
   * `group:default/platform-team`; default {@link DEFAULT_APPROVER_GROUPS}.
   */
  approverGroups: string[];
  /** `keda.approvals.allowSelfApproval`: an approver may approve their own request (default false). */
  allowSelfApproval: boolean;
}

/** `keda.status`: tuning of the status API's caches. @public */
export interface KedaStatusConfig {
  /** How long replica/depth history is retained, in hours. */
  historyRetentionHours: number;
}

/** `keda.templates`: the scaffolder templates the backend starts. @public */
export interface KedaTemplatesConfig {
  /**
   * `keda.templates.provisioning`: entity ref of the platform-only template
   * the requests backend starts, as the approver, when a request is
   * approved (its parameter: `requestId`).
   */
  provisioning: string;
}

/** Defaults of `keda.templates`: the templates in this repository. @public */
export const DEFAULT_KEDA_TEMPLATES: KedaTemplatesConfig = Object.freeze({
  provisioning: 'template:default/keda-provision-request',
});

/** The whole `keda.*` block, typed and validated. @public */
export interface KedaConfig {
  clusters: KedaClusterConfig[];
  /** `keda.roles` with its defaults applied. */
  roles: ResolvedKedaRolesConfig;
  guardrails: KedaGuardrailsConfig;
  approvals: KedaApprovalsConfig;
  status: KedaStatusConfig;
  templates: KedaTemplatesConfig;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/.+$/;
const DEFAULT_MAX_REPLICAS = 100;

/**
 * `keda.approvals.approverGroups` when not configured — the one default the
 * requests backend and the permission policy share.
 * @public
 */
export const DEFAULT_APPROVER_GROUPS: readonly string[] = Object.freeze([
  'group:default/platform-team',
]);

function fail(key: string, problem: string, fix: string): never {
  throw new InputError(`Invalid config '${key}': ${problem}. ${fix}`);
}

function readAuthProvider(
  raw: string | undefined,
  hasToken: boolean,
  key: string,
): KedaClusterAuthProvider {
  // The Kubernetes plugin treats `serviceAccount` without a token as "use the
  // pod's own account"; we keep that meaning so its config works unchanged.
  if (raw === undefined || raw === 'serviceAccount') {
    return hasToken ? 'serviceAccount' : 'inCluster';
  }
  if (raw === 'inCluster' || raw === 'aws') return raw;
  return fail(
    key,
    `auth provider '${raw}' is not supported by the keda plugin`,
    "Use 'serviceAccount' (with serviceAccountToken), 'inCluster' or 'aws' (EKS IAM token)",
  );
}

function readAccountId(value: string | undefined, key: string) {
  if (value !== undefined && !ACCOUNT_ID.test(value)) {
    fail(
      key,
      `'${value}' is not a 12-digit AWS account id`,
      'Quote it in YAML so leading zeros survive',
    );
  }
  return value;
}

function readRoleArn(value: string | undefined, key: string) {
  if (value !== undefined && !ROLE_ARN.test(value)) {
    fail(
      key,
      `'${value}' is not an IAM role ARN`,
      "Use the form 'arn:aws:iam::<account>:role/<path/name>'",
    );
  }
  return value;
}

function readIamPath(value: string, key: string) {
  if (!value.startsWith('/') || !value.endsWith('/') || value.length > 512) {
    fail(
      key,
      `'${value}' is not an IAM path`,
      "An IAM path starts and ends with '/' and is at most 512 characters, e.g. '/keda/'",
    );
  }
  return value;
}

/** Splits `arn:aws:iam::111:role/a/b/name` into account, path `/a/b/` and name. */
function splitRoleArn(arn: string) {
  const [, partition, , , accountId, resource] = arn.split(':');
  const parts = resource.slice('role'.length).split('/');
  const roleName = parts.pop()!;
  return {
    partition: partition as AwsPartition,
    accountId,
    rolePath: `${parts.join('/')}/`,
    roleName,
  };
}

/** How the portal reaches a cluster's API server. */
type ClusterConnection = Pick<
  KedaClusterConfig,
  | 'url'
  | 'authProvider'
  | 'serviceAccountToken'
  | 'caData'
  | 'caFile'
  | 'skipTLSVerify'
  | 'eks'
>;

function readKedaCluster(
  c: Config,
  key: string,
  kubernetesPluginEntry?: KedaClusterConfig,
): KedaClusterConfig {
  const name = c.getString('name');
  const token = c.getOptionalString('serviceAccountToken');
  const region = c.getOptionalString('region');
  const explicitArn = readRoleArn(
    c.getOptionalString('operator.roleArn'),
    `${key}.operator.roleArn`,
  );
  const fromArn = explicitArn ? splitRoleArn(explicitArn) : undefined;
  const accountId =
    readAccountId(c.getOptionalString('accountId'), `${key}.accountId`) ??
    fromArn?.accountId;
  if (fromArn && accountId !== fromArn.accountId) {
    fail(
      `${key}.operator.roleArn`,
      `the operator role is in account ${fromArn.accountId} but the cluster's accountId is ${accountId}`,
      'The KEDA operator role lives in the cluster account (A); fix one of them',
    );
  }
  const partition =
    (c.getOptionalString('partition') as AwsPartition | undefined) ??
    fromArn?.partition ??
    (region ? partitionForRegion(region) : undefined);
  const rolePath = readIamPath(
    c.getOptionalString('operator.rolePath') ?? fromArn?.rolePath ?? '/',
    `${key}.operator.rolePath`,
  );
  const roleName =
    c.getOptionalString('operator.roleName') ??
    fromArn?.roleName ??
    defaultOperatorRoleName(name);
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName)) {
    fail(
      `${key}.operator.roleName`,
      `'${roleName}' is not a valid IAM role name`,
      'Use 1–64 letters, digits and +=,.@_- (or leave it out for the default keda-operator-<cluster name>)',
    );
  }
  const identity = c.getOptionalString('identity') ?? 'irsa';
  if (identity !== 'irsa' && identity !== 'pod-identity') {
    fail(
      `${key}.identity`,
      `'${identity}' is not a KEDA operator identity`,
      "Use 'irsa' (IAM roles for service accounts) or 'pod-identity' (EKS Pod Identity)",
    );
  }
  const gitops = c.getOptionalConfig('gitops');
  // Without a url of its own, the entry adds KEDA facts to the Kubernetes
  // plugin's cluster of the same name and connects the way that one does,
  // so nothing is configured twice.
  let connection: ClusterConnection;
  if (c.has('url')) {
    connection = {
      url: c.getString('url'),
      authProvider: readAuthProvider(
        c.getOptionalString('authProvider'),
        token !== undefined,
        `${key}.authProvider`,
      ),
      serviceAccountToken: token,
      caData: c.getOptionalString('caData'),
      caFile: c.getOptionalString('caFile'),
      skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
      eks: {
        clusterName: c.getOptionalString('eks.clusterName'),
        assumeRole: readRoleArn(
          c.getOptionalString('eks.assumeRole'),
          `${key}.eks.assumeRole`,
        ),
        externalId: c.getOptionalString('eks.externalId'),
      },
    };
  } else if (kubernetesPluginEntry) {
    const {
      url,
      authProvider,
      serviceAccountToken,
      caData,
      caFile,
      skipTLSVerify,
      eks,
    } = kubernetesPluginEntry;
    connection = {
      url,
      authProvider,
      serviceAccountToken,
      caData,
      caFile,
      skipTLSVerify,
      eks,
    };
  } else {
    fail(
      `${key}.url`,
      'is not set',
      `Set the cluster's Kubernetes API URL (and auth), or configure a cluster named '${name}' under kubernetes.clusterLocatorMethods (type config) to reuse its connection`,
    );
  }
  return {
    name,
    title: c.getOptionalString('title'),
    ...connection,
    accountId,
    region,
    partition,
    oidcIssuer: c.getOptionalString('oidcIssuer'),
    kedaVersion: c.getOptionalString('kedaVersion'),
    identity,
    operator: {
      namespace: c.getOptionalString('operator.namespace') ?? 'keda',
      serviceAccount:
        c.getOptionalString('operator.serviceAccount') ?? 'keda-operator',
      roleName,
      rolePath,
      roleArn:
        explicitArn ??
        (accountId
          ? `arn:${
              partition ?? 'aws'
            }:iam::${accountId}:role${rolePath}${roleName}`
          : undefined),
      sharedRole: c.getOptionalBoolean('operator.sharedRole') ?? false,
    },
    gitops: gitops && {
      repoUrl: gitops.getString('repoUrl'),
      path: gitops.getOptionalString('path') ?? DEFAULT_GITOPS_PATH,
    },
    source: 'keda.clusters',
  };
}

/**
 * Reads the Kubernetes plugin's `type: config` cluster entries, mapping its
 * `authMetadata` keys (`kubernetes.io/auth-provider`,
 * `kubernetes.io/x-k8s-aws-id`, ...) to ours.
 */
function readKubernetesPluginCluster(
  c: Config,
  key: string,
): KedaClusterConfig {
  const meta = c.getOptional<Record<string, string>>('authMetadata') ?? {};
  const token =
    c.getOptionalString('serviceAccountToken') ?? meta.serviceAccountToken;
  const rawProvider =
    meta['kubernetes.io/auth-provider'] ?? c.getOptionalString('authProvider');
  const accountId = readAccountId(
    meta['kubernetes.io/aws-account-id'],
    `${key}.authMetadata['kubernetes.io/aws-account-id']`,
  );
  return {
    name: c.getString('name'),
    title: c.getOptionalString('title'),
    url: c.getString('url'),
    authProvider: readAuthProvider(
      rawProvider,
      token !== undefined,
      `${key}.authProvider`,
    ),
    serviceAccountToken: token,
    caData: c.getOptionalString('caData'),
    caFile: c.getOptionalString('caFile'),
    skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
    eks: {
      clusterName: meta['kubernetes.io/x-k8s-aws-id'],
      assumeRole: readRoleArn(
        c.getOptionalString('assumeRole') ??
          meta['kubernetes.io/aws-assume-role'],
        `${key}.assumeRole`,
      ),
      externalId:
        c.getOptionalString('externalId') ??
        meta['kubernetes.io/aws-external-id'],
    },
    accountId,
    identity: 'irsa',
    operator: {
      namespace: 'keda',
      serviceAccount: 'keda-operator',
      roleName: defaultOperatorRoleName(c.getString('name')),
      rolePath: '/',
      sharedRole: false,
    },
    source: 'kubernetes.clusterLocatorMethods',
  };
}

/** A cluster with the config key it was read from, for error messages. */
interface KeyedCluster {
  cluster: KedaClusterConfig;
  key: string;
}

/** The operator role ARN of a cluster, when its account is known. */
function operatorRoleArnOf(cluster: KedaClusterConfig): string | undefined {
  if (cluster.operator.roleArn) return cluster.operator.roleArn;
  if (!cluster.accountId) return undefined;
  return `arn:${cluster.partition ?? 'aws'}:iam::${cluster.accountId}:role${
    cluster.operator.rolePath
  }${cluster.operator.roleName}`;
}

/**
 * Refuses clusters that resolve to the same operator role unless all of
 * them set `operator.sharedRole: true`, and tells each sharing cluster the
 * OIDC issuers of the others (its trust lists them all). IAM role names are
 * unique per account regardless of path and letter case, so that is what
 * decides "the same role".
 */
function checkOperatorRoles(clusters: KeyedCluster[]): void {
  const groups = new Map<string, KeyedCluster[]>();
  for (const entry of clusters) {
    const arn = operatorRoleArnOf(entry.cluster);
    if (!arn) continue;
    const [, partition, , , accountId] = arn.split(':');
    const id = `${partition}:${accountId}:${entry.cluster.operator.roleName.toLowerCase()}`;
    groups.set(id, [...(groups.get(id) ?? []), entry]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const [first] = group;
    const arn = operatorRoleArnOf(first.cluster)!;
    const names = group
      .map(({ cluster, key }) => `'${cluster.name}' (${key})`)
      .join(' and ');
    const notShared = group.find(g => !g.cluster.operator.sharedRole);
    if (notShared) {
      fail(
        `${notShared.key}.operator`,
        `clusters ${names} resolve to the same KEDA operator role ${arn} (IAM role names are unique per account, whatever the path or letter case), so onboarding one cluster would rewrite the trust of the other's role and KEDA on either could act for both`,
        `Give each cluster its own operator role: leave operator.roleName and operator.roleArn unset for the default keda-operator-<cluster name>, or set different names. To share the role on purpose, set operator.sharedRole: true on every one of these clusters; its trust then lists each sharing cluster's OIDC issuer`,
      );
    }
    for (const { cluster, key } of group) {
      if (operatorRoleArnOf(cluster) !== arn) {
        fail(
          `${key}.operator`,
          `cluster '${cluster.name}' shares the operator role of '${
            first.cluster.name
          }' but names it ${operatorRoleArnOf(cluster)} instead of ${arn}`,
          'Use the same operator.roleName and operator.rolePath (same letter case) on every cluster that sets operator.sharedRole',
        );
      }
      if (cluster.identity !== 'irsa') {
        fail(
          `${key}.operator.sharedRole`,
          `cluster '${cluster.name}' uses identity '${cluster.identity}'; a shared operator role is supported for IRSA only`,
          'Give this cluster its own operator role (remove operator.sharedRole and operator.roleName)',
        );
      }
      if (!cluster.oidcIssuer) {
        fail(
          `${key}.oidcIssuer`,
          `is not set, but cluster '${cluster.name}' shares its operator role and the role's trust must list every sharing cluster's OIDC issuer`,
          "Set it to the cluster's issuer URL (aws eks describe-cluster --query cluster.identity.oidc.issuer)",
        );
      }
      if (
        cluster.operator.namespace !== first.cluster.operator.namespace ||
        cluster.operator.serviceAccount !==
          first.cluster.operator.serviceAccount
      ) {
        fail(
          `${key}.operator`,
          `cluster '${cluster.name}' runs the KEDA operator as ${cluster.operator.namespace}/${cluster.operator.serviceAccount} but '${first.cluster.name}', which shares the role, as ${first.cluster.operator.namespace}/${first.cluster.operator.serviceAccount}`,
          'Clusters sharing an operator role must use the same operator.namespace and operator.serviceAccount',
        );
      }
    }
    for (const { cluster } of group) {
      cluster.operator.sharedIssuers = group
        .filter(other => other.cluster !== cluster)
        .map(other => other.cluster.oidcIssuer!);
    }
  }
}

function readClusters(config: Config): KedaClusterConfig[] {
  // The Kubernetes plugin's `type: config` entries (catalog/gke/
  // localKubectlProxy locators are not read: they need the Kubernetes
  // plugin's own services).
  const kubernetesPluginClusters: KeyedCluster[] = [];
  const methods =
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
  methods.forEach((method, m) => {
    if (method.getString('type') !== 'config') return;
    (method.getOptionalConfigArray('clusters') ?? []).forEach((c, i) => {
      const key = `kubernetes.clusterLocatorMethods[${m}].clusters[${i}]`;
      kubernetesPluginClusters.push({
        cluster: readKubernetesPluginCluster(c, key),
        key,
      });
    });
  });

  // An entry in keda.clusters wins over the Kubernetes plugin's entry of the
  // same name: that is how a portal adds KEDA facts (account, region,
  // operator role, GitOps repository) to a cluster it already configured for
  // the Kubernetes plugin — without a url it reuses that entry's connection.
  const own: KeyedCluster[] = (
    config.getOptionalConfigArray('keda.clusters') ?? []
  ).map((c, i) => ({
    cluster: readKedaCluster(
      c,
      `keda.clusters[${i}]`,
      kubernetesPluginClusters.find(k => k.cluster.name === c.getString('name'))
        ?.cluster,
    ),
    key: `keda.clusters[${i}]`,
  }));
  const seen = new Set<string>();
  own.forEach(({ cluster: c }, i) => {
    if (seen.has(c.name)) {
      fail(
        `keda.clusters[${i}].name`,
        `cluster name '${c.name}' is used twice`,
        'Give every cluster a unique name',
      );
    }
    seen.add(c.name);
  });
  const merged = [...own];
  for (const entry of kubernetesPluginClusters) {
    if (!seen.has(entry.cluster.name)) {
      seen.add(entry.cluster.name);
      merged.push(entry);
    }
  }
  checkOperatorRoles(merged);
  return merged.map(entry => entry.cluster);
}

function readRoles(config: Config): ResolvedKedaRolesConfig {
  const path = readIamPath(
    config.getOptionalString('keda.roles.path') ?? DEFAULT_KEDA_ROLES.path,
    'keda.roles.path',
  );
  const namePrefix =
    config.getOptionalString('keda.roles.namePrefix') ??
    DEFAULT_KEDA_ROLES.namePrefix;
  if (!/^[\w+=,.@-]{0,40}$/.test(namePrefix)) {
    fail(
      'keda.roles.namePrefix',
      `'${namePrefix}' contains characters IAM role names do not allow or is longer than 40 characters`,
      'Use letters, digits and +=,.@_- only',
    );
  }
  const boundary = config.getOptionalString(
    'keda.roles.permissionsBoundaryArn',
  );
  if (
    boundary !== undefined &&
    !/^arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy\/.+$/.test(boundary)
  ) {
    fail(
      'keda.roles.permissionsBoundaryArn',
      `'${boundary}' is not an IAM policy ARN`,
      "Use 'arn:aws:iam::<account>:policy/<name>'",
    );
  }
  return {
    path,
    namePrefix,
    permissionsBoundaryArn: boundary,
    tags: config.getOptional<Record<string, string>>('keda.roles.tags') ?? {
      ...DEFAULT_KEDA_ROLES.tags,
    },
    trustOperatorWebIdentity:
      config.getOptionalBoolean('keda.roles.trustOperatorWebIdentity') ??
      DEFAULT_KEDA_ROLES.trustOperatorWebIdentity,
    adoptExistingRoles:
      config.getOptionalBoolean('keda.roles.adoptExistingRoles') ??
      DEFAULT_KEDA_ROLES.adoptExistingRoles,
  };
}

function readAllowedSqsEndpoints(config: Config): string[] {
  const key = 'keda.guardrails.allowedSqsEndpoints';
  const endpoints = config.getOptionalStringArray(key) ?? [];
  endpoints.forEach((endpoint, i) => {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      url.protocol !== 'https:' ||
      url.username ||
      url.password ||
      url.search ||
      url.hash
    ) {
      fail(
        `${key}[${i}]`,
        `'${endpoint}' is not an https URL of an SQS endpoint`,
        "Use the endpoint's https URL without user info or query, e.g. 'https://vpce-0123-abcd.sqs.eu-west-1.vpce.amazonaws.com'",
      );
    }
  });
  return endpoints;
}

function readGuardrails(
  config: Config,
  clusters: KedaClusterConfig[],
): KedaGuardrailsConfig {
  const allowed =
    config.getOptionalStringArray('keda.guardrails.allowedQueueAccounts') ?? [];
  allowed.forEach((a, i) =>
    readAccountId(a, `keda.guardrails.allowedQueueAccounts[${i}]`),
  );
  const clusterNames = new Set(clusters.map(c => c.name));
  const checkClusters = (names: string[] | undefined, key: string) =>
    names?.forEach((n, i) => {
      if (!clusterNames.has(n)) {
        fail(
          `${key}[${i}]`,
          `cluster '${n}' is not configured`,
          `Use one of: ${
            [...clusterNames].join(', ') || '(no clusters configured)'
          }`,
        );
      }
    });
  const allowedClusters = config.getOptionalStringArray(
    'keda.guardrails.allowedClusters',
  );
  checkClusters(allowedClusters, 'keda.guardrails.allowedClusters');
  const maxReplicas =
    config.getOptionalNumber('keda.guardrails.maxReplicas') ??
    DEFAULT_MAX_REPLICAS;
  if (!Number.isInteger(maxReplicas) || maxReplicas < 1) {
    fail(
      'keda.guardrails.maxReplicas',
      `${maxReplicas} is not a positive integer`,
      'Set the largest maxReplicaCount a request may ask for',
    );
  }
  const auto = config.getOptionalConfig('keda.guardrails.autoApprove');
  let autoApprove: KedaAutoApproveConfig | undefined;
  if (auto) {
    const autoMax = auto.getOptionalNumber('maxReplicas');
    if (autoMax !== undefined && autoMax > maxReplicas) {
      fail(
        'keda.guardrails.autoApprove.maxReplicas',
        `${autoMax} exceeds keda.guardrails.maxReplicas (${maxReplicas})`,
        'Lower it; auto-approval must sit inside the guardrails',
      );
    }
    const autoAccounts = auto.getOptionalStringArray('queueAccounts');
    autoAccounts?.forEach((a, i) => {
      readAccountId(a, `keda.guardrails.autoApprove.queueAccounts[${i}]`);
      if (!allowed.includes(a)) {
        fail(
          `keda.guardrails.autoApprove.queueAccounts[${i}]`,
          `account ${a} is not in keda.guardrails.allowedQueueAccounts`,
          'Add it there first or remove it here',
        );
      }
    });
    const autoClusters = auto.getOptionalStringArray('clusters');
    checkClusters(autoClusters, 'keda.guardrails.autoApprove.clusters');
    autoApprove = {
      maxReplicas: autoMax,
      queueAccounts: autoAccounts,
      clusters: autoClusters,
    };
  }
  return {
    allowedQueueAccounts: allowed,
    allowedClusters,
    maxReplicas,
    autoApprove,
    requireOwnership:
      config.getOptionalBoolean('keda.guardrails.requireOwnership') ?? true,
    allowedSqsEndpoints: readAllowedSqsEndpoints(config),
  };
}

/**
 * Reads `keda.approvals` alone — for callers that need no clusters (the
 * permission policy); `readKedaConfig` uses it too, so both see the same
 * defaults. Throws an `InputError` naming the key and the fix.
 * @public
 */
export function readKedaApprovals(config: Config): KedaApprovalsConfig {
  const groups = config.getOptionalStringArray(
    'keda.approvals.approverGroups',
  ) ?? [...DEFAULT_APPROVER_GROUPS];
  groups.forEach((g, i) => {
    if (!/^group:[^/]+\/.+$/.test(g)) {
      fail(
        `keda.approvals.approverGroups[${i}]`,
        `'${g}' is not a full group entity ref`,
        "Use 'group:<namespace>/<name>', e.g. 'group:default/platform-team'",
      );
    }
  });
  return {
    approverGroups: groups,
    allowSelfApproval:
      config.getOptionalBoolean('keda.approvals.allowSelfApproval') ?? false,
  };
}

function readStatus(config: Config): KedaStatusConfig {
  const hours =
    config.getOptionalNumber('keda.status.historyRetentionHours') ?? 24;
  if (!(hours > 0)) {
    fail(
      'keda.status.historyRetentionHours',
      `${hours} is not positive`,
      'Use a number of hours, e.g. 24',
    );
  }
  return { historyRetentionHours: hours };
}

function readTemplates(config: Config): KedaTemplatesConfig {
  const key = 'keda.templates.provisioning';
  const provisioning =
    config.getOptionalString(key) ?? DEFAULT_KEDA_TEMPLATES.provisioning;
  const fix = `Use a template ref, e.g. ${DEFAULT_KEDA_TEMPLATES.provisioning}`;
  let ref: CompoundEntityRef | undefined;
  try {
    ref = parseEntityRef(provisioning, {
      defaultKind: 'template',
      defaultNamespace: 'default',
    });
  } catch {
    // reported below
  }
  if (
    !ref ||
    !KubernetesValidatorFunctions.isValidNamespace(ref.namespace) ||
    !KubernetesValidatorFunctions.isValidObjectName(ref.name)
  ) {
    return fail(
      key,
      `"${provisioning}" is not an entity ref ([template:][<namespace>/]<name>)`,
      fix,
    );
  }
  if (ref.kind.toLocaleLowerCase('en-US') !== 'template') {
    fail(key, `"${provisioning}" is a ${ref.kind}, not a template`, fix);
  }
  return { provisioning: stringifyEntityRef(ref) };
}

/**
 * Reads and validates the whole `keda.*` block (plus the Kubernetes plugin's
 * `config` cluster locator). Throws an `InputError` naming the config key and
 * the fix on the first problem, so a misconfigured portal fails at startup.
 * @public
 */
export function readKedaConfig(config: Config): KedaConfig {
  const clusters = readClusters(config);
  return {
    clusters,
    roles: readRoles(config),
    guardrails: readGuardrails(config, clusters),
    approvals: readKedaApprovals(config),
    status: readStatus(config),
    templates: readTemplates(config),
  };
}

/**
 * The AWS/KEDA facts of a cluster in keda-common's `KedaClusterSpec` shape,
 * for the plan builders. Throws when a fact the plan needs is missing,
 * naming the config key to set.
 * @public
 */
export function clusterSpecOf(cluster: KedaClusterConfig) {
  const need = <T>(value: T | undefined, field: string, example: string): T => {
    if (value === undefined) {
      fail(
        `keda.clusters[name=${cluster.name}].${field}`,
        'is not set',
        `Set it (e.g. ${example}); KEDA requests for this cluster need it`,
      );
    }
    return value;
  };
  const region = need(cluster.region, 'region', "'eu-west-1'");
  return {
    name: cluster.name,
    accountId: need(cluster.accountId, 'accountId', "'111111111111'"),
    region,
    partition: cluster.partition ?? partitionForRegion(region),
    oidcIssuer: cluster.oidcIssuer,
    kedaVersion: need(cluster.kedaVersion, 'kedaVersion', "'2.20.2'"),
    identity: cluster.identity,
    operator: {
      namespace: cluster.operator.namespace,
      serviceAccount: cluster.operator.serviceAccount,
      roleName: cluster.operator.roleName,
      rolePath: cluster.operator.rolePath,
      ...(cluster.operator.sharedIssuers?.length
        ? { sharedIssuers: [...cluster.operator.sharedIssuers] }
        : {}),
    },
    gitops: cluster.gitops && { ...cluster.gitops },
  };
}
