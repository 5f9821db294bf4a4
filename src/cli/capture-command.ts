// `ltdh-inspect CAPTURE`: decode a capture file (or stdin) to the terminal UI, text, JSON or a
// --check verdict. Input problems become one line on stderr and exit status 2.
import type { AnyRecord, RecordSink } from '../model/record.js';
import { CaptureError, decodeCapture, type CaptureSource, type InspectOptions } from '../inspect.js';
import { decompressIfGzip, InputError, openCaptureStream, openStdin } from '../capture/source.js';
import { DEFAULT_BPF, startLiveCapture, type LiveCapture } from '../capture/live-capture.js';
import { CaptureReader } from '../capture/capture-reader.js';
import { loadTorrent } from '../analysis/torrent.js';
import { StreamOutput } from '../output/stream-output.js';
import { CheckWriter, type FailOn } from '../output/check-writer.js';
import { inputWarningText } from '../output/text-format.js';
import { loadTui } from '../ui/load-tui.js';
import { LEAVE_ALT_SCREEN, SHOW_CURSOR, firstScreenRows, paintFirstFrame } from '../ui/first-frame.js';
import { feedStore } from '../ui/capture-feed.js';
import { openKeyboard, type Keyboard } from '../ui/keyboard.js';
import { makeTheme } from '../ui/theme.js';
import { RecordStore } from '../model/store.js';
import { openFileBytes } from '../capture/file-bytes.js';
import { compileFilter } from '../model/filter.js';
import { compileRecordFilter, FilterSyntaxError } from './filter-option.js';
import type { CaptureCliOptions } from './program.js';
import { reportFormatOf, runShare, uiShare } from './share-command.js';
import { ExportError, FlowLog, frameReader } from '../capture/packet-export.js';
import { warnOn, type Io, type RunIo } from './io.js';
import { idlePolicy } from '../transport/idle.js';
import { keepHeapNearLive } from './heap-tuning.js';
import { StatisticsCollector } from '../model/statistics.js';
import { formatStatistics } from '../output/stats-text.js';

/** `path`: a file or '-' (io.stdin); with -i (options.interface) it is undefined and tcpdump is read. */
export async function runCaptureCommand(path: string | undefined, options: CaptureCliOptions, io: RunIo): Promise<number> {
  const warn = (line: string): void => warnOn(io, line);
  const fail = (message: string): number => failOn(io, message);
  let filter: ((r: AnyRecord) => boolean) | undefined;
  const inspectOptions: InspectOptions = { ports: options.port, extMap: options.extMap, maxPackets: options.count, stallSeconds: options.stall, idle: idlePolicy(options.idleTimeout) };
  let live: LiveCapture | undefined;
  try {
    filter = compileRecordFilter(options.filter);
    if (options.torrent !== undefined) inspectOptions.torrent = await loadTorrent(options.torrent);
    if (options.interface !== undefined) live = await startLiveCapture(options.interface, options.bpf ?? DEFAULT_BPF);
  } catch (err) {
    if (err instanceof FilterSyntaxError || err instanceof InputError) return fail(err.message);
    throw err;
  }
  const badReport = options.report?.find((f) => reportFormatOf(f) === undefined);
  if (badReport !== undefined) return fail(`--report ${badReport}: the name must end in .html or .md`);
  const label = live?.label ?? (path === '-' ? 'stdin' : path!);
  let source: CliSource = live?.chunks ?? path!;
  if (live !== undefined) warn(`capturing with ${live.label}; q or Ctrl-C stops`);
  const stopOnInterrupt = (): void => live?.stop();
  // Ctrl-C ends the capture like the end of a file: what was captured is decoded and summarised.
  if (live !== undefined) process.on('SIGINT', stopOnInterrupt);
  try {
    // '-': the bytes of io.stdin, read as a live capture's are (a terminal or a directory is refused here).
    if (path === '-' && live === undefined) source = openStdin(io.stdin);
    if (options.export !== undefined || options.report !== undefined) return await runShareCommand(source, label, inspectOptions, options, filter, io);
    if (options.stats) return await runStats(source, inspectOptions, filter, options.json === true, io);
    if (options.check) return await runCheck(source, inspectOptions, filter, options.json === true, label, options.failOn, io);
    if (io.isTTY && options.tui && !options.json) {
      const keyboard = openKeyboard(io.stdin, path === '-');
      if (keyboard !== undefined) return await runInteractive(label, path ?? '-', source, live, inspectOptions, options.filter, keyboard, io);
      warn('no terminal to read keys from (stdin is the capture and /dev/tty cannot be opened): printing the text timeline');
    }
    return await runStream(source, inspectOptions, options, filter, label, live !== undefined || path === '-', io);
  } catch (err) {
    if (err instanceof CaptureError || err instanceof InputError) return fail(`${label}: ${err.message}`);
    throw err;
  } finally {
    process.off('SIGINT', stopOnInterrupt);
    live?.stop();
  }
}

