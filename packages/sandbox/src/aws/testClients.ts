/*
 * Test support: real AWS SDK v3 clients pointed at a running stand-in.
 * Used only by tests (and handy in scripts); not part of the runtime API.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsStandIn } from './server';
import type { Credentials } from './world';

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
export function sessionCredentials(out: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }): Credentials {
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('STS response carried no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** An unsigned JWT with the claims AssumeRoleWithWebIdentity reads (the stand-in does not verify signatures). */
export function fakeServiceAccountToken(claims: { iss: string; sub: string; aud: string | string[]; exp?: number }): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', kid: 'sandbox' })}.${b64({ iat: Math.floor(Date.now() / 1000), ...claims })}.c2lnbmF0dXJl`;
}
