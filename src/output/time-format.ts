// How a record's time reads, in the text timeline and the terminal UI alike (one owner): seconds
// since the capture's first record with microseconds, or the time of day in UTC.

/** Seconds since `t0`, microseconds shown ("0.012965"); `sign` puts a + before it (the UI's column). */
export function relativeTime(ts: number, t0: number, sign = false): string {
  return (sign ? '+' : '') + (ts - t0).toFixed(6);
}

/** The time of day in UTC with milliseconds ("00:01:40.500"). */
export function clockTime(ts: number): string {
  return new Date(ts * 1000).toISOString().slice(11, 23);
}

/** A timeline's time column, `width` wide (right-aligned, its start cut when longer); blank without a time. */
export function formatTime(ts: number | undefined, t0: number, opts: { width: number; absolute?: boolean; sign?: boolean }): string {
  if (ts === undefined) return ''.padStart(opts.width);
  if (opts.absolute) return clockTime(ts);
  return relativeTime(ts, t0, opts.sign).padStart(opts.width).slice(-opts.width);
}
