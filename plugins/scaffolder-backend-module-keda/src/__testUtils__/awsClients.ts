import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { KedaAwsClientFactory } from '@keda-self-service/plugin-keda-node';

/**
 * A client factory whose clients are plain SDK clients (for
 * aws-sdk-client-mock) and that records which accounts were asked for.
 */
export function recordingAwsFactory() {
  const accounts: string[] = [];
  const factory = new KedaAwsClientFactory({
    credentialsManager: {
      async getCredentialProvider(opts) {
        accounts.push(opts?.accountId ?? '(main)');
        return {
          accountId: opts?.accountId,
          sdkCredentialProvider: async () => ({
            accessKeyId: `AKIA${opts?.accountId}`,
            secretAccessKey: 'secret',
          }),
        };
      },
    },
  });
  return { factory, accounts, IAMClient, EKSClient };
}
