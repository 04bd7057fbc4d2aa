import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ServingCertificate {
  /** PEM private key. */
  key: string;
  /** PEM self-signed certificate, also its own CA (for kubeconfig). */
  cert: string;
}

/**
 * Generates a self-signed serving certificate for 127.0.0.1/localhost with
 * the system `openssl` (3.x). kubectl (client-go) never sends a bearer token
 * over plain HTTP, so kubectl needs the stand-in to speak TLS; the
 * certificate doubles as the CA in the kubeconfig.
 */
export function generateServingCertificate(
  hosts: string[] = ['127.0.0.1', 'localhost'],
): ServingCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-standin-tls-'));
  try {
    const keyFile = path.join(dir, 'tls.key');
    const certFile = path.join(dir, 'tls.crt');
    const altNames = hosts
      .map(h => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`))
      .join(',');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '365',
        '-subj',
        '/CN=kubernetes-standin',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-addext',
        `subjectAltName=${altNames}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ],
      { stdio: 'pipe' },
    );
    return {
      key: fs.readFileSync(keyFile, 'utf8'),
      cert: fs.readFileSync(certFile, 'utf8'),
    };
  } catch (e) {
    throw new Error(
      `Could not generate the stand-in's TLS certificate with openssl (${
        (e as Error).message
      }); install openssl or start the stand-in without tls`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface PersistedCertificateOptions {
  /** PEM certificate file (also the CA clients trust). */
  certFile: string;
  /** PEM private key file (written with mode 0600). */
  keyFile: string;
  /** The clock that decides whether the kept certificate is still good. */
  now: () => number;
  /** Renew when the certificate expires within this many ms (default 30 days). */
  renewBeforeMs?: number;
  /** Names the certificate must cover (default 127.0.0.1 and localhost). */
  hosts?: string[];
}

export interface PersistedCertificate extends ServingCertificate {
  /** Why a new certificate was made; undefined when the kept one was reused. */
  generated?: string;
}

const DEFAULT_RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

/** Why the kept certificate cannot be reused, or undefined when it can. */
function unusableBecause(
  cert: string,
  key: string,
  options: PersistedCertificateOptions,
  hosts: string[],
): string | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      return 'the key does not belong to the certificate';
    }
  } catch (e) {
    return `it cannot be read (${(e as Error).message})`;
  }
  const now = options.now();
  const notBefore = Date.parse(x509.validFrom);
  const notAfter = Date.parse(x509.validTo);
  if (!(notBefore <= now)) return `it is not valid before ${x509.validFrom}`;
  const renewBefore = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  if (!(notAfter - renewBefore > now)) return `it expires ${x509.validTo}`;
  const missing = hosts.filter(h =>
    /^[\d.]+$|:/.test(h) ? !x509.checkIP(h) : !x509.checkHost(h),
  );
  if (missing.length) return `it does not cover ${missing.join(', ')}`;
  return undefined;
}

/**
 * The serving certificate kept in `certFile`/`keyFile`, like an API server's
 * `--tls-cert-file`: reused across restarts (so kubeconfigs and the portal's
 * `caFile` stay valid), generated when missing, unreadable, not matching its
 * key, not covering `hosts`, or expiring within `renewBeforeMs` by `now`.
 */
export function loadOrCreateServingCertificate(
  options: PersistedCertificateOptions,
): PersistedCertificate {
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const { certFile, keyFile } = options;
  let reason = 'there was none';
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const cert = fs.readFileSync(certFile, 'utf8');
    const key = fs.readFileSync(keyFile, 'utf8');
    const unusable = unusableBecause(cert, key, options, hosts);
    if (!unusable) return { cert, key };
    reason = unusable;
  }
  const fresh = generateServingCertificate(hosts);
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  fs.mkdirSync(path.dirname(certFile), { recursive: true });
  // The key first, so a certificate on disk always has its key beside it.
  fs.writeFileSync(keyFile, fresh.key, { mode: 0o600 });
  fs.chmodSync(keyFile, 0o600);
  fs.writeFileSync(certFile, fresh.cert);
  return { ...fresh, generated: reason };
}
