/*
 * SigV4: read the credential scope (which decides the service and region a
 * request is for) and verify the signature with the stored secret, by
 * re-signing the same canonical request with @smithy/signature-v4.
 */
import crypto from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigV4Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/;

/** Parse an `Authorization: AWS4-HMAC-SHA256 …` header; undefined when absent or not SigV4. */
export function parseAuthorization(
  value: string | undefined,
): SigV4Authorization | undefined {
  if (!value) return undefined;
  const m = AUTH_PATTERN.exec(value.trim());
  if (!m) return undefined;
  return {
    accessKeyId: m[1],
    date: m[2],
    region: m[3],
    service: m[4],
    signedHeaders: m[5].split(';'),
    signature: m[6],
  };
}

/** Hash/HMAC over node:crypto in the shape @smithy/signature-v4 expects. */
export class NodeSha256 {
  private readonly hash: crypto.Hash | crypto.Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? crypto.createHash('sha256')
        : crypto.createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data))
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function parseAmzDate(value: string | undefined): Date | undefined {
  const m =
    value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

export interface IncomingSignedRequest {
  method: string;
  /** Path and query exactly as received (still percent-encoded). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** True when the signature matches one computed with `secret` over the same request. */
export async function verifySignature(
  request: IncomingSignedRequest,
  auth: SigV4Authorization,
  credentials: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  },
): Promise<boolean> {
  const signingDate = parseAmzDate(header(request.headers, 'x-amz-date'));
  if (!signingDate) return false;
  // When the client sends the payload hash as a header, the signature covers
  // the header, not the body: the body must match it (AWS checks this too).
  const declaredHash = header(request.headers, 'x-amz-content-sha256');
  if (
    declaredHash !== undefined &&
    declaredHash !== 'UNSIGNED-PAYLOAD' &&
    declaredHash !==
      crypto.createHash('sha256').update(request.body).digest('hex')
  ) {
    return false;
  }
  const url = new URL(request.url, 'http://stand-in');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(request.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken
        ? { sessionToken: credentials.sessionToken }
        : {}),
    },
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const [host, port] = (headers.host ?? '').split(':');
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: host,
      port: port ? Number(port) : undefined,
      path: url.pathname,
      query,
      headers,
      body: request.body.length ? request.body : undefined,
    },
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const computed = parseAuthorization(
    String(signed.headers.authorization ?? signed.headers.Authorization),
  );
  return computed?.signature === auth.signature;
}

function header(
  headers: IncomingSignedRequest['headers'],
  name: string,
): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}
