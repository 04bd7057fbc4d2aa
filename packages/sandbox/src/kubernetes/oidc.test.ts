import crypto from 'node:crypto';
import { startKubernetesStandIn, KubernetesStandIn } from './server';

describe('service account issuer', () => {
  let standIn: KubernetesStandIn;
  const issuerUrl = 'https://oidc.eks.eu-west-1.amazonaws.com/id/5ANDB0X';

  beforeAll(async () => {
    standIn = await startKubernetesStandIn({ port: 0, issuerUrl });
  });
  afterAll(() => standIn.close());

  it('serves discovery and JWKS anonymously under the issuer path, and the JWKS verifies minted tokens', async () => {
    const discovery = await (
      await fetch(`${standIn.url}/id/5ANDB0X/.well-known/openid-configuration`)
    ).json();
    expect(discovery).toMatchObject({
      issuer: issuerUrl,
      jwks_uri: `${issuerUrl}/openid/v1/jwks`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const jwks = await (
      await fetch(`${standIn.url}/id/5ANDB0X/openid/v1/jwks`)
    ).json();

    const token = standIn.issuer.mintToken({
      namespace: 'keda',
      serviceAccountName: 'keda-operator',
      audience: 'sts.amazonaws.com',
    });
    const [header, payload, signature] = token.split('.');
    const decodedHeader = JSON.parse(
      Buffer.from(header, 'base64url').toString(),
    );
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(claims).toMatchObject({
      iss: issuerUrl,
      sub: 'system:serviceaccount:keda:keda-operator',
      aud: ['sts.amazonaws.com'],
    });
    const jwk = jwks.keys.find((k: any) => k.kid === decodedHeader.kid);
    const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    expect(
      crypto.verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        publicKey,
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
    const tampered = Buffer.from(
      JSON.stringify({ ...claims, sub: 'system:serviceaccount:default:x' }),
    ).toString('base64url');
    expect(
      crypto.verify(
        'sha256',
        Buffer.from(`${header}.${tampered}`),
        publicKey,
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(false);
  });
});
