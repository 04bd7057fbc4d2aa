import { formatAbsoluteTime, formatRelativeTime } from './relativeTime';

const now = Date.parse('2026-11-28T06:00:00.000Z');

describe('formatRelativeTime', () => {
  it.each([
    ['2026-11-28T05:56:00.000Z', '4 minutes ago'],
    ['2026-11-28T05:59:30.000Z', '30 seconds ago'],
    ['2026-11-28T03:00:00.000Z', '3 hours ago'],
    ['2026-11-26T06:00:00.000Z', '2 days ago'],
    ['2026-11-28T06:05:00.000Z', 'in 5 minutes'],
  ])('%s → %s', (iso, expected) => {
    expect(formatRelativeTime(iso, now)).toBe(expected);
  });

  it('calls anything within 10 seconds "now", so clock skew never reads as the future', () => {
    expect(formatRelativeTime('2026-11-28T06:00:04.000Z', now)).toBe('now');
    expect(formatRelativeTime('2026-11-28T05:59:55.000Z', now)).toBe('now');
  });

  it('returns undefined for missing or unparsable timestamps', () => {
    expect(formatRelativeTime(undefined, now)).toBeUndefined();
    expect(formatRelativeTime('yesterday-ish', now)).toBeUndefined();
  });
});

describe('formatAbsoluteTime', () => {
  it('includes the date, the time and a time zone name', () => {
    const text = formatAbsoluteTime('2026-11-28T05:56:00.000Z', 'en-GB');
    expect(text).toMatch(/2026/);
    expect(text).toMatch(/\d{2}:\d{2}/);
    expect(text).toMatch(/[A-Z]{2,}|GMT|UTC/);
  });

  it('returns undefined for an unparsable timestamp', () => {
    expect(formatAbsoluteTime('not a time')).toBeUndefined();
  });
});
