const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * Parses a Kubernetes resource quantity (`1334m`, `2`, `1.5k`, `1e3`) into
 * a number. The HPA reports external metric values this way, e.g. an
 * average of 1.334 messages per replica as `1334m`. Returns undefined for
 * anything that is not a quantity rather than guessing.
 */
export function parseQuantity(
  value: string | number | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? value : undefined;
  const match =
    /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.exec(
      value.trim(),
    );
  if (!match) return undefined;
  const result = Number(match[1]) * SUFFIXES[match[2] ?? ''];
  return Number.isFinite(result) ? result : undefined;
}
