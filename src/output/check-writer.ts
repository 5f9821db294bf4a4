// `--check`: the findings, one line each (or, with --json, each finding record as --json prints
// it), then a verdict line (or record); end() gives the exit status (0 no finding at the failing
// severity, 1 at least one; the failing severity is error, or warning and above with
// `--fail-on warning`). The status never depends on stdout: when its reader goes away (`| head -1`) the
// writer stops writing and the caller goes on decoding to the verdict.
import type { Writable } from 'node:stream';
import type { AnyRecord, EventRecord, RecordSink, Severity } from '../model/record.js';
import { escapeText } from './escape.js';
import { inputWarningText, plural, unjudgedTotal } from './text-format.js';
import { isoTime, secondsSince } from './time-format.js';

export interface CheckWriterOptions {
  /** Findings that fail it are neither printed nor counted. */
  filter?: (r: AnyRecord) => boolean;
  /** Records as `--json` prints them, then a `verdict` record. */
  json?: boolean;
  /** The lowest severity that fails the check: 'error' (the default) or 'warning' (errors too). */
  failOn?: FailOn;
}

export type FailOn = 'error' | 'warning';
export const FAIL_ON_LEVELS: readonly FailOn[] = ['error', 'warning'];

/** The `--check --json` verdict record. */
export interface VerdictRecord {
  event: 'verdict';
  verdict: 'PASS' | 'FAIL';
  errors: number;
  warnings: number;
  info: number;
  connections: number;
  /** Findings not judged because the capture lacked what they need; absent when none. */
  unjudged?: number;
}

export class CheckWriter {
  private readonly counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  private readonly conns = new Set<number>();
  /** Findings not judged because the capture lacked what they need (issue 18). */
  private unjudged = 0;
  private closed = false;
  /** What times are relative to: the capture's first packet (setOrigin), else the first record. */
  private t0: number | undefined;

  constructor(
    private readonly out: Writable,
    private readonly options: CheckWriterOptions = {},
  ) {
    // Whatever fails on stdout (the reader left: EPIPE), the verdict is still reached: only the
    // writing stops.
    out.on('error', () => (this.closed = true));
  }

  /** The capture's first packet time: finding times are relative to it. */
  setOrigin(ts: number): void {
    this.t0 ??= ts;
  }

  readonly record: RecordSink = (r) => {
    if (r.ts !== undefined) this.t0 ??= r.ts;
    if (!('conn' in r)) {
      this.write(this.options.json ? JSON.stringify(r) : `input warning: ${inputWarningText(r)}`);
      return;
    }
    if (r.conn > 0) this.conns.add(r.conn);
    if ('event' in r && r.event === 'unjudged' && r.unjudged !== undefined) {
      if (this.options.filter !== undefined && !this.options.filter(r)) return;
      this.unjudged += unjudgedTotal(r.unjudged);
      this.write(this.options.json ? JSON.stringify(r) : formatUnjudged(r));
      return;
    }
    if (!('event' in r) || r.event !== 'finding') return;
    if (this.options.filter !== undefined && !this.options.filter(r)) return;
    this.counts[r.severity ?? 'info']++;
    this.write(this.options.json ? JSON.stringify(r) : formatFinding(r, this.t0 ?? r.ts));
  };

  /** Stdout failed (its reader went away): nothing more is written. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes the verdict; resolves to the exit status once the output is flushed (or has failed). */
  async end(): Promise<number> {
    const failOn = this.options.failOn ?? 'error';
    const status = fails(this.counts, failOn) ? 1 : 0;
    this.write(this.options.json ? JSON.stringify(verdictRecord(this.counts, this.conns.size, failOn, this.unjudged)) : verdictLine(this.counts, this.conns.size, failOn, this.unjudged));
    if (!this.closed && !this.out.destroyed) await new Promise<void>((resolve) => this.out.write('', () => resolve()));
    return status;
  }

  private write(line: string): void {
    if (this.closed || this.out.destroyed) return;
    this.out.write(`${line}\n`);
  }
}

/**
 * One finding: severity, code, connection, the time of its message since the capture's first packet
 * `t0` with the absolute time (ISO 8601 UTC) beside it, its frame, piece, a late note, explanation.
 */
export function formatFinding(r: EventRecord, t0: number): string {
  const where = r.conn > 0 ? `conn ${r.conn} ${escapeText(r.src)} -> ${escapeText(r.dst)}` : 'capture';
  const frame = r.frame !== undefined ? ` frame ${r.frame}` : '';
  const piece = r.piece !== undefined ? ` piece ${r.piece}` : '';
  const late = r.late === true ? ` (late: judged at ${secondsSince(r.judgedTs ?? r.ts, t0)}${r.judgedFrame !== undefined ? `, frame ${r.judgedFrame}` : ''})` : '';
  return `${(r.severity ?? 'info').padEnd(7)} ${r.finding ?? '?'} ${where} at ${secondsSince(r.ts, t0)} (${isoTime(r.ts)})${frame}${piece}${late}: ${escapeText(r.message ?? '')}`;
}

/** A connection's findings that were not judged: `not judged conn N A -> B: ...`. */
export function formatUnjudged(r: EventRecord): string {
  return `not judged conn ${r.conn} ${escapeText(r.src)} -> ${escapeText(r.dst)}: ${escapeText(r.message ?? '')}`;
}

/** Whether these counts fail a check that fails on `failOn` and above. */
export function fails(counts: Record<Severity, number>, failOn: FailOn = 'error'): boolean {
  return counts.error > 0 || (failOn === 'warning' && counts.warning > 0);
}

export function verdictRecord(counts: Record<Severity, number>, connections: number, failOn: FailOn = 'error', unjudged = 0): VerdictRecord {
  const v: VerdictRecord = { event: 'verdict', verdict: fails(counts, failOn) ? 'FAIL' : 'PASS', errors: counts.error, warnings: counts.warning, info: counts.info, connections };
  if (unjudged > 0) v.unjudged = unjudged;
  return v;
}

export function verdictLine(counts: Record<Severity, number>, connections: number, failOn: FailOn = 'error', unjudged = 0): string {
  const verdict = fails(counts, failOn) ? 'FAIL' : 'PASS';
  const notJudged = unjudged > 0 ? `; ${unjudged} not judged (the capture lost what they need)` : '';
  return `verdict: ${verdict} - ${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.info} info in ${plural(connections, 'connection')}${failOn === 'warning' ? ' (--fail-on warning)' : ''}${notJudged}`;
}
