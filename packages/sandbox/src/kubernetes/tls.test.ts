import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateServingCertificate } from './tls';

const DAY = 24 * 60 * 60 * 1000;

describe('loadOrCreateServingCertificate', () => {
  let dir: string;
  let certFile: string;
  let keyFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-tls-'));
    certFile = path.join(dir, 'kubernetes.crt');
    keyFile = path.join(dir, 'kubernetes.key');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The first certificate is made whatever the clock says (there is none);
  // every later decision is taken against the certificate's own dates.
  const first = () =>
    loadOrCreateServingCertificate({ certFile, keyFile, now: () => 0 });
  const datesOf = (cert: string) => {
    const x509 = new X509Certificate(cert);
    return {
      notBefore: Date.parse(x509.validFrom),
      notAfter: Date.parse(x509.validTo),
    };
  };

  it('generates a certificate and key when missing, the key private to the user', () => {
    const made = first();
    expect(made.generated).toBe('there was none');
    expect(fs.readFileSync(certFile, 'utf8')).toBe(made.cert);
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(made.key);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(made.cert);
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.ca).toBe(true);
  });

  it('reuses the kept certificate while it is valid by the injected clock', () => {
    const made = first();
    const { notBefore, notAfter } = datesOf(made.cert);
    for (const now of [notBefore, notBefore + DAY, notAfter - 31 * DAY]) {
      const again = loadOrCreateServingCertificate({
        certFile,
        keyFile,
        now: () => now,
      });
      expect(again.generated).toBeUndefined();
      expect(again.cert).toBe(made.cert);
      expect(again.key).toBe(made.key);
    }
  });

  it('renews the certificate when it expires within the renewal window or is not yet valid', () => {
    const made = first();
    const { notAfter } = datesOf(made.cert);
    const renewed = loadOrCreateServingCertificate({
      certFile,
      keyFile,
      now: () => notAfter - 29 * DAY,
    });
    expect(renewed.generated).toMatch(/^it expires /);
    expect(renewed.cert).not.toBe(made.cert);
    expect(fs.readFileSync(certFile, 'utf8')).toBe(renewed.cert);

    const early = loadOrCreateServingCertificate({
      certFile,
      keyFile,
      now: () => datesOf(renewed.cert).notBefore - 1000,
      renewBeforeMs: 0,
    });
    expect(early.generated).toMatch(/^it is not valid before /);
    expect(early.cert).not.toBe(renewed.cert);
  });

  it('renews a certificate whose key was replaced, or that is unreadable', () => {
    const made = first();
    const { notBefore } = datesOf(made.cert);
    const now = () => notBefore + DAY;
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    const foreign = loadOrCreateServingCertificate({
      certFile: path.join(other, 'c'),
      keyFile: path.join(other, 'k'),
      now,
    });
    fs.writeFileSync(keyFile, foreign.key);
    const mismatched = loadOrCreateServingCertificate({
      certFile,
      keyFile,
      now,
    });
    expect(mismatched.generated).toBe(
      'the key does not belong to the certificate',
    );

    fs.writeFileSync(certFile, 'not a certificate');
    const unreadable = loadOrCreateServingCertificate({
      certFile,
      keyFile,
      now,
    });
    expect(unreadable.generated).toMatch(/^it cannot be read/);
    expect(
      new X509Certificate(unreadable.cert).checkPrivateKey(
        createPrivateKey(unreadable.key),
      ),
    ).toBe(true);
  });

  it('renews a certificate that does not cover a required host', () => {
    const made = first();
    const { notBefore } = datesOf(made.cert);
    const wider = loadOrCreateServingCertificate({
      certFile,
      keyFile,
      now: () => notBefore + DAY,
      hosts: ['127.0.0.1', 'localhost', '10.0.0.7'],
    });
    expect(wider.generated).toBe('it does not cover 10.0.0.7');
    expect(new X509Certificate(wider.cert).checkIP('10.0.0.7')).toBe(
      '10.0.0.7',
    );
  });
});
