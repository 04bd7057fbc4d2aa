/**
 * Compares two KEDA versions (`2.20.2`, `v2.20.0`, `2.21.0-rc1`) by their
 * numeric major.minor.patch. Returns a negative number, zero or a positive
 * number like `Array.prototype.sort` expects. Pre-release suffixes sort before
 * the release they precede.
 *
 * @throws Error when a version is not of the form major.minor[.patch].
 * @public
 */
export function compareKedaVersion(a: string, b: string): number {
  const left = parseKedaVersion(a);
  const right = parseKedaVersion(b);
  for (let i = 0; i < 3; i++) {
    if (left.numbers[i] !== right.numbers[i]) {
      return left.numbers[i] - right.numbers[i];
    }
  }
  if (left.preRelease === right.preRelease) return 0;
  if (!left.preRelease) return 1;
  if (!right.preRelease) return -1;
  return left.preRelease < right.preRelease ? -1 : 1;
}

function parseKedaVersion(version: string): {
  numbers: [number, number, number];
  preRelease: string;
} {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$/.exec(
    String(version).trim(),
  );
  if (!m) {
    throw new Error(
      `"${version}" is not a KEDA version; use the form 2.20.2 (the Helm chart's appVersion)`,
    );
  }
  return {
    numbers: [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)],
    preRelease: m[4] ?? '',
  };
}

/** @public */
export function isKedaVersionAtLeast(version: string, minimum: string) {
  return compareKedaVersion(version, minimum) >= 0;
}

/**
 * `podIdentity.externalID` on TriggerAuthentication exists from KEDA 2.20.0
 * (kedacore/keda#6921); older operators prune the unknown field and would
 * call AssumeRole without it, which a trust policy requiring it denies.
 * @public
 */
export function kedaSupportsExternalId(kedaVersion: string): boolean {
  return isKedaVersionAtLeast(kedaVersion, '2.20.0');
}

/**
 * The deprecated `aws-eks` pod identity provider is removed in KEDA v3.
 * @public
 */
export function kedaSupportsAwsEksProvider(kedaVersion: string): boolean {
  return compareKedaVersion(kedaVersion, '3.0.0-0') < 0;
}