async function runStream(
  source: CaptureSource,
  inspectOptions: InspectOptions,
  options: CaptureCliOptions,
  filter: ((r: AnyRecord) => boolean) | undefined,
  label: string,
  live: boolean,
  io: Io,
): Promise<number> {
  keepHeapNearLive();
  const format = options.json ? 'json' : 'text';
  // Colour only on a terminal (never into a pipe or file); makeTheme honours NO_COLOR.
  const theme = format === 'text' && io.isTTY ? makeTheme() : undefined;
  // A live capture's lines wait for ordering only briefly, and not at all once it goes quiet.
  const output = new StreamOutput(io.stdout, { format, filter, summary: options.summary, theme, ...(live ? LIVE_ORDER : {}) });
  const sink: RecordSink = (r, raw) => {
    if (!('conn' in r)) {
      warnOn(io, `${label}: warning: ${inputWarningText(r)}`);
      if (format === 'text') return;
    }
    output.record(r, raw);
  };
  const onFirstPacket = (ts: number): void => output.setOrigin(ts);
  await decodeCapture(source, sink, { ...inspectOptions, onFirstPacket, flowStarts: output.flowStarts() }, () => (output.isClosed ? undefined : output.flush()));
  await output.end();
  return 0;
}

/** --export / --report: files written, named on stderr; stdout gets only --json or --check. */
async function runShareCommand(source: CliSource, label: string, inspectOptions: InspectOptions, options: CaptureCliOptions, filter: ((r: AnyRecord) => boolean) | undefined, io: RunIo): Promise<number> {
  try {
    const result = await runShare(source, label, inspectOptions, options, filter, io);
    for (const line of result.wrote) warnOn(io, line);
    return result.status;
  } catch (err) {
    if (err instanceof ExportError) return failOn(io, `--export: ${err.message}`);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && 'path' in (err as object)) {
      const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code;
      return failOn(io, `cannot write ${(err as NodeJS.ErrnoException).path}: ${why}`);
    }
    throw err;
  }
}

