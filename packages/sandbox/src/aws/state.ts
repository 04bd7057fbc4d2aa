/*
 * The stand-in's whole world as plain JSON: accounts with their IAM entities,
 * OIDC providers, SQS queues (with messages) and EKS clusters, plus every
 * access key the stand-in knows. Persisted atomically (temp file + rename)
 * so a crash mid-write never leaves a half-written state file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomId } from './wire';

export interface Tag {
  Key: string;
  Value: string;
}

export interface RoleRecord {
  roleName: string;
  path: string;
  /** AROA… — what other policies store when they name this role. */
  roleId: string;
  arn: string;
  createDate: string;
  /**
   * Trust policy JSON as IAM keeps it: role/user principals replaced by
   * their unique ids at save time (rendered back to ARNs while they exist).
   */
  trustPolicy: string;
  description?: string;
  maxSessionDuration: number;
  permissionsBoundaryArn?: string;
  tags: Tag[];
  inlinePolicies: Record<string, string>;
  attachedPolicyArns: string[];
  /** Last time a session of this role was issued (GetRole's RoleLastUsed). */
  lastUsed?: { date: string; region: string };
}

export interface UserRecord {
  userName: string;
  path: string;
  userId: string;
  arn: string;
  createDate: string;
  inlinePolicies: Record<string, string>;
  attachedPolicyArns: string[];
}

export interface ManagedPolicyRecord {
  policyName: string;
  path: string;
  policyId: string;
  arn: string;
  document: string;
  createDate: string;
}

export interface OidcProviderRecord {
  arn: string;
  /** Issuer without scheme, e.g. `oidc.eks.eu-west-1.amazonaws.com/id/ABC`. */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Tag[];
  createDate: string;
}

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface MessageRecord {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  /** Epoch ms from which the message can be received (delay or visibility timeout). */
  visibleAt: number;
  /** Set while a receive holds the message (in flight). */
  receiptHandle?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** True until the message's DelaySeconds have passed. */
  delayed: boolean;
  /** Message attributes as sent (BinaryValue base64-encoded, as on the JSON wire). */
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  /** FIFO queues: message group, deduplication id and sequence number. */
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
}

export interface QueueRecord {
  name: string;
  region: string;
  accountId: string;
  arn: string;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  /** Settable attributes (VisibilityTimeout, DelaySeconds, Policy …) as strings, like SQS. */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  messages: MessageRecord[];
  /** FIFO queues: last sequence number and the deduplication ids of the last 5 minutes. */
  fifoSequence?: number;
  recentDeduplication?: Record<
    string,
    { messageId: string; sequenceNumber: string; at: number }
  >;
}

export interface ClusterRecord {
  name: string;
  region: string;
  arn: string;
  endpoint: string;
  oidcIssuer: string;
  version: string;
  status: string;
  roleArn: string;
  createdAt: string;
  certificateAuthorityData: string;
  tags: Record<string, string>;
  /** EKS add-ons by name (e.g. `eks-pod-identity-agent`); absent in older state files. */
  addons?: Record<string, AddonRecord>;
  /** EKS Pod Identity associations by id; absent in older state files. */
  podIdentityAssociations?: Record<string, PodIdentityAssociationRecord>;
}

export interface AddonRecord {
  addonName: string;
  addonVersion: string;
  addonArn: string;
  /** ACTIVE, DEGRADED, CREATING … as DescribeAddon reports it. */
  status: string;
  createdAt: string;
  modifiedAt: string;
  tags: Record<string, string>;
}

export interface PodIdentityAssociationRecord {
  /** `a-` and 17 characters, like EKS's ids. */
  associationId: string;
  associationArn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  disableSessionTags: boolean;
  createdAt: string;
  modifiedAt: string;
  tags: Record<string, string>;
  /** The create call's idempotency token, so a retried create returns this association. */
  clientRequestToken?: string;
}

export interface AccountRecord {
  id: string;
  alias?: string;
  /** Keyed by lower-cased name: IAM names are unique case-insensitively. */
  users: Record<string, UserRecord>;
  roles: Record<string, RoleRecord>;
  policies: Record<string, ManagedPolicyRecord>;
  oidcProviders: Record<string, OidcProviderRecord>;
  /** Keyed by `<region>/<queueName>`. */
  queues: Record<string, QueueRecord>;
  /** Keyed by `<region>/<clusterName>`. */
  clusters: Record<string, ClusterRecord>;
}

