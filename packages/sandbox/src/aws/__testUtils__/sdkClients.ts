/*
 * Test support: real AWS SDK v3 clients pointed at a running stand-in.
 * Used only by tests (and handy in scripts); not part of the runtime API.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsStandIn } from '../server';
import type { Credentials } from '../world';

export interface SdkClients {
  iam: IAMClient;
  sts: STSClient;
  sqs: SQSClient;
  eks: EKSClient;
  destroy(): void;
}

/** Clients for one identity; `maxAttempts` 1 so error tests see the first answer. */
export function sdkClients(
  standIn: Pick<AwsStandIn, 'url'>,
  credentials: Credentials,
  opts: { region?: string; maxAttempts?: number } = {},
): SdkClients {
  const common = {
    endpoint: standIn.url,
    credentials,
    maxAttempts: opts.maxAttempts ?? 1,
  };
  const region = opts.region ?? 'eu-west-1';
  const clients = {
    iam: new IAMClient({ ...common, region: 'us-east-1' }),
    sts: new STSClient({ ...common, region }),
    sqs: new SQSClient({ ...common, region }),
    eks: new EKSClient({ ...common, region }),
  };
  return {
    ...clients,
    destroy() {
      Object.values(clients).forEach(c => c.destroy());
    },
  };
}

/** Credentials of an STS response, in the SDK's shape. */
export function sessionCredentials(out: {
  Credentials?: {
    AccessKeyId?: string;
    SecretAccessKey?: string;
    SessionToken?: string;
  };
}): Credentials {
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('STS response carried no credentials');
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  };
}

/** An unsigned JWT with the claims AssumeRoleWithWebIdentity reads (the stand-in does not verify signatures). */
export function fakeServiceAccountToken(claims: {
  iss: string;
  sub: string;
  aud: string | string[];
  exp?: number;
}): string {
  const b64 = (o: object) =>
    Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', kid: 'sandbox' })}.${b64({
    iat: Math.floor(Date.now() / 1000),
    ...claims,
  })}.c2lnbmF0dXJl`;
}

export const CLUSTER_ACCOUNT = '111111111111';
export const QUEUE_ACCOUNT = '222222222222';
export const REGION = 'eu-west-1';
export const ISSUER =
  'https://oidc.eks.eu-west-1.amazonaws.com/id/SANDBOX0000000000000000000000001';
export const ISSUER_HOST_PATH = ISSUER.replace('https://', '');
export const OPERATOR_SUBJECT = 'system:serviceaccount:keda:keda-operator';
export const EXTERNAL_ID = 'keda-orders-7f3a';

export const operatorTrust = () =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: {
          Federated: `arn:aws:iam::${CLUSTER_ACCOUNT}:oidc-provider/${ISSUER_HOST_PATH}`,
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${ISSUER_HOST_PATH}:sub`]: OPERATOR_SUBJECT,
            [`${ISSUER_HOST_PATH}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  });

export const scalerTrust = (
  operatorRoleArn: string,
  externalId = EXTERNAL_ID,
) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: operatorRoleArn },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  });

export const allowDoc = (
  Action: string | string[],
  Resource: string | string[],
) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action, Resource }],
  });
