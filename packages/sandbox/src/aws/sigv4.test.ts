import { SignatureV4 } from '@smithy/signature-v4';
import crypto from 'node:crypto';
import { parseAuthorization, verifySignature } from './sigv4';

class Sha256 {
  private readonly h: crypto.Hash | crypto.Hmac;
  constructor(secret?: any) {
    this.h = secret
      ? crypto.createHmac('sha256', Buffer.from(secret))
      : crypto.createHash('sha256');
  }
  update(d: any) {
    this.h.update(typeof d === 'string' ? d : Buffer.from(d));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIA111111111111ROOT',
  secretAccessKey: 'sandbox-root-secret-111111111111',
};

async function signedRequest(body: string, applyChecksum: boolean) {
  const signer = new SignatureV4({
    service: 'sqs',
    region: 'eu-west-1',
    credentials,
    sha256: Sha256,
    applyChecksum,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: '/',
    query: {},
    headers: {
      host: '127.0.0.1:4566',
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.GetQueueAttributes',
    },
    body,
  });
  return { headers: signed.headers as Record<string, string>, body };
}

describe('SigV4', () => {
  it('parses the credential scope of an Authorization header', () => {
    expect(
      parseAuthorization(
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123',
      ),
    ).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      date: '20261128',
      region: 'eu-west-1',
      service: 'sqs',
      signedHeaders: ['host', 'x-amz-date'],
      signature: 'abc123',
    });
    expect(parseAuthorization('Bearer token')).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });

  it.each([
    ['with the payload hash in x-amz-content-sha256', true],
    ['with the payload hash computed from the body', false],
  ])(
    'verifies a signature made with the stored secret and rejects tampering, %s',
    async (_name, applyChecksum) => {
      const { headers, body } = await signedRequest(
        '{"QueueUrl":"q"}',
        applyChecksum,
      );
      expect('x-amz-content-sha256' in headers).toBe(applyChecksum);
      const auth = parseAuthorization(headers.authorization)!;
      const incoming = (b: string, h = headers) => ({
        method: 'POST',
        url: '/',
        headers: h,
        body: Buffer.from(b),
      });
      await expect(
        verifySignature(incoming(body), auth, credentials),
      ).resolves.toBe(true);
      await expect(
        verifySignature(incoming('{"QueueUrl":"other"}'), auth, credentials),
      ).resolves.toBe(false);
      await expect(
        verifySignature(incoming(body), auth, {
          ...credentials,
          secretAccessKey: 'wrong',
        }),
      ).resolves.toBe(false);
      await expect(
        verifySignature(
          incoming(body, {
            ...headers,
            'x-amz-target': 'AmazonSQS.DeleteQueue',
          }),
          auth,
          credentials,
        ),
      ).resolves.toBe(false);
    },
  );
});
