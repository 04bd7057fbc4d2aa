/*
 * A minimal EKS Auth client: the one call the EKS Pod Identity agent makes,
 * `AssumeRoleForPodIdentity`, signed with SigV4 (signing name `eks-auth`)
 * like the agent signs it with the node role's credentials. There is no
 * @aws-sdk/client-eks-auth among this repository's dependencies, so the
 * request is built here: `POST /clusters/{clusterName}/assume-role-for-pod-identity`
 * with `{"token": "<projected service account token>"}`.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './sigv4';

export interface EksAuthCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PodIdentityCredentials {
  subject: { namespace: string; serviceAccount: string };
  audience: string;
  podIdentityAssociation: { associationArn: string; associationId: string };
  assumedRoleUser: { arn: string; assumeRoleId: string };
  credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    expiration: Date;
  };
}

/** An EKS Auth error with the fields the AWS SDK's errors carry (name, $metadata). */
export class EksAuthError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(
    name: string,
    message: string,
    status: number,
    requestId?: string,
  ) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, requestId };
  }
}

/** `eks-auth:AssumeRoleForPodIdentity` against `endpoint` (the AWS stand-in, or `https://eks-auth.<region>.api.aws`). */
export async function assumeRoleForPodIdentity(options: {
  endpoint: string;
  region: string;
  credentials: EksAuthCredentials;
  clusterName: string;
  token: string;
}): Promise<PodIdentityCredentials> {
  const url = new URL(
    `/clusters/${encodeURIComponent(
      options.clusterName,
    )}/assume-role-for-pod-identity`,
    options.endpoint,
  );
  const body = JSON.stringify({ token: options.token });
  const signer = new SignatureV4({
    service: 'eks-auth',
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: true,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  const text = await response.text();
  const requestId = response.headers.get('x-amzn-requestid') ?? undefined;
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new EksAuthError(
      response.headers.get('x-amzn-errortype')?.split(':')[0] ?? 'UnknownError',
      message,
      response.status,
      requestId,
    );
  }
  const out = JSON.parse(text) as Omit<
    PodIdentityCredentials,
    'credentials'
  > & {
    credentials: Omit<PodIdentityCredentials['credentials'], 'expiration'> & {
      expiration: number;
    };
  };
  return {
    ...out,
    credentials: {
      ...out.credentials,
      expiration: new Date(out.credentials.expiration * 1000),
    },
  };
}
