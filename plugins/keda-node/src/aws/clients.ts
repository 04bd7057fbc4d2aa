import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import type { Config } from '@backstage/config';
import {
  DefaultAwsCredentialsManager,
  type AwsCredentialsManager,
} from '@backstage/integration-aws-node';
import {
  iamRegionForPartition,
  type AwsPartition,
} from '@keda-self-service/plugin-keda-common';

/**
 * Retry policy for every client: the SDK's standard strategy (exponential
 * backoff with jitter on throttling, 5xx and transient network errors) with
 * more attempts than the default 3, because IAM's control plane throttles
 * bursts of CreateRole/PutRolePolicy across an organisation.
 *
 * @public
 */
export const KEDA_AWS_MAX_ATTEMPTS = 6;

/** @public */
export interface KedaAwsClientFactoryOptions {
  credentialsManager: AwsCredentialsManager;
  /** Default `KEDA_AWS_MAX_ATTEMPTS`. */
  maxAttempts?: number;
}

/**
 * Creates AWS SDK v3 clients for one account at a time, with credentials
 * from `@backstage/integration-aws-node` (`aws.accounts[]`, `aws.mainAccount`).
 * Endpoints are the SDK's own: `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_IAM`
 * redirect them (VPC endpoints, a local stand-in) without code paths here.
 * @public
 */
export class KedaAwsClientFactory {
  static fromConfig(
    config: Config,
    options?: Omit<KedaAwsClientFactoryOptions, 'credentialsManager'>,
  ): KedaAwsClientFactory {
    return new KedaAwsClientFactory({
      credentialsManager: DefaultAwsCredentialsManager.fromConfig(config),
      ...options,
    });
  }

  private readonly maxAttempts: number;

  constructor(private readonly options: KedaAwsClientFactoryOptions) {
    this.maxAttempts = options.maxAttempts ?? KEDA_AWS_MAX_ATTEMPTS;
  }

  private async credentials(accountId: string) {
    const provider =
      await this.options.credentialsManager.getCredentialProvider({
        accountId,
      });
    return provider.sdkCredentialProvider;
  }

  /**
   * IAM client acting in `accountId`, in the partition of the role's account
   * (derive it from the queue's or cluster's region: `queue.partition`,
   * `clusterPartition(cluster)`). IAM is global per partition, so the client
   * signs for the partition's IAM region (`iamRegionForPartition`):
   * `us-east-1`, `us-gov-west-1` or `cn-north-1`.
   */
  async iam(
    accountId: string,
    where: { partition: AwsPartition },
  ): Promise<IAMClient> {
    return new IAMClient({
      region: iamRegionForPartition(where.partition),
      credentials: await this.credentials(accountId),
      maxAttempts: this.maxAttempts,
      retryMode: 'standard',
    });
  }

  /** EKS client acting in `accountId` and `region`. */
  async eks(accountId: string, region: string): Promise<EKSClient> {
    return new EKSClient({
      region,
      credentials: await this.credentials(accountId),
      maxAttempts: this.maxAttempts,
      retryMode: 'standard',
    });
  }
}
