import { createEksToken, EKS_TOKEN_PREFIX } from './eksToken';

const credentials = async () => ({
  accessKeyId: 'AKIAEXAMPLE',
  secretAccessKey: 'secret',
  sessionToken: 'session',
});

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  // base64url: no padding, no '+' or '/'
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('createEksToken', () => {
  const signingDate = new Date('2026-11-28T06:00:00Z');

  it('presigns sts:GetCallerIdentity for the cluster region with x-k8s-aws-id signed', async () => {
    const token = await createEksToken({
      clusterName: 'prod-eks',
      region: 'eu-west-1',
      credentials,
      signingDate,
    });
    const url = decode(token);
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'AKIAEXAMPLE/20261128/eu-west-1/sts/aws4_request',
    );
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261128T060000Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe(
      'host;x-k8s-aws-id',
    );
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('binds the token to the cluster name: another cluster gets another signature', async () => {
    const a = decode(
      await createEksToken({
        clusterName: 'a',
        region: 'eu-west-1',
        credentials,
        signingDate,
      }),
    );
    const b = decode(
      await createEksToken({
        clusterName: 'b',
        region: 'eu-west-1',
        credentials,
        signingDate,
      }),
    );
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(
      b.searchParams.get('X-Amz-Signature'),
    );
  });

  it('uses the .com.cn STS endpoint in China regions', async () => {
    const url = decode(
      await createEksToken({
        clusterName: 'c',
        region: 'cn-north-1',
        credentials,
        signingDate,
      }),
    );
    expect(url.host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});
