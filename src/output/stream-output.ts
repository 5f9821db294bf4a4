// Text and JSON sinks for a byte stream (stdout): records formatted as they come, written in
// batches with backpressure, summaries at the end. The text timeline is put in capture order
// across connections through a bounded reorder window; JSON goes out as decoded.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AnyRecord, EventRecord, RecordSink } from '../model/record.js';
import { SummaryCollector } from './summary.js';
import { formatRecord, formatSummary, judgedAt, summaryHeader } from './text-format.js';
import { PendingStarts, ReorderWindow } from './reorder.js';
import type { FlowStartWatch } from '../transport/types.js';
import { ansiStyled, rowColor, severityColor, type Theme } from '../ui/theme.js';
import { rowKind } from '../ui/row-format.js';

export interface StreamOutputOptions {
  format: 'text' | 'json';
  /** Records that fail it are not written (summaries and input warnings always are). */
  filter?: (r: AnyRecord) => boolean;
  /** Write per-connection summaries at the end (default true). */
  summary?: boolean;
  /**
   * Live sources that cannot wait for the reader (the proxy): past this many bytes queued for a
   * stdout that does not keep up, records are dropped (and counted, and the count written once it
   * keeps up again) instead of buffered without bound. Summaries are never dropped.
   */
  maxQueued?: number;
  /**
   * A live source (stdin from tcpdump, the proxy): lines held for ordering go out once no record
   * has come for this long (ms), instead of waiting for later packets that may not come.
   */
  liveIdleMs?: number;
  /** Capture seconds a text line waits for earlier ones (see ReorderWindow; default 2). */
  reorderSeconds?: number;
  /** Text only: colour the lines as the terminal UI colours its rows (stdout is a terminal). */
  theme?: Theme;
}

/** Past this many buffered characters a batch is written even before the caller flushes. */
const BATCH_CHARS = 1 << 16;
/** Summary lines written at a time. */
const SUMMARY_BATCH = 512;

