import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { ServiceAccountIssuer } from '../kubernetes/oidc';
import { assumeRoleForPodIdentity } from '../aws/eksAuthClient';
import { depthAttributes, queueDepth, SqsTriggerMetadata } from './sqsTrigger';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface KedaAwsIdentityOptions {
  /** AWS endpoint for STS and (unless a trigger sets awsEndpoint) SQS. */
  endpoint: string;
  issuer: ServiceAccountIssuer;
  /** Helm `podIdentity.aws.irsa.roleArn`: the operator's own role. */
  operatorRoleArn: string;
  operatorNamespace: string;
  operatorServiceAccount: string;
  /** Helm `podIdentity.aws.irsa.audience`. */
  audience: string;
  /**
   * EKS Pod Identity instead of IRSA: the operator pod's credentials come
   * from the node's Pod Identity agent, which calls EKS Auth
   * `AssumeRoleForPodIdentity` (signed with the node role's credentials)
   * with the pod's projected token (audience `pods.eks.amazonaws.com`). The
   * role is the one the cluster's pod identity association names;
   * `operatorRoleArn` is then only what the operator expects to get.
   */
  podIdentityAgent?: {
    clusterName: string;
    /** The cluster's region (the EKS Auth endpoint's). */
    region: string;
    /** The node role's credentials the agent signs with. */
    nodeCredentials: AwsCredentials;
  };
  now: () => number;
}

/** The projected token audience of EKS Pod Identity. */
export const POD_IDENTITY_TOKEN_AUDIENCE = 'pods.eks.amazonaws.com';

/** What the Pod Identity agent last obtained for the operator (diagnostics). */
export interface PodIdentitySession {
  associationId: string;
  associationArn: string;
  assumedRoleArn: string;
}

/** How KEDA's shared config cache decided to get a role's credentials. */
export type RoleCredentialMethod = 'web-identity' | 'assume-role';

/** The AWS SDK v3 error fields the Go-style messages are made from. */
interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/**
 * `https response error StatusCode: 403, RequestID: …, api error
 * AccessDenied: …` — the text aws-sdk-go-v2 (which KEDA uses) puts in its
 * errors, so events read like a real cluster's.
 */
export function describeAwsError(
  service: string,
  operation: string,
  error: unknown,
): string {
  const e = error as SdkError;
  if (e?.$metadata?.httpStatusCode) {
    return `operation error ${service}: ${operation}, https response error StatusCode: ${
      e.$metadata.httpStatusCode
    }, RequestID: ${e.$metadata.requestId ?? ''}, api error ${e.name}: ${
      e.message
    }`;
  }
  return `operation error ${service}: ${operation}, ${
    e?.message ?? String(error)
  }`;
}

class CredentialError extends Error {}

interface CachedRole {
  method: RoleCredentialMethod;
  credentials?: AwsCredentials;
  usages: Set<string>;
}

/**
 * The KEDA operator's AWS identity (IRSA or EKS Pod Identity) and the role
 * credentials it derives, following `pkg/scalers/aws/aws_config_cache.go`
 * (v2.20):
 *
 * - base identity (IRSA): `AssumeRoleWithWebIdentity(operatorRoleArn)` with
 *   the operator service account's projected token (aud sts.amazonaws.com);
 * - base identity (Pod Identity): the node agent's EKS Auth
 *   `AssumeRoleForPodIdentity` with the token for `pods.eks.amazonaws.com`;
 * - `provider: aws` + roleArn: first `AssumeRoleWithWebIdentity(roleArn)`
 *   with the operator's token, else `AssumeRole(roleArn)` with the operator's
 *   credentials, session name `KEDA`, `ExternalId` when set; the choice is
 *   made once per (roleArn, externalId, region) and then cached and shared;
 * - `aws-eks` (deprecated): plain `AssumeRole` from the operator identity.
 */
/** Lifetime of the operator's projected service account token (the default). */
const OPERATOR_TOKEN_TTL_MS = 86_400_000;

export class KedaAwsIdentity {
  private readonly options: KedaAwsIdentityOptions;
  private readonly stsClients = new Map<string, STSClient>();
  private readonly operatorCredentialsByRegion = new Map<
    string,
    AwsCredentials
  >();
  private readonly roleCache = new Map<string, CachedRole>();
  private lastPodIdentitySession?: PodIdentitySession;
  private cachedOperatorToken?: { token: string; mintedAt: number };

  constructor(options: KedaAwsIdentityOptions) {
    this.options = options;
  }

  private sts(region: string): STSClient {
    let client = this.stsClients.get(region);
    if (!client) {
      client = new STSClient({
        region,
        endpoint: this.options.endpoint,
        maxAttempts: 1,
      });
      this.stsClients.set(region, client);
    }
    return client;
  }

