// `--export FILE` and `--report FILE.html|FILE.md`: what to hand to another client's maintainers.
// One decoding pass feeds the report collector and notes each packet's flow; the export then reads
// the input again (stdin: a spooled copy) and keeps the packets of the chosen connections: those
// with a record matching --filter, or all. stdout still gets --json or --check when asked for;
// each written file is named on stderr.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { AnyRecord, RecordSink } from '../model/record.js';
import { decodeCapture, type CaptureSource, type InspectOptions } from '../inspect.js';
import { ExportError, FlowLog, writeExport } from '../capture/packet-export.js';
import { Spool } from '../capture/spool.js';
import { ReportCollector } from '../report/collect.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import type { ConnSelection, ReportMeta } from '../report/common.js';
import { StreamOutput } from '../output/stream-output.js';
import { CheckWriter } from '../output/check-writer.js';
import { inputWarningText } from '../output/text-format.js';
import { VERSION, type CaptureCliOptions } from './program.js';
import { warnOn, type RunIo } from './io.js';
import type { RecordStore } from '../model/store.js';
import type { ShareRequest } from '../ui/ui-state.js';

export type ReportFormat = 'html' | 'md';

/** The report format a file name asks for, or undefined (the name is then refused). */
export function reportFormatOf(path: string): ReportFormat | undefined {
  if (/\.html?$/i.test(path)) return 'html';
  if (/\.(md|markdown)$/i.test(path)) return 'md';
  return undefined;
}

export interface ShareResult {
  status: number;
  /** One line per file written, for the user. */
  wrote: string[];
}

/**
 * Decodes the input once for the reports and --json/--check, then writes the export. `source`: a
 * file, or the bytes of stdin or of a live capture; those are spooled for the export's second read.
 * Throws ExportError, CaptureError, InputError.
 */
export async function runShare(source: string | AsyncIterable<Uint8Array>, label: string, inspectOptions: InspectOptions, options: CaptureCliOptions, filter: ((r: AnyRecord) => boolean) | undefined, io: RunIo): Promise<ShareResult> {
  const reports = options.report ?? [];
  const collector = reports.length > 0 ? new ReportCollector() : undefined;
  const flows = options.export !== undefined ? new FlowLog() : undefined;
  const matched = new Set<number>();
  const json = options.json && !options.check ? new StreamOutput(io.stdout, { format: 'json', filter, summary: options.summary }) : undefined;
  if (options.check) io.finishAfterClose = true;
  const check = options.check ? new CheckWriter(io.stdout, { filter, json: options.json === true, failOn: options.failOn }) : undefined;
  const path = typeof source === 'string' ? source : '-';
  const sink: RecordSink = (r, raw) => {
    if (!('conn' in r)) warnOn(io, `${label}: warning: ${inputWarningText(r)}`);
    else if (r.conn > 0 && (filter === undefined || filter(r))) matched.add(r.conn);
    collector?.record(r, raw);
    json?.record(r, raw);
    check?.record(r, raw);
  };
  const spool = flows !== undefined && typeof source !== 'string' ? new Spool() : undefined;
  try {
    const input: CaptureSource = spool === undefined || typeof source === 'string' ? source : spool.tee(source);
    await decodeCapture(input, sink, { ...inspectOptions, observer: flows, onFirstPacket: (ts) => (collector?.setOrigin(ts), check?.setOrigin(ts)) }, () => (json === undefined || json.isClosed ? undefined : json.flush()));
    await spool?.close();
    await json?.end();
    const selected: ConnSelection = filter === undefined ? () => true : (conn) => matched.has(conn);
    const wrote: string[] = [];
    if (flows !== undefined && options.export !== undefined) {
      if (spool?.problem !== undefined) throw new ExportError(spool.problem);
      const conns = new Set<number>();
      const result = await writeExport(spool?.path ?? path, options.export, (index) => {
        const conn = flows.connOfPacket(index);
        if (conn === 0 || !selected(conn)) return false;
        conns.add(conn);
        return true;
      });
      wrote.push(`wrote ${options.export}: ${result.packets} packets of ${conns.size} connection${conns.size === 1 ? '' : 's'} (${result.bytes} bytes)`);
    }
    for (const file of reports) {
      const meta: ReportMeta = { capture: label, captureBytes: sizeOf(path), version: VERSION, command: commandLine(io.argv) };
      const text = reportFormatOf(file) === 'md' ? renderMarkdown(collector!, meta, selected) : renderHtml(collector!, meta, selected);
      await writeFile(file, text);
      wrote.push(`wrote ${file}: ${Buffer.byteLength(text)} bytes`);
    }
    return { status: check !== undefined ? await check.end() : 0, wrote };
  } finally {
    spool?.remove();
  }
}

function sizeOf(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** The command line as typed, each argument quoted when it needs to be. */
function commandLine(argv: readonly string[]): string {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return ['ltdh-inspect', ...args].join(' ');
}

export interface UiShareContext {
  /** The capture file, or undefined when the input is not kept (stdin, a live capture). */
  path: string | undefined;
  label: string;
  store: RecordStore;
  /** Each packet's connection, noted while the UI's decoding read the file. */
  flows: FlowLog | undefined;
  /** The program's arguments (Io.argv), quoted in the report. */
  argv: readonly string[];
}

/**
 * The terminal UI's `w` (a capture of the connections) and `W` (their HTML report), written to the
 * current directory under a name not yet taken; resolves to the status line's text.
 */
export function uiShare(ctx: UiShareContext): (request: ShareRequest) => Promise<string> {
  return async (request) => {
    const conns = new Set(request.conns);
    const base = basename(ctx.path ?? 'stdin').replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '');
    const tag = request.conns.length === 1 ? `conn${request.conns[0]}` : `${request.conns.length}conns`;
    if (request.kind === 'export') {
      if (ctx.path === undefined || ctx.flows === undefined) return 'w writes from a capture file only (stdin and live captures are not kept): use --export';
      if (!ctx.store.finished) return 'the capture is still being read: press w again when the status says done';
      const out = freeName(`${base}-${tag}.pcap`);
      const result = await writeExport(ctx.path, out, (index) => conns.has(ctx.flows!.connOfPacket(index)));
      return `wrote ${out}: ${result.packets} packets of ${request.what}`;
    }
    const collector = new ReportCollector();
    if (ctx.store.origin !== undefined) collector.setOrigin(ctx.store.origin);
    for (let i = 0; i < ctx.store.size; i++) {
      const r = ctx.store.record(i)!;
      // The piece map reads bitfields; the store kept their first 8 KiB.
      collector.record(r, 'msg' in r && r.msg === 'bitfield' ? ctx.store.bytes(i)?.bytes : undefined);
    }
    const meta: ReportMeta = { capture: ctx.label, captureBytes: ctx.path !== undefined ? sizeOf(ctx.path) : undefined, version: VERSION, command: `${commandLine(ctx.argv)} (W in the terminal UI: ${request.what})` };
    const out = freeName(`${base}-${tag}-report.html`);
    await writeFile(out, renderHtml(collector, meta, (conn) => conns.has(conn)));
    return `wrote ${out}: the report of ${request.what}`;
  };
}

/** `name`, or name-2, name-3... when it exists. */
function freeName(name: string): string {
  const dot = name.lastIndexOf('.');
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
    if (!existsSync(candidate)) return candidate;
  }
}
