import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * First `length` hex characters of SHA-256 over `key`: a stable suffix that
 * keeps shortened names unique and the same on every run.
 * @public
 */
export function stableHash(key: string, length = 8): string {
  return bytesToHex(sha256(utf8ToBytes(key))).slice(0, length);
}

/**
 * Returns `name` when it fits in `max` characters; otherwise cuts it and
 * appends `-<hash of key>`, so distinct keys stay distinct after shortening
 * and the result never changes for the same key.
 * @public
 */
export function fitName(
  name: string,
  max: number,
  key: string,
  hashLength = 8,
): string {
  if (name.length <= max) return name;
  const head = name.slice(0, max - hashLength - 1).replace(/[-_.]+$/, '');
  return `${head}-${stableHash(key, hashLength)}`;
}

/**
 * A Kubernetes object name that is also a valid label value (KEDA copies
 * ScaledObject names into labels, so ≤ 63 and DNS-label characters).
 * @public
 */
export function kubernetesName(base: string, max = 63): string {
  const cleaned = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  return fitName(cleaned, max, base).replace(/^-+|-+$/g, '');
}
