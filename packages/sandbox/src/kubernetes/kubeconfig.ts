import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** API server URL, e.g. the stand-in's `url`. */
  server: string;
  token: string;
  /** Cluster/context/user name; default `sandbox`. */
  name?: string;
  namespace?: string;
  /** PEM CA for an https server (the stand-in's `caCertificate`). */
  caCertificate?: string;
}

/** A kubeconfig document (as YAML) for kubectl and `KubeConfig.loadFromString`. */
export function renderKubeconfig(options: KubeconfigOptions): string {
  const name = options.name ?? 'sandbox';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: options.server,
          // @kubernetes/client-node 1.x refuses an http:// server unless this
          // is set ("HTTP protocol is not allowed when skipTLSVerify is not
          // set or false"); the stand-in serves plain HTTP on 127.0.0.1.
          ...(options.server.startsWith('http:')
            ? { 'insecure-skip-tls-verify': true }
            : {}),
          ...(options.caCertificate
            ? {
                'certificate-authority-data': Buffer.from(
                  options.caCertificate,
                ).toString('base64'),
              }
            : {}),
        },
      },
    ],
    users: [{ name, user: { token: options.token } }],
    contexts: [
      {
        name,
        context: {
          cluster: name,
          user: name,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': name,
  });
}

/** Writes a kubeconfig file (mode 0600, it holds a token) and returns its path. */
export function writeKubeconfig(
  file: string,
  options: KubeconfigOptions,
): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderKubeconfig(options), { mode: 0o600 });
  return file;
}
