import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';

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

/** AWS facts about an EKS cluster (account A). @public */
export interface KedaClusterAwsConfig {
  /** Account that owns the cluster (account A). */
  accountId?: string;
  region?: string;
  /** EKS cluster name as sent in `x-k8s-aws-id`; defaults to the cluster name. */
  clusterName?: string;
  /** Role to assume before minting the EKS token. */
  assumeRole?: string;
  externalId?: string;
}

/** The KEDA operator identity in a cluster. @public */
export interface KedaOperatorConfig {
  namespace: string;
  serviceAccount: string;
  /** IRSA role of the operator in account A. */
  roleArn?: string;
}

/** Where a cluster's manifests live in the GitOps repository. @public */
export interface KedaGitOpsConfig {
  /** Scaffolder repoUrl form: `github.com?owner=<o>&repo=<r>`. */
  repoUrl: string;
  /** Path pattern, placeholders `{cluster}`, `{namespace}`, `{name}`. */
  pathPattern: string;
  branch?: string;
}

/**
 * One cluster KEDA runs in, read from `keda.clusters[]` or from the Kubernetes
 * plugin's `kubernetes.clusterLocatorMethods[type=config].clusters[]`.
 * @public
 */
export interface KedaClusterConfig {
  name: string;
  title?: string;
  url: string;
  authProvider: KedaClusterAuthProvider;
  serviceAccountToken?: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  aws: KedaClusterAwsConfig;
  oidcIssuer?: string;
  kedaVersion?: string;
  operator: KedaOperatorConfig;
  gitops?: KedaGitOpsConfig;
  /** Where the entry came from, for error messages and `GET /clusters`. */
  source: 'keda.clusters' | 'kubernetes.clusterLocatorMethods';
}

/** `keda.roles`: how scaler roles in the queue accounts are named and fenced. @public */
export interface KedaRolesConfig {
  path: string;
  namePrefix: string;
  permissionsBoundary?: string;
  tags: Record<string, string>;
}

/** `keda.guardrails.autoApprove`: inside these bounds no approval is needed. @public */
export interface KedaAutoApproveConfig {
  enabled: boolean;
  maxReplicas?: number;
  queueAccounts?: string[];
  namespaces?: string[];
}

/** `keda.guardrails`. @public */
export interface KedaGuardrailsConfig {
  /** Empty means: no account is allowed (explicit allow-list). */
  allowedQueueAccounts: string[];
  maxReplicas: number;
  autoApprove: KedaAutoApproveConfig;
}

/** `keda.approvals`. @public */
export interface KedaApprovalsConfig {
  /** Entity refs of groups whose members may approve, e.g. `group:default/platform-team`. */
  approverGroups: string[];
}

/** `keda.status`: tuning of the status API's caches. @public */
export interface KedaStatusConfig {
  /** How long events read on demand are reused, in seconds. */
  eventsCacheTtlSeconds: number;
  /** How long replica/depth history is retained, in hours. */
  historyRetentionHours: number;
}

/** The whole `keda.*` block, typed and validated. @public */
export interface KedaConfig {
  clusters: KedaClusterConfig[];
  roles: KedaRolesConfig;
  guardrails: KedaGuardrailsConfig;
  approvals: KedaApprovalsConfig;
  status: KedaStatusConfig;
}

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/.+$/;
const DEFAULT_MAX_REPLICAS = 100;

/** Defaults used when `keda.roles` is absent; documented in config.d.ts. @public */
export const DEFAULT_KEDA_ROLES: KedaRolesConfig = {
  path: '/keda/',
  namePrefix: 'keda-sqs-',
  tags: {},
};

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
  if (raw === undefined) {
    return hasToken ? 'serviceAccount' : 'inCluster';
  }
  if (raw === 'serviceAccount')
    return hasToken ? 'serviceAccount' : 'inCluster';
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

function accountOfRoleArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[4];
}