export type AccessKeyKind = 'root' | 'user' | 'assumed-role';

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  kind: AccessKeyKind;
  accountId: string;
  /** Caller ARN: root, user or `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  principalArn: string;
  userName?: string;
  roleName?: string;
  /** The role incarnation the session belongs to; a recreated role does not inherit it. */
  roleId?: string;
  sessionName?: string;
  /** ISO time; absent for long-lived keys. */
  expiration?: string;
  /** The session was obtained with role credentials (role chaining: max 1 hour). */
  chained?: boolean;
  /** Session tags passed to AssumeRole (visible as aws:PrincipalTag/<key>). */
  sessionTags?: Record<string, string>;
  /**
   * Keys of sessionTags that pass on to sessions this one assumes (role
   * chaining); all EKS Pod Identity tags are transitive.
   */
  transitiveTagKeys?: string[];
  /** For web-identity sessions: the token's `sub`. */
  webIdentitySubject?: string;
}

export interface StateData {
  version: 1;
  accounts: Record<string, AccountRecord>;
  accessKeys: Record<string, AccessKeyRecord>;
  /**
   * Signing keys (JWKS) per OIDC issuer URL. When an issuer has keys here,
   * AssumeRoleWithWebIdentity verifies token signatures against them; the
   * stand-in never fetches keys over the network.
   */
  issuerKeys?: Record<string, { keys: JsonWebKey[] }>;
}

export function emptyState(): StateData {
  return { version: 1, accounts: {}, accessKeys: {} };
}

export function emptyAccount(id: string, alias?: string): AccountRecord {
  return {
    id,
    ...(alias ? { alias } : {}),
    users: {},
    roles: {},
    policies: {},
    oidcProviders: {},
    queues: {},
    clusters: {},
  };
}

/** Load a state file; a missing file is an empty world. */
export function loadState(file: string | undefined): StateData {
  if (!file || !fs.existsSync(file)) return emptyState();
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as StateData;
  if (parsed.version !== 1) {
    throw new Error(
      `AWS stand-in state file ${file} has version ${String(
        parsed.version,
      )}, expected 1; delete it to start fresh`,
    );
  }
  return parsed;
}

/** Write atomically: a reader sees the old or the new file, never half of one. */
export function saveState(file: string, state: StateData): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, file);
}

// ------------------------------------------------------------------ ids, ARNs

export const newRoleId = () => `AROA${randomId(17)}`;
export const newUserId = () => `AIDA${randomId(17)}`;
export const newPolicyId = () => `ANPA${randomId(17)}`;
export const newLongTermKeyId = () => `AKIA${randomId(16)}`;
export const newSessionKeyId = () => `ASIA${randomId(16)}`;
export function newSecret(): string {
  return randomId(40);
}

export const roleArn = (account: string, rolePath: string, name: string) =>
  `arn:aws:iam::${account}:role${rolePath}${name}`;
export const userArn = (account: string, userPath: string, name: string) =>
  `arn:aws:iam::${account}:user${userPath}${name}`;
export const rootArn = (account: string) => `arn:aws:iam::${account}:root`;
export const sessionArn = (account: string, role: string, session: string) =>
  `arn:aws:sts::${account}:assumed-role/${role}/${session}`;
export const queueArn = (region: string, account: string, name: string) =>
  `arn:aws:sqs:${region}:${account}:${name}`;
/** Canonical SQS URL form (what `keda-common` parses and KEDA is given). */
export const queueUrl = (region: string, account: string, name: string) =>
  `https://sqs.${region}.amazonaws.com/${account}/${name}`;

export interface ParsedArn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return {
    partition: parts[1],
    service: parts[2],
    region: parts[3],
    account: parts[4],
    resource: parts.slice(5).join(':'),
  };
}

/** Deterministic root credentials per account, documented for local use. */
export function rootCredentialsFor(accountId: string): {
  accessKeyId: string;
  secretAccessKey: string;
} {
  return {
    accessKeyId: `AKIA${accountId}ROOT`,
    secretAccessKey: `sandbox-root-secret-${accountId}`,
  };
}
