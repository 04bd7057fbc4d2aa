const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];

/**
 * "3 minutes ago" / "in 2 hours" for an ISO timestamp, relative to `now`.
 * Returns undefined for a missing or unparsable timestamp so callers can show
 * "never" rather than "NaN years ago".
 */
export function formatRelativeTime(
  iso: string | undefined,
  now: number,
  locale = 'en',
): string | undefined {
  if (!iso) return undefined;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return undefined;
  const delta = time - now;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (Math.abs(delta) < 10_000) {
    // Clock skew between browser and cluster makes "in 3 seconds" confusing.
    return format.format(0, 'second');
  }
  for (const [unit, ms] of UNITS) {
    if (Math.abs(delta) >= ms || unit === 'second') {
      return format.format(Math.round(delta / ms), unit);
    }
  }
  return undefined;
}

/** Absolute timestamp for tooltips: locale date and time with the zone. */
export function formatAbsoluteTime(
  iso: string | undefined,
  locale?: string,
): string | undefined {
  if (!iso) return undefined;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return undefined;
  return new Date(time).toLocaleString(locale, { timeZoneName: 'short' });
}
