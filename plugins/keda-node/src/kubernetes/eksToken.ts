import { Sha256 } from '@aws-crypto/sha256-js';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { SignatureV4 } from '@smithy/signature-v4';

/** The prefix the EKS authenticator (aws-iam-authenticator) expects. @public */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** Options of {@link createEksToken}. @public */
export interface EksTokenOptions {
  /** EKS cluster name; the authenticator checks it via the signed `x-k8s-aws-id` header. */
  clusterName: string;
  /** Region of the STS endpoint to sign for (the cluster's region). */
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Signing time; defaults to now. */
  signingDate?: Date;
}

function stsHost(region: string): string {
  return region.startsWith('cn-')
    ? `sts.${region}.amazonaws.com.cn`
    : `sts.${region}.amazonaws.com`;
}

/**
 * Mints an EKS bearer token the way `aws eks get-token` does: a SigV4
 * presigned `sts:GetCallerIdentity` URL whose signature covers the
 * `x-k8s-aws-id` header (so a token for one cluster is useless for another),
 * base64url-encoded without padding and prefixed with `k8s-aws-v1.`.
 * EKS accepts such a token for 15 minutes after `signingDate`.
 * @public
 */
export async function createEksToken(
  options: EksTokenOptions,
): Promise<string> {
  const host = stsHost(options.region);
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      headers: { host, 'x-k8s-aws-id': options.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    },
    // 60 s is what the AWS CLI signs with; EKS itself bounds the token to 15 min.
    { expiresIn: 60, signingDate: options.signingDate },
  );
  const query = Object.entries(presigned.query ?? {})
    .map(
      ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`,
    )
    .join('&');
  const url = `https://${host}/?${query}`;
  return `${EKS_TOKEN_PREFIX}${Buffer.from(url).toString('base64url')}`;
}
