import type { PolicyDocument } from '@keda-self-service/plugin-keda-common';

/**
 * IAM returns stored policy documents URL-encoded (RFC 3986), with the
 * statement order and formatting it was given. Decode before comparing.
 *
 * @public
 */
export function decodeIamPolicy(encoded: string | undefined): unknown {
  if (!encoded) return undefined;
  let text = encoded;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    // already decoded (some SDK middlewares decode it): keep as is
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// One-element arrays and scalars are the same thing to IAM ("Action":
// "sts:AssumeRole" ≡ ["sts:AssumeRole"]); object key order carries no meaning.
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.length === 1 ? items[0] : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map(k => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * True when the stored document means the same as the desired one. A trust
 * policy whose principal ARN IAM replaced by a unique id (`AROA…`, the
 * principal was deleted and recreated) compares unequal, so reconcile re-saves
 * it (IAM trap 1).
 *
 * @public
 */
export function samePolicy(stored: unknown, desired: PolicyDocument): boolean {
  return (
    JSON.stringify(canonical(stored)) === JSON.stringify(canonical(desired))
  );
}
