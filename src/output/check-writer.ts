// `--check`: the findings, one line each, then a verdict line; end() gives the exit status
// (0 no error-level finding, 1 at least one).
import type { Writable } from 'node:stream';
import type { AnyRecord, EventRecord, RecordSink, Severity } from '../model/record.js';
import { escapeText } from './escape.js';
import { inputWarningText } from './text-format.js';

export interface CheckWriterOptions {
  /** Findings that fail it are neither printed nor counted. */
  filter?: (r: AnyRecord) => boolean;
}

export class CheckWriter {
  private readonly counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  private readonly conns = new Set<number>();
  private readonly connsWithFindings = new Set<number>();

  constructor(
    private readonly out: Writable,
    private readonly options: CheckWriterOptions = {},
  ) {}

  readonly record: RecordSink = (r) => {
    if (!('conn' in r)) {
      this.out.write(`input warning: ${inputWarningText(r)}\n`);
      return;
    }
    if (r.conn > 0) this.conns.add(r.conn);
    if (!('event' in r) || r.event !== 'finding') return;
    if (this.options.filter !== undefined && !this.options.filter(r)) return;
    const severity = r.severity ?? 'info';
    this.counts[severity]++;
    if (r.conn > 0) this.connsWithFindings.add(r.conn);
    this.out.write(`${formatFinding(r)}\n`);
  };

  /** Writes the verdict; resolves to the exit status once the output is flushed. */
  async end(): Promise<number> {
    const status = this.counts.error > 0 ? 1 : 0;
    this.out.write(`${verdictLine(this.counts, this.conns.size)}\n`);
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
    return status;
  }
}

export function formatFinding(r: EventRecord): string {
  const where = r.conn > 0 ? `conn ${r.conn} ${escapeText(r.src)} -> ${escapeText(r.dst)}` : 'capture';
  const piece = r.piece !== undefined ? ` piece ${r.piece}` : '';
  return `${(r.severity ?? 'info').padEnd(7)} ${r.finding ?? '?'} ${where} at ${r.ts.toFixed(6)}${piece}: ${escapeText(r.message ?? '')}`;
}

export function verdictLine(counts: Record<Severity, number>, connections: number): string {
  const verdict = counts.error > 0 ? 'FAIL' : 'PASS';
  return `verdict: ${verdict} - ${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${counts.info} info in ${plural(connections, 'connection')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