  private fresh(credentials?: AwsCredentials): credentials is AwsCredentials {
    // Refresh five minutes before expiry, like the SDK's credential cache.
    return Boolean(
      credentials &&
        (!credentials.expiration ||
          credentials.expiration.getTime() - 5 * 60_000 > this.options.now()),
    );
  }

  operatorToken(): string {
    // The kubelet rewrites a projected token once 80 % of its lifetime has
    // passed, not per read; re-signing on every poll would cost an RSA
    // signature per ScaledObject per poll.
    const at = this.options.now();
    const cached = this.cachedOperatorToken;
    if (
      cached &&
      at >= cached.mintedAt &&
      at - cached.mintedAt < 0.8 * OPERATOR_TOKEN_TTL_MS
    ) {
      return cached.token;
    }
    const token = this.options.issuer.mintToken(
      {
        namespace: this.options.operatorNamespace,
        serviceAccountName: this.options.operatorServiceAccount,
        audience: this.options.audience,
        expiresInSeconds: OPERATOR_TOKEN_TTL_MS / 1000,
      },
      new Date(at),
    );
    this.cachedOperatorToken = { token, mintedAt: at };
    return token;
  }

  private async webIdentity(
    roleArn: string,
    sessionName: string,
    region: string,
  ) {
    const out = await this.sts(region).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        WebIdentityToken: this.operatorToken(),
      }),
    );
    return toCredentials(out.Credentials);
  }

  /** How the operator authenticates: `irsa` or `pod-identity`. */
  get mode(): 'irsa' | 'pod-identity' {
    return this.options.podIdentityAgent ? 'pod-identity' : 'irsa';
  }

  /** The association the operator's Pod Identity credentials came through, once obtained. */
  podIdentitySession(): PodIdentitySession | undefined {
    return this.lastPodIdentitySession && { ...this.lastPodIdentitySession };
  }

  /**
   * EKS Pod Identity: what the SDK's container credential provider gets from
   * the node agent (AWS_CONTAINER_CREDENTIALS_FULL_URI with the token of
   * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), i.e. the agent's
   * AssumeRoleForPodIdentity.
   */
  private async podIdentityCredentials(
    agent: NonNullable<KedaAwsIdentityOptions['podIdentityAgent']>,
  ): Promise<AwsCredentials> {
    const token = this.options.issuer.mintToken(
      {
        namespace: this.options.operatorNamespace,
        serviceAccountName: this.options.operatorServiceAccount,
        audience: POD_IDENTITY_TOKEN_AUDIENCE,
      },
      new Date(this.options.now()),
    );
    try {
      const out = await assumeRoleForPodIdentity({
        endpoint: this.options.endpoint,
        region: agent.region,
        credentials: agent.nodeCredentials,
        clusterName: agent.clusterName,
        token,
      });
      this.lastPodIdentitySession = {
        associationId: out.podIdentityAssociation.associationId,
        associationArn: out.podIdentityAssociation.associationArn,
        assumedRoleArn: out.assumedRoleUser.arn,
      };
      return out.credentials;
    } catch (e) {
      throw new CredentialError(
        `get identity: get credentials: failed to refresh cached credentials, failed to load credentials, ${describeAwsError(
          'EKS Auth',
          'AssumeRoleForPodIdentity',
          e,
        )}`,
      );
    }
  }

  /**
   * The operator's own credentials: IRSA (AWS_ROLE_ARN +
   * AWS_WEB_IDENTITY_TOKEN_FILE), or EKS Pod Identity through the node agent.
   */
  async operatorCredentials(region: string): Promise<AwsCredentials> {
    const agent = this.options.podIdentityAgent;
    const cacheKey = agent ? 'pod-identity' : region;
    const cached = this.operatorCredentialsByRegion.get(cacheKey);
    if (this.fresh(cached)) return cached;
    if (agent) {
      const credentials = await this.podIdentityCredentials(agent);
      this.operatorCredentialsByRegion.set(cacheKey, credentials);
      return credentials;
    }
    try {
      // aws-sdk-go-v2 names web identity sessions with a nanosecond timestamp.
      const credentials = await this.webIdentity(
        this.options.operatorRoleArn,
        `${this.options.now()}000000`,
        region,
      );
      this.operatorCredentialsByRegion.set(region, credentials);
      return credentials;
    } catch (e) {
      throw new CredentialError(
        `get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, ${describeAwsError(
          'STS',
          'AssumeRoleWithWebIdentity',
          e,
        )}`,
      );
    }
  }

  private async assumeRole(
    roleArn: string,
    region: string,
    sessionName: string,
    externalId?: string,
  ): Promise<AwsCredentials> {
    const base = await this.operatorCredentials(region);
    try {
      const sts = new STSClient({
        region,
        endpoint: this.options.endpoint,
        credentials: base,
        maxAttempts: 1,
      });
      try {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName,
            ...(externalId ? { ExternalId: externalId } : {}),
          }),
        );
        return toCredentials(out.Credentials);
      } finally {
        sts.destroy();
      }
    } catch (e) {
      throw new CredentialError(
        `get identity: get credentials: failed to refresh cached credentials, ${describeAwsError(
          'STS',
          'AssumeRole',
          e,
        )}`,
      );
    }
  }

  /**
   * Credentials for `provider: aws` with a role: KEDA's shared cache entry
   * for (roleArn, externalId, region), created on first use.
   */
  async podIdentityRoleCredentials(
    usage: string,
    roleArn: string,
    region: string,
    externalId?: string,
  ): Promise<{ credentials: AwsCredentials; method: RoleCredentialMethod }> {
    const key = `${roleArn}-${externalId ?? ''}-${region}`;
    let entry = this.roleCache.get(key);
    if (!entry) {
      let method: RoleCredentialMethod = 'assume-role';
      let credentials: AwsCredentials | undefined;
      // Web identity needs AWS_WEB_IDENTITY_TOKEN_FILE, which only IRSA
      // mounts; with Pod Identity KEDA goes straight to AssumeRole (and the
      // transitive session tags make it need sts:TagSession).
      if (!this.options.podIdentityAgent) {
        try {
          // ExternalId only applies to the AssumeRole fallback; web identity
          // has no such parameter.
          credentials = await this.webIdentity(roleArn, 'KEDA', region);
          method = 'web-identity';
        } catch {
          method = 'assume-role';
        }
      }
      entry = { method, credentials, usages: new Set() };
      this.roleCache.set(key, entry);
    }
    entry.usages.add(usage);
    if (!this.fresh(entry.credentials)) {
      entry.credentials =
        entry.method === 'web-identity'
          ? await this.webIdentity(roleArn, 'KEDA', region).catch(e => {
              throw new CredentialError(
                `get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, ${describeAwsError(
                  'STS',
                  'AssumeRoleWithWebIdentity',
                  e,
                )}`,
              );
            })
          : await this.assumeRole(roleArn, region, 'KEDA', externalId);
    }
    return { credentials: entry.credentials, method: entry.method };
  }

  /** `aws-eks`: AssumeRole from the operator identity, SDK-default session name. */
  async awsEksRoleCredentials(
    roleArn: string,
    region: string,
  ): Promise<AwsCredentials> {
    return this.assumeRole(
      roleArn,
      region,
      `aws-go-sdk-${this.options.now()}000000`,
    );
  }

  /** KEDA's shared role cache: `<roleArn>-<externalId>-<region>` → how it was obtained. */
  cachedRoles(): Record<string, RoleCredentialMethod> {
    return Object.fromEntries(
      [...this.roleCache.entries()].map(([key, entry]) => [key, entry.method]),
    );
  }

  /** Drops a ScaledObject's use of cached role credentials (KEDA's RemoveCachedEntry). */
  release(usage: string) {
    for (const [key, entry] of this.roleCache) {
      entry.usages.delete(usage);
      if (entry.usages.size === 0) this.roleCache.delete(key);
    }
  }

  /** GetQueueAttributes with the given credentials; returns the depth. */
  async queueDepth(
    meta: SqsTriggerMetadata,
    credentials: AwsCredentials,
  ): Promise<number> {
    const sqs = new SQSClient({
      region: meta.awsRegion,
      endpoint: meta.awsEndpoint ?? this.options.endpoint,
      credentials,
      maxAttempts: 1,
    });
    try {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: meta.queueUrl,
          AttributeNames: depthAttributes(meta) as any,
        }),
      );
      return queueDepth(meta, out.Attributes ?? {});
    } catch (e) {
      throw new Error(describeAwsError('SQS', 'GetQueueAttributes', e));
    } finally {
      sqs.destroy();
    }
  }

  close() {
    for (const client of this.stsClients.values()) client.destroy();
    this.stsClients.clear();
  }
}

/** Wraps a credential failure the way the SDK reports it from the SQS call. */
export function sqsCallError(error: unknown): Error {
  if (error instanceof CredentialError) {
    return new Error(
      `operation error SQS: GetQueueAttributes, ${error.message}`,
    );
  }
  return error as Error;
}

function toCredentials(
  c:
    | {
        AccessKeyId?: string;
        SecretAccessKey?: string;
        SessionToken?: string;
        Expiration?: Date;
      }
    | undefined,
): AwsCredentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey) {
    throw new Error('STS answered without credentials');
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}
