import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import { describeAwsError } from './errors';

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
    const out = await eks.send(new DescribeClusterCommand({ name: clusterName }));
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
