import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import {
  GetOpenIDConnectProviderCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { InputError } from '@backstage/errors';
import { describeAwsError, isNoSuchEntity } from './errors';

/**
 * Reads an EKS cluster's OIDC issuer URL with `eks:DescribeCluster`, for
 * clusters whose `keda.clusters[].oidcIssuer` is not configured.
 * @public
 */
export async function discoverOidcIssuer(options: {
  eks: EKSClient;
  accountId: string;
  clusterName: string;
}): Promise<string> {
  const { eks, accountId, clusterName } = options;
  let issuer: string | undefined;
  try {
    const out = await eks.send(
      new DescribeClusterCommand({ name: clusterName }),
    );
    issuer = out.cluster?.identity?.oidc?.issuer;
  } catch (error) {
    throw describeAwsError(error, {
      action: 'eks:DescribeCluster',
      resource: clusterName,
      accountId,
    });
  }
  if (!issuer) {
    throw new Error(
      `EKS cluster ${clusterName} in account ${accountId} reports no OIDC issuer; enable IRSA on it (eksctl utils associate-iam-oidc-provider) or set keda.clusters[].oidcIssuer`,
    );
  }
  return issuer;
}

/**
 * Checks that the cluster's OIDC issuer is registered as an IAM OIDC
 * provider in the cluster account and accepts the STS audience. Without it
 * IAM rejects every AssumeRoleWithWebIdentity of the KEDA operator
 * (kedacore/keda#4764); the operator role's trust alone does not show that.
 * @public
 */
export async function checkOidcProvider(options: {
  iam: IAMClient;
  accountId: string;
  providerArn: string;
  audience: string;
}): Promise<void> {
  const { iam, accountId, providerArn, audience } = options;
  let clientIds: string[];
  try {
    const out = await iam.send(
      new GetOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: providerArn,
      }),
    );
    clientIds = out.ClientIDList ?? [];
  } catch (error) {
    if (isNoSuchEntity(error)) {
      throw new InputError(
        `The cluster's OIDC provider ${providerArn} is not registered in account ${accountId}, so the KEDA operator cannot use IRSA. Register it (eksctl utils associate-iam-oidc-provider --cluster <name> --approve) and run onboarding again`,
      );
    }
    throw describeAwsError(error, {
      action: 'iam:GetOpenIDConnectProvider',
      resource: providerArn,
      accountId,
    });
  }
  if (!clientIds.includes(audience)) {
    throw new InputError(
      `The OIDC provider ${providerArn} does not accept the audience ${audience} (client ids: ${
        clientIds.join(', ') || 'none'
      }); add it (aws iam add-client-id-to-open-id-connect-provider) or IRSA tokens are rejected`,
    );
  }
}
