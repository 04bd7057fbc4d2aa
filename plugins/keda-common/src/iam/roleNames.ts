import { fitName, stableHash } from '../names';
import type { AwsPartition } from '../queueUrl';

/** IAM: role names are 1–64 characters of `[\w+=,.@-]`. @public */
export const IAM_ROLE_NAME_MAX = 64;
const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
// IAM: a path is `/` or `/…/`, at most 512 printable ASCII characters.
const ROLE_PATH_PATTERN = /^\/(?:[\u0021-\u007E]*\/)?$/;
// STS: an ExternalId is 2–1224 characters of `[\w+=,.@:/-]`.
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * Checks an IAM role name; the error names the config field to fix.
 * @public
 */
export function assertIamRoleName(name: string, field: string): void {
  if (!ROLE_NAME_PATTERN.test(name)) {
    throw new Error(
      `${field} "${name}" is not a valid IAM role name: 1–64 characters of letters, digits and + = , . @ _ -`,
    );
  }
}

/**
 * Checks an IAM path (`/keda/`); the error names the config field to fix.
 * @public
 */
export function assertIamPath(path: string, field: string): void {
  if (path.length > 512 || !ROLE_PATH_PATTERN.test(path)) {
    throw new Error(
      `${field} "${path}" is not a valid IAM path: it must start and end with "/" (e.g. /keda/) and be at most 512 printable characters`,
    );
  }
}

/**
 * Checks an ExternalId; STS rejects anything else before evaluating trust.
 * @public
 */
export function assertExternalId(externalId: string): void {
  if (!EXTERNAL_ID_PATTERN.test(externalId)) {
    throw new Error(
      `externalId must be 2–1224 characters of letters, digits and + = , . @ : / _ -; got ${externalId.length} characters`,
    );
  }
}

/**
 * `arn:<partition>:iam::<account>:role<path><name>`.
 * @public
 */
export function iamRoleArn(
  partition: AwsPartition,
  accountId: string,
  path: string,
  name: string,
): string {
  return `arn:${partition}:iam::${accountId}:role${path}${name}`;
}

/**
 * `arn:<partition>:iam::<account>:oidc-provider/<issuer without https://>`,
 * the principal IRSA trust policies name.
 * @public
 */
export function oidcProviderArn(
  partition: AwsPartition,
  accountId: string,
  issuer: string,
): string {
  return `arn:${partition}:iam::${accountId}:oidc-provider/${oidcIssuerHostPath(
    issuer,
  )}`;
}

/**
 * The issuer as IAM condition keys spell it: no scheme, no trailing slash
 * (`oidc.eks.eu-west-1.amazonaws.com/id/ABC`).
 * @public
 */
export function oidcIssuerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/**
 * The scaler role's name: `<prefix><cluster>-<namespace>-<workload>-<hash>`.
 * The readable part is lower-cased, cleaned to IAM's characters and cut so
 * the whole name fits IAM's 64 characters; the suffix is always the first 8
 * hex characters of SHA-256 over the exact identity
 * `<cluster>/<namespace>/<kind>/<name>`. So the same workload always maps to
 * the same role (re-runs converge), and two workloads never share one — not
 * `prod-eu/team-a/worker` and `prod-eu/team/a-worker`, not a Deployment and
 * a StatefulSet of the same name, not clusters differing only in case (IAM
 * role names are unique case-insensitively).
 *
 * @throws Error when the prefix leaves no room for the identity.
 * @public
 */
export function scalerRoleName(input: {
  namePrefix: string;
  cluster: string;
  namespace: string;
  workloadKind: string;
  workloadName: string;
}): string {
  const { namePrefix, cluster, namespace, workloadKind, workloadName } = input;
  const hash = stableHash(
    `${cluster}/${namespace}/${workloadKind}/${workloadName}`,
  );
  // Room for the readable part: 64 - prefix - "-" - 8 hash characters.
  const room = IAM_ROLE_NAME_MAX - namePrefix.length - 1 - hash.length;
  if (room < 1) {
    throw new Error(
      `keda.roles.namePrefix "${namePrefix}" is ${
        namePrefix.length
      } characters; scaler role names need at most ${
        IAM_ROLE_NAME_MAX - 10
      } for the prefix so that the workload and its hash still fit IAM's ${IAM_ROLE_NAME_MAX}`,
    );
  }
  const readable =
    `${cluster}-${namespace}-${workloadName}`
      .toLowerCase()
      .replace(/[^\w+=,.@-]+/g, '-')
      .slice(0, room)
      // Only the variable part is trimmed: the prefix stays exactly as
      // configured, because the operator role may assume `<prefix>*` only.
      .replace(/[-_.]+$/, '') || 'x';
  return `${namePrefix}${readable}-${hash}`;
}

/** Name prefix of the default per-cluster KEDA operator role. @public */
export const DEFAULT_OPERATOR_ROLE_NAME_PREFIX = 'keda-operator-';

/**
 * The KEDA operator role's name when `keda.clusters[].operator.roleName` is
 * not configured: `keda-operator-<cluster name>`, characters IAM refuses
 * replaced by `-`, cut to 64 with a hash of the cluster name when longer.
 * One role per cluster, so clusters never share (or take over) an operator
 * role unless the platform team says so (`operator.sharedRole`).
 * @public
 */
export function defaultOperatorRoleName(clusterName: string): string {
  return fitName(
    `${DEFAULT_OPERATOR_ROLE_NAME_PREFIX}${clusterName}`.replace(
      /[^\w+=,.@-]+/g,
      '-',
    ),
    IAM_ROLE_NAME_MAX,
    clusterName,
  );
}

/**
 * A fresh ExternalId for a scaler role: 128 random bits as 32 hex characters,
 * from the platform's CSPRNG (Node 22 and browsers both have Web Crypto).
 * @public
 */
export function generateExternalId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}
