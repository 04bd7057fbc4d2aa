import { stableHash } from '../names';
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
 * The scaler role's name: `<prefix><cluster>-<namespace>-<workload>`, cut to
 * IAM's 64 characters with a stable hash suffix of the full identity when too
 * long, so the same workload always maps to the same role (re-runs converge)
 * and two workloads never share one.
 * @public
 */
export function scalerRoleName(input: {
  namePrefix: string;
  cluster: string;
  namespace: string;
  workloadName: string;
}): string {
  const { namePrefix, cluster, namespace, workloadName } = input;
  const identity = `${cluster}-${namespace}-${workloadName}`;
  // IAM role names are unique case-insensitively: lower-case the variable
  // part, and whenever that or the character clean-up changed anything (or
  // the name is too long), append a hash of the exact identity so that
  // "Prod" and "prod" clusters, or "a/b" and "a:b", never share a role.
  const cleaned = identity.toLowerCase().replace(/[^\w+=,.@-]+/g, '-');
  if (
    cleaned === identity &&
    namePrefix.length + identity.length <= IAM_ROLE_NAME_MAX
  ) {
    return `${namePrefix}${identity}`;
  }
  const key = `${cluster}/${namespace}/${workloadName}`;
  const head = `${namePrefix}${cleaned}`
    .slice(0, IAM_ROLE_NAME_MAX - 9)
    .replace(/[-_.]+$/, '');
  return `${head}-${stableHash(key)}`;
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
