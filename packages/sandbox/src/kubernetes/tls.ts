import { execFileSync } from 'node:child_process';
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