export class StreamOutput {
  private lines: string[] = [];
  private chars = 0;
  private t0: number | undefined;
  /** A released connection's summary is written as soon as it is final (see SummaryCollector). */
  private readonly summaries = new SummaryCollector({ onFinal: (s) => this.writeFinal(s) });
  /** Where the record before this one belongs in the text timeline (a final summary goes there). */
  private lastFrame = 0;
  private lastTs = 0;
  private closed = false;
  private dropped = 0;
  private draining: Promise<void> | undefined;
  private readonly order: ReorderWindow<string>;
  private lastRecordAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Writable,
    private readonly options: StreamOutputOptions,
  ) {
    this.order = new ReorderWindow((line) => this.push(line), { seconds: options.reorderSeconds });
    // The reader went away (`| head`): stop writing, not an error of ours. Anything else (ENOSPC,
    // EBADF) also ends the writing; the program's stdout handler says why and sets the exit status.
    out.on('error', () => (this.closed = true));
  }

  /** The RecordSink to hand to the pipeline. */
  readonly record: RecordSink = (r) => {
    this.summaries.record(r);
    if (this.options.format === 'text' && 'conn' in r) {
      const at = judgedAt(r);
      this.lastFrame = at.frame ?? 0;
      this.lastTs = at.ts ?? this.lastTs;
    }
    // Before the filter: times count from the capture's first packet (setOrigin), else from the
    // first record, whatever the filter shows.
    this.t0 ??= r.ts;
    if (this.options.filter !== undefined && 'conn' in r && !this.options.filter(r)) return;
    if (this.options.maxQueued !== undefined && this.out.writableLength + this.chars > this.options.maxQueued) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) this.reportDropped();
    if (this.options.format === 'json') {
      this.push(JSON.stringify(r));
      return;
    }
    const at = judgedAt(r);
    this.order.push({ frame: at.frame ?? 0, ts: at.ts ?? this.t0 ?? 0 }, this.coloured(r, formatRecord(r, this.t0 ?? 0)));
    if (this.options.liveIdleMs !== undefined) this.watchIdle(this.options.liveIdleMs);
  };

  /**
   * For the pipeline's `flowStarts` option (call before the first record): told of every flow as it
   * starts, the text timeline holds its lines only while a flow could still be found to be
   * BitTorrent (its open event is dated at its start). Without it (the proxy) each line waits the
   * whole window. Undefined for JSON, which is written as decoded.
   */
  flowStarts(): FlowStartWatch | undefined {
    if (this.options.format !== 'text') return undefined;
    const pending = new PendingStarts({ seconds: this.options.reorderSeconds });
    this.order.watch(pending);
    return pending;
  }

  /** The capture's first packet: what timeline times count from (call before the first record). */
  setOrigin(ts: number): void {
    this.t0 ??= ts;
  }

  /** A live source gone quiet: what is held for ordering is written. */
  private watchIdle(ms: number): void {
    this.lastRecordAt = Date.now();
    if (this.idleTimer !== undefined || this.order.size === 0) return;
    const check = (): void => {
      const quiet = Date.now() - this.lastRecordAt;
      if (quiet < ms && this.order.size > 0) {
        this.idleTimer = setTimeout(check, ms - quiet);
        this.idleTimer.unref();
        return;
      }
      this.idleTimer = undefined;
      this.order.flush();
      void this.flush();
    };
    this.idleTimer = setTimeout(check, ms);
    this.idleTimer.unref();
  }

  /** The UI's row colours (and bold lt_donthave) on a terminal; findings by severity. */
  private coloured(r: AnyRecord, line: string): string {
    const theme = this.options.theme;
    if (theme === undefined || !theme.color) return line;
    const kind = rowKind(r);
    const color = 'event' in r && r.event === 'finding' ? severityColor(r.severity, theme) : rowColor(kind, theme);
    return ansiStyled(line, { color, bold: kind === 'donthave' });
  }

  /**
   * A released connection's summary, final: written now rather than held to the end (JSON: the same
   * record; text: its lines in the timeline where the connection was released).
   */
  private writeFinal(s: EventRecord): void {
    if (this.options.summary === false) return;
    if (this.options.format === 'json') this.push(JSON.stringify(s));
    else this.order.push({ frame: this.lastFrame, ts: this.lastTs }, formatSummary(s).join('\n'));
  }

  /** Records dropped because the reader did not keep up (maxQueued). */
  get droppedRecords(): number {
    return this.dropped;
  }

  private reportDropped(): void {
    const message = `output did not keep up: ${this.dropped} record(s) dropped (the relay went on unchanged)`;
    this.dropped = 0;
    this.push(this.options.format === 'json' ? JSON.stringify({ event: 'warning', message }) : `warning: ${message}`);
  }

  /** Writes what is buffered; resolves when the stream can take more. */
  async flush(): Promise<void> {
    if (this.lines.length === 0 || this.closed) {
      this.lines = [];
      this.chars = 0;
      return;
    }
    // The closing newline joined in, not appended: `join(...) + '\n'` is a cons string that the write
    // flattens into one more copy of the whole batch.
    this.lines.push('');
    const text = this.lines.join('\n');
    this.lines = [];
    this.chars = 0;
    if (this.out.write(text) && this.draining === undefined) return;
    // One wait for 'drain' however many flushes come while the reader is behind (a live source
    // flushes on a timer): a listener per flush would pile up.
    this.draining ??= this.waitForDrain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async waitForDrain(): Promise<void> {
    // The wait that loses the race is called off: left pending, each wait kept a 'close' and an
    // 'error' listener on stdout for good (Node warned after ten, on a long output to a pipe).
    const done = new AbortController();
    try {
      await Promise.race([once(this.out, 'drain', { signal: done.signal }), once(this.out, 'close', { signal: done.signal })]);
    } catch {
      // `once` rejects with the stream's error (EPIPE: the reader went away; ENOSPC...): writing
      // ends either way, and the program's stdout handler decides the exit status.
      this.closed = true;
    } finally {
      done.abort();
    }
  }

  /** Summaries, then everything flushed. */
  async end(): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.order.flush();
    if (this.dropped > 0) this.reportDropped();
    if (this.options.summary !== false) await this.writeSummaries();
    await this.flush();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Written as they are made, a batch at a time: a hundred thousand summaries are not held at once. */
  private async writeSummaries(): Promise<void> {
    const json = this.options.format === 'json';
    if (!json) {
      if (this.summaries.size === 0) {
        this.push('\nno BitTorrent connection found');
        return;
      }
      this.push(`\n${summaryHeader(this.summaries.size, this.summaries.released, this.summaries.finalCount)}:`);
    }
    for (const s of this.summaries.eachSummary()) {
      if (json) this.lines.push(JSON.stringify(s));
      else this.lines.push(...formatSummary(s));
      if (this.lines.length >= SUMMARY_BATCH) await this.flush();
    }
  }

  private push(line: string): void {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= BATCH_CHARS) void this.flush();
  }
}