/** --stats: Conversations, message types, IO graph of the records the filter keeps (tshark -z). */
async function runStats(source: CaptureSource, inspectOptions: InspectOptions, filter: ((r: AnyRecord) => boolean) | undefined, json: boolean, io: Io): Promise<number> {
  const stats = new StatisticsCollector();
  await decodeCapture(source, (r) => stats.record(r, filter === undefined || filter(r)), inspectOptions);
  const result = stats.result(Math.max(20, (io.stdout.columns ?? 100) - 12));
  io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${formatStatistics(result, io.stdout.columns ?? 100).join('\n')}\n`);
  return 0;
}

/** --check: decodes to the end even when stdout's reader has gone (`| head -1`): the exit status is the verdict. */
async function runCheck(
  source: CaptureSource,
  inspectOptions: InspectOptions,
  filter: ((r: AnyRecord) => boolean) | undefined,
  json: boolean,
  label: string,
  failOn: FailOn,
  io: RunIo,
): Promise<number> {
  keepHeapNearLive();
  io.finishAfterClose = true;
  const check = new CheckWriter(io.stdout, { filter, json, failOn });
  const sink: RecordSink = (r, raw) => {
    // --json's input warnings go to stderr too, as they do without --check.
    if (json && !('conn' in r)) warnOn(io, `${label}: warning: ${inputWarningText(r)}`);
    check.record(r, raw);
  };
  await decodeCapture(source, sink, { ...inspectOptions, onFirstPacket: (ts) => check.setOrigin(ts) });
  return check.end();
}

async function runInteractive(
  label: string,
  path: string,
  source: CliSource,
  live: LiveCapture | undefined,
  inspectOptions: InspectOptions,
  filter: string | undefined,
  keyboard: Keyboard,
  io: Io,
): Promise<number> {
  // Only on a terminal (io.isTTY): a tty.WriteStream, with columns and rows.
  const terminal = io.stdout as NodeJS.WriteStream;
  const store = new RecordStore();
  const applied = filter !== undefined && filter.trim() !== '' ? filter : undefined;
  const compiled = applied !== undefined ? compileFilter(applied) : undefined;
  if (compiled?.ok) store.setFilter(compiled.test);
  // Unreadable input is reported before the screen is taken over; damaged gzip data shows up only
  // while the capture is read, as a warning in the timeline.
  const chunks = await startCapture(source, (message, offset) => store.add({ event: 'warning', message, offset }), io);
  // Long messages keep their first bytes and where the rest lies in the file: the hex pane reads it back.
  const fileBytes = live !== undefined ? { source: undefined, why: 'a live capture keeps only the first bytes of a message', close() {} } : openFileBytes(path);
  store.setByteSource(fileBytes.source, fileBytes.why);
  // `w` writes a capture of connections by reading the file again: which packet is whose is noted now.
  const flows = live === undefined && path !== '-' ? new FlowLog({ frames: fileBytes.source !== undefined }) : undefined;
  store.setFrameReader(fileBytes.source !== undefined && flows !== undefined ? frameReader(flows, fileBytes.source) : (fileBytes.why ?? 'the capture packets cannot be read back'));
  // Decoded in slices until a screenful of records is in view; the first rows go on the screen then,
  // while ink and React take about 0.2 s more to load and paint.
  const feed = feedStore(chunks, store, { screenRows: firstScreenRows(terminal), inspect: { ...inspectOptions, locate: fileBytes.source !== undefined, observer: flows } });
  await feed.firstScreen;
  const prepainted = paintFirstFrame(terminal, store, label, applied);
  const restore = (): void => void terminal.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  if (prepainted) process.once('exit', restore);
  const runTui = await loadTui();
  process.off('exit', restore);
  try {
    // Live data is followed (new rows scroll in) until the user moves the selection.
    const share = uiShare({ path: flows !== undefined ? path : undefined, label, store, flows, argv: io.argv });
    await runTui({ title: label, filter: applied, store, prepainted, keys: keyboard.stream, out: terminal, feed: () => feed.feeding, follow: live !== undefined, share, hangUp: () => io.hangUp() });
  } finally {
    keyboard.close();
    fileBytes.close();
    feed.stop();
    // The capture program is stopped now: the shell comes back at once, not when it next writes.
    live?.stop();
    // A live capture on stdin may send nothing more for a long time: stop reading it.
    if (path === '-') io.stdin.destroy();
  }
  const failure = feed.failure();
  return failure === undefined ? 0 : failOn(io, `${label}: ${failure}`);
}

/** Reorder window of a live text timeline: half a second of capture time, released after 200 ms of quiet. */
const LIVE_ORDER = { reorderSeconds: 0.5, liveIdleMs: 200 };

/** A path ('-' is stdin) or the bytes of a live capture. */
type CliSource = string | AsyncIterable<Uint8Array>;

/** Opens the input and checks that its first bytes are a capture; the chunks come back whole. */
async function startCapture(source: CliSource, onDamage: (message: string, offset: number) => void, io: Io): Promise<AsyncIterable<Uint8Array>> {
  const stream = typeof source === 'string' ? await openCaptureStream(source, { onDamage, stdin: io.stdin }) : decompressIfGzip(source, { onDamage });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  const problem = first.done ? 'empty input' : captureProblem(first.value);
  if (problem !== undefined) throw new CaptureError(problem);
  return (async function* () {
    if (!first.done) yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
}

function captureProblem(chunk: Uint8Array): string | undefined {
  let problem: string | undefined;
  const reader = new CaptureReader({ packet() {}, warning() {}, fatal: (message) => (problem ??= message) });
  reader.push(chunk);
  return problem;
}

/** Unreadable input, unwritable output, a bad option: one line on stderr and exit status 2. */
function failOn(io: Io, message: string): number {
  warnOn(io, message);
  return 2;
}