function readKedaCluster(c: Config, key: string): KedaClusterConfig {
  const name = c.getString('name');
  const url = c.getString('url');
  const token = c.getOptionalString('serviceAccountToken');
  const authProvider = readAuthProvider(
    c.getOptionalString('authProvider'),
    token !== undefined,
    `${key}.authProvider`,
  );
  const awsBlock = c.getOptionalConfig('aws');
  const operatorRoleArn = readRoleArn(
    c.getOptionalString('operator.roleArn'),
    `${key}.operator.roleArn`,
  );
  const gitops = c.getOptionalConfig('gitops');
  return {
    name,
    title: c.getOptionalString('title'),
    url,
    authProvider,
    serviceAccountToken: token,
    caData: c.getOptionalString('caData'),
    caFile: c.getOptionalString('caFile'),
    skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
    aws: {
      accountId:
        readAccountId(
          awsBlock?.getOptionalString('accountId'),
          `${key}.aws.accountId`,
        ) ?? accountOfRoleArn(operatorRoleArn),
      region: awsBlock?.getOptionalString('region'),
      clusterName: awsBlock?.getOptionalString('clusterName'),
      assumeRole: readRoleArn(
        awsBlock?.getOptionalString('assumeRole'),
        `${key}.aws.assumeRole`,
      ),
      externalId: awsBlock?.getOptionalString('externalId'),
    },
    oidcIssuer: c.getOptionalString('oidcIssuer'),
    kedaVersion: c.getOptionalString('kedaVersion'),
    operator: {
      namespace: c.getOptionalString('operator.namespace') ?? 'keda',
      serviceAccount:
        c.getOptionalString('operator.serviceAccount') ?? 'keda-operator',
      roleArn: operatorRoleArn,
    },
    gitops: gitops && {
      repoUrl: gitops.getString('repoUrl'),
      pathPattern:
        gitops.getOptionalString('pathPattern') ??
        '{cluster}/{namespace}/{name}',
      branch: gitops.getOptionalString('branch'),
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
  const name = c.getString('name');
  const meta = c.getOptional<Record<string, string>>('authMetadata') ?? {};
  const token =
    c.getOptionalString('serviceAccountToken') ?? meta.serviceAccountToken;
  const rawProvider =
    meta['kubernetes.io/auth-provider'] ?? c.getOptionalString('authProvider');
  const assumeRole =
    c.getOptionalString('assumeRole') ?? meta['kubernetes.io/aws-assume-role'];
  return {
    name,
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
    aws: {
      accountId: readAccountId(
        meta['kubernetes.io/aws-account-id'],
        `${key}.authMetadata`,
      ),
      clusterName: meta['kubernetes.io/x-k8s-aws-id'],
      assumeRole: readRoleArn(assumeRole, `${key}.assumeRole`),
      externalId:
        c.getOptionalString('externalId') ??
        meta['kubernetes.io/aws-external-id'],
    },
    operator: { namespace: 'keda', serviceAccount: 'keda-operator' },
    source: 'kubernetes.clusterLocatorMethods',
  };
}

function readClusters(config: Config): KedaClusterConfig[] {
  const own = (config.getOptionalConfigArray('keda.clusters') ?? []).map(
    (c, i) => readKedaCluster(c, `keda.clusters[${i}]`),
  );
  const fromKubernetesPlugin: KedaClusterConfig[] = [];
  (
    config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? []
  ).forEach((method, m) => {
    if (method.getString('type') !== 'config') return; // catalog/gke locators need their own plugin
    (method.getOptionalConfigArray('clusters') ?? []).forEach((c, i) =>
      fromKubernetesPlugin.push(
        readKubernetesPluginCluster(
          c,
          `kubernetes.clusterLocatorMethods[${m}].clusters[${i}]`,
        ),
      ),
    );
  });

  const seen = new Set<string>();
  own.forEach((c, i) => {
    if (seen.has(c.name)) {
      fail(
        `keda.clusters[${i}].name`,
        `cluster name '${c.name}' is used twice`,
        'Give every cluster a unique name',
      );
    }
    seen.add(c.name);
  });
  // An entry in keda.clusters overrides the Kubernetes plugin's entry of the
  // same name: that is how a portal adds KEDA facts (operator role, OIDC
  // issuer) to a cluster it already configured for the Kubernetes plugin.
  const merged = [...own];
  for (const c of fromKubernetesPlugin) {
    if (!seen.has(c.name)) {
      seen.add(c.name);
      merged.push(c);
    }
  }
  return merged;
}

function readRoles(config: Config): KedaRolesConfig {
  const path =
    config.getOptionalString('keda.roles.path') ?? DEFAULT_KEDA_ROLES.path;
  if (!path.startsWith('/') || !path.endsWith('/') || path.length > 512) {
    fail(
      'keda.roles.path',
      `'${path}' is not an IAM path`,
      "An IAM path starts and ends with '/' and is at most 512 characters, e.g. '/keda/'",
    );
  }
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
  const boundary = config.getOptionalString('keda.roles.permissionsBoundary');
  if (
    boundary !== undefined &&
    !/^arn:aws(-cn|-us-gov)?:iam::(\d{12}|aws):policy\/.+$/.test(boundary)
  ) {
    fail(
      'keda.roles.permissionsBoundary',
      `'${boundary}' is not an IAM policy ARN`,
      "Use 'arn:aws:iam::<account>:policy/<name>'",
    );
  }
  return {
    path,
    namePrefix,
    permissionsBoundary: boundary,
    tags: config.getOptional<Record<string, string>>('keda.roles.tags') ?? {},
  };
}

function readGuardrails(config: Config): KedaGuardrailsConfig {
  const allowed =
    config.getOptionalStringArray('keda.guardrails.allowedQueueAccounts') ?? [];
  allowed.forEach((a, i) =>
    readAccountId(a, `keda.guardrails.allowedQueueAccounts[${i}]`),
  );
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
  const autoMax = auto?.getOptionalNumber('maxReplicas');
  if (autoMax !== undefined && autoMax > maxReplicas) {
    fail(
      'keda.guardrails.autoApprove.maxReplicas',
      `${autoMax} exceeds keda.guardrails.maxReplicas (${maxReplicas})`,
      'Lower it; auto-approval must sit inside the guardrails',
    );
  }
  const autoAccounts = auto?.getOptionalStringArray('queueAccounts');
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
  return {
    allowedQueueAccounts: allowed,
    maxReplicas,
    autoApprove: {
      enabled: auto?.getOptionalBoolean('enabled') ?? auto !== undefined,
      maxReplicas: autoMax,
      queueAccounts: autoAccounts,
      namespaces: auto?.getOptionalStringArray('namespaces'),
    },
  };
}

function readApprovals(config: Config): KedaApprovalsConfig {
  const groups =
    config.getOptionalStringArray('keda.approvals.approverGroups') ?? [];
  groups.forEach((g, i) => {
    if (!/^group:[^/]+\/.+$/.test(g)) {
      fail(
        `keda.approvals.approverGroups[${i}]`,
        `'${g}' is not a full group entity ref`,
        "Use 'group:<namespace>/<name>', e.g. 'group:default/platform-team'",
      );
    }
  });
  return { approverGroups: groups };
}

function readStatus(config: Config): KedaStatusConfig {
  const ttl =
    config.getOptionalNumber('keda.status.eventsCacheTtlSeconds') ?? 10;
  const hours =
    config.getOptionalNumber('keda.status.historyRetentionHours') ?? 24;
  if (!(ttl >= 0))
    fail(
      'keda.status.eventsCacheTtlSeconds',
      `${ttl} is negative`,
      'Use 0 to disable or a number of seconds',
    );
  if (!(hours > 0))
    fail(
      'keda.status.historyRetentionHours',
      `${hours} is not positive`,
      'Use a number of hours, e.g. 24',
    );
  return { eventsCacheTtlSeconds: ttl, historyRetentionHours: hours };
}

/**
 * Reads and validates the whole `keda.*` block (plus the Kubernetes plugin's
 * `config` cluster locator). Throws an `InputError` naming the config key and
 * the fix on the first problem, so a misconfigured portal fails at startup.
 * @public
 */
export function readKedaConfig(config: Config): KedaConfig {
  return {
    clusters: readClusters(config),
    roles: readRoles(config),
    guardrails: readGuardrails(config),
    approvals: readApprovals(config),
    status: readStatus(config),
  };
}
