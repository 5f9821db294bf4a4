// How ltdh-inspect writes a time, in one place (issue 14: there were two formatTime functions and
// two isoTime functions): seconds since the capture's first packet with microseconds (the text
// timeline, --check, reports), ISO 8601 UTC (--check with microseconds, reports and the UI's details
// with milliseconds), and the terminal UI's time column in its three displays (`t` cycles them).
// A capture's timestamps are peer-independent but may be absurd (a damaged header): nothing here throws.

/** Seconds from `t0` to `ts` with microseconds: 0.123456 (negative when `ts` is earlier). */
export function secondsSince(ts: number, t0: number): string {
  return (ts - t0).toFixed(6);
}

/** The text timeline's time column: seconds since `t0`, right-aligned in 11; blank without a time. */
export function formatTime(ts: number | undefined, t0: number): string {
  if (ts === undefined) return ''.padStart(11);
  return secondsSince(ts, t0).padStart(11);
}

/**
 * `ts` as ISO 8601 UTC: with microseconds (2026-11-23T10:10:01.083678Z, rounded) or milliseconds
 * (2026-11-23T10:10:01.083Z, as Date writes it); a time no Date can hold as the number it is.
 */
export function isoTime(ts: number, digits: 3 | 6 = 6): string {
  if (digits === 3) return validDate(ts * 1000)?.toISOString() ?? String(ts);
  let sec = Math.floor(ts);
  let us = Math.round((ts - sec) * 1e6);
  if (us >= 1e6) {
    sec++;
    us -= 1e6;
  }
  const date = validDate(sec * 1000);
  if (date === undefined) return String(ts);
  return `${date.toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}Z`;
}

function validDate(ms: number): Date | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * How the UI's time column reads (`t` cycles): since `base` (the capture start, or the time
 * reference), since `previous` (the row shown above it), or absolute UTC.
 */
export interface RowTime {
  display: 'start' | 'previous' | 'utc';
  base: number;
  previous?: number | undefined;
}

/** The UI's time column, 12 wide: +0.100000, Δ0.050000, or UTC (with the date when `withDate`). */
export function rowTime(ts: number | undefined, time: RowTime, withDate = true): string {
  if (ts === undefined) return ''.padEnd(12);
  if (time.display === 'utc') {
    const iso = isoTime(ts, 3);
    // A space apart from the marker.
    return withDate ? ` ${iso.slice(0, 10)} ${iso.slice(11, 23)}` : ` ${iso.slice(11, 23)}`;
  }
  if (time.display === 'previous') return ('Δ' + secondsSince(ts, time.previous ?? ts)).padStart(12).slice(-12);
  const d = ts - time.base;
  return ((d < 0 ? '-' : '+') + Math.abs(d).toFixed(6)).padStart(12).slice(-12);
}
