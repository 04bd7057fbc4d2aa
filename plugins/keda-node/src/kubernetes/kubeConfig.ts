import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { AwsCredentialsManager } from '@backstage/integration-aws-node';
import { KubeConfig, type User } from '@kubernetes/client-node';
import type { KedaClusterConfig } from '../config';
import { createEksToken } from './eksToken';

/** Where a pod finds its own service account (Kubernetes convention). */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const EKS_AUTH_PROVIDER = 'keda-eks-iam';
/** EKS accepts a token for 15 minutes; renew well before that. */
const EKS_TOKEN_REUSE_MS = 10 * 60 * 1000;

/** Dependencies of {@link createClusterKubeConfig}. @public */
export interface ClusterKubeConfigOptions {
  /** Required for clusters with `authProvider: aws`. */
  awsCredentialsManager?: AwsCredentialsManager;
  /** Directory of the pod's service account, for `inCluster` (tests override it). */
  serviceAccountDir?: string;
  /** Clock, for token reuse. */
  now?: () => number;
}

async function eksCredentials(
  cluster: KedaClusterConfig,
  manager: AwsCredentialsManager,
): Promise<AwsCredentialIdentityProvider> {
  const { assumeRole, externalId } = cluster.eks;
  const { accountId, region } = cluster;
  if (assumeRole) {
    // integration-aws-node knows the role when it is listed in aws.accounts;
    // otherwise assume it from the main account (with the ExternalId).
    try {
      return (await manager.getCredentialProvider({ arn: assumeRole }))
        .sdkCredentialProvider;
    } catch (e) {
      if (!String((e as Error).message).includes('no AWS integration')) throw e;
    }
    const main = (await manager.getCredentialProvider()).sdkCredentialProvider;
    const sts = new STSClient({ region, credentials: main });
    return async () => {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: assumeRole,
          RoleSessionName: 'backstage-keda',
          ExternalId: externalId,
          DurationSeconds: 900,
        }),
      );
      const c = out.Credentials!;
      return {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    };
  }
  return (
    await manager.getCredentialProvider(accountId ? { accountId } : undefined)
  ).sdkCredentialProvider;
}

/**
 * A client-node authenticator that puts a fresh EKS IAM token on every
 * request (lists, watches, reconnects), re-minting it before EKS's 15-minute
 * limit so long-running watches keep reconnecting after hours.
 */
class EksIamAuthenticator {
  private token?: { value: string; mintedAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly cluster: KedaClusterConfig,
    private readonly manager: AwsCredentialsManager,
    private readonly now: () => number,
  ) {}

  isAuthProvider(user: User): boolean {
    return user.authProvider?.name === EKS_AUTH_PROVIDER;
  }

  async applyAuthentication(_user: User, opts: { headers?: any }) {
    opts.headers = opts.headers ?? {};
    opts.headers.Authorization = `Bearer ${await this.currentToken()}`;
  }

  private async currentToken(): Promise<string> {
    if (this.token && this.now() - this.token.mintedAt < EKS_TOKEN_REUSE_MS) {
      return this.token.value;
    }
    this.pending ??= (async () => {
      try {
        const mintedAt = this.now();
        const region =
          this.cluster.region ?? process.env.AWS_REGION ?? 'us-east-1';
        const value = await createEksToken({
          clusterName: this.cluster.eks.clusterName ?? this.cluster.name,
          region,
          credentials: await eksCredentials(this.cluster, this.manager),
          signingDate: new Date(mintedAt),
        });
        this.token = { value, mintedAt };
        return value;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }
}

/**
 * Builds a client-node `KubeConfig` for one configured cluster. Credentials
 * are applied per request, so rotated tokens (projected service account
 * tokens, EKS IAM tokens) are picked up by long-lived watches.
 * @public
 */
export function createClusterKubeConfig(
  cluster: KedaClusterConfig,
  options: ClusterKubeConfigOptions = {},
): KubeConfig {
  const kc = new KubeConfig();
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  let user: User;
  let caFile = cluster.caFile;
  switch (cluster.authProvider) {
    case 'serviceAccount':
      user = { name: cluster.name, token: cluster.serviceAccountToken };
      break;
    case 'inCluster':
      // client-node's FileAuth re-reads the token file every 60 s.
      user = {
        name: cluster.name,
        authProvider: {
          name: 'tokenFile',
          config: { tokenFile: `${saDir}/token` },
        },
      };
      if (!caFile && !cluster.caData && cluster.url.startsWith('https:')) {
        caFile = `${saDir}/ca.crt`;
      }
      break;
    case 'aws': {
      if (!options.awsCredentialsManager) {
        throw new Error(
          `Cluster '${cluster.name}' uses authProvider 'aws' but no AWS credentials manager was given; pass DefaultAwsCredentialsManager.fromConfig(config)`,
        );
      }
      kc.addAuthenticator(
        new EksIamAuthenticator(
          cluster,
          options.awsCredentialsManager,
          options.now ?? Date.now,
        ),
      );
      user = {
        name: cluster.name,
        authProvider: { name: EKS_AUTH_PROVIDER, config: {} },
      };
      break;
    }
    default:
      throw new Error(
        `Cluster '${cluster.name}' has unknown authProvider '${cluster.authProvider}'`,
      );
  }
  kc.loadFromClusterAndUser(
    {
      name: cluster.name,
      server: cluster.url.replace(/\/+$/, ''),
      // client-node refuses plain http unless skipTLSVerify is set; an
      // http:// URL has no TLS to verify, so an explicit http URL opts in.
      skipTLSVerify: cluster.skipTLSVerify || cluster.url.startsWith('http:'),
      caData: cluster.caData,
      caFile,
    },
    user,
  );
  return kc;
}
