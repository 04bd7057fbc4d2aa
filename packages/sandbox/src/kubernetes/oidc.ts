import crypto from 'node:crypto';

/** Claims of a projected service account token, as EKS issues them for IRSA. */
export interface ServiceAccountTokenClaims {
  namespace: string;
  serviceAccountName: string;
  audience: string;
  /** Lifetime; EKS's pod identity webhook defaults to 86400 s. */
  expiresInSeconds?: number;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

/**
 * The cluster's service account issuer: an RSA key whose public half is
 * published as JWKS (`<issuer>/openid/v1/jwks`) and whose private half signs
 * service account tokens (RS256), like an EKS cluster's OIDC issuer. STS
 * verifies these tokens against the registered OIDC provider.
 */
export class ServiceAccountIssuer {
  readonly issuerUrl: string;
  readonly keyId: string;
  private readonly privateKey: crypto.KeyObject;
  private readonly publicJwk: { n?: string; e?: string; kty?: string };

  constructor(
    issuerUrl: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.issuerUrl = issuerUrl.replace(/\/$/, '');
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    this.privateKey = privateKey;
    this.publicJwk = publicKey.export({
      format: 'jwk',
    }) as typeof this.publicJwk;
    // RFC 7638 thumbprint: stable kid derived from the key itself.
    this.keyId = base64url(
      crypto
        .createHash('sha256')
        .update(
          JSON.stringify({
            e: this.publicJwk.e,
            kty: this.publicJwk.kty,
            n: this.publicJwk.n,
          }),
        )
        .digest(),
    );
  }

  /** `/.well-known/openid-configuration` of the issuer. */
  discoveryDocument(): Record<string, unknown> {
    return {
      issuer: this.issuerUrl,
      jwks_uri: `${this.issuerUrl}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }

  /** `/openid/v1/jwks`. */
  jwks(): { keys: Array<Record<string, unknown>> } {
    return {
      keys: [
        {
          use: 'sig',
          kty: 'RSA',
          kid: this.keyId,
          alg: 'RS256',
          n: this.publicJwk.n,
          e: this.publicJwk.e,
        },
      ],
    };
  }

  /** Mints a token for `system:serviceaccount:<namespace>:<name>`. */
  mintToken(
    claims: ServiceAccountTokenClaims,
    now = new Date(this.clock()),
  ): string {
    const iat = Math.floor(now.getTime() / 1000);
    const header = { alg: 'RS256', kid: this.keyId, typ: 'JWT' };
    const payload = {
      aud: [claims.audience],
      exp: iat + (claims.expiresInSeconds ?? 86400),
      iat,
      nbf: iat,
      iss: this.issuerUrl,
      sub: `system:serviceaccount:${claims.namespace}:${claims.serviceAccountName}`,
      'kubernetes.io': {
        namespace: claims.namespace,
        serviceaccount: { name: claims.serviceAccountName },
      },
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(
      JSON.stringify(payload),
    )}`;
    const signature = crypto.sign(
      'sha256',
      Buffer.from(signingInput),
      this.privateKey,
    );
    return `${signingInput}.${base64url(signature)}`;
  }
}
