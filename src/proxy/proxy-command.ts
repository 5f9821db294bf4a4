// `ltdh-inspect proxy LISTEN TARGET`: relay and decode live; one-line errors exit 2, Ctrl-C/SIGTERM
// stops accepting, closes connections, flushes outputs, prints the summary and exits 0.
import type { AnyRecord, RecordSink } from '../model/record.js';
import { StreamOutput } from '../output/stream-output.js';
import { escapeText } from '../output/escape.js';
import { compileRecordFilter, FilterSyntaxError } from '../cli/filter-option.js';
import { ArgumentError, parseListen, parseTarget, resolveTarget } from './address.js';
import { handshakeHashes, loadTorrent, type TorrentInfo } from '../analysis/torrent.js';
import { Analyzer } from '../analysis/analyzer.js';
import { InputError } from '../capture/source.js';
import { loadTui, type RunTui } from '../ui/load-tui.js';
import { openKeyboard } from '../ui/keyboard.js';
import { RecordStore } from '../model/store.js';
import { openFileBytes } from '../capture/file-bytes.js';
import { endpoint, now, startProxy, type ConnectionReport, type ProxyHandle } from './relay.js';
import { warnOn, type Io } from '../cli/io.js';

/** How long a decoded record may wait before it is written (batching the writes of a fast transfer). */
const LIVE_FLUSH_MS = 20;
/** Output queued for a stdout that does not keep up, before records are dropped. */
const OUTPUT_QUEUE_BYTES = 16 << 20;

export interface ProxyCommandOptions {
  json?: boolean;
  save?: string;
  filter?: string;
  tui?: boolean;
  summary?: boolean;
  /** .torrent files and info hashes (hex) whose MSE/PE sessions the proxy decrypts. */
  torrent?: string[];
  infoHash?: string[];
  /** Seconds of silence on outstanding requests that make request-stalled (wall-clock here). */
  stall?: number;
}

/** `io`: the program's streams (src/cli/io.ts): records on its stdout, the banner and reports on its stderr. */
export async function runProxyCommand(listen: string, target: string, options: ProxyCommandOptions, io: Io): Promise<number> {
  const log = (line: string): void => warnOn(io, line);
  const fail = (message: string): number => (log(message), 2);
  let filter: ((r: AnyRecord) => boolean) | undefined;
  let where: { host?: string; port: number };
  let to: { host: string; port: number };
  let torrents: TorrentInfo[];
  let infoHashes: Uint8Array[];
  try {
    filter = compileRecordFilter(options.filter);
    where = parseListen(listen);
    to = await resolveTarget(parseTarget(target));
    torrents = await Promise.all((options.torrent ?? []).map((file) => loadTorrent(file)));
    infoHashes = secretsOf(torrents, options.infoHash ?? []);
  } catch (err) {
    if (err instanceof ArgumentError || err instanceof FilterSyntaxError || err instanceof InputError) return fail(err.message);
    throw err;
  }
  if (io.isTTY && options.tui !== false && !options.json) {
    const keyboard = openKeyboard(io.stdin, false);
    if (keyboard !== undefined) {
      try {
        return await runInteractive(await loadTui(), where, to, options, torrents, infoHashes, keyboard.stream, io);
      } finally {
        keyboard.close();
      }
    }
    log('no terminal to read keys from (/dev/tty cannot be opened): printing the text timeline');
  }
  // Relaying never waits for the output: a stdout that stops reading costs records, not memory.
  const output = new StreamOutput(io.stdout, { format: options.json ? 'json' : 'text', filter, summary: options.summary, maxQueued: OUTPUT_QUEUE_BYTES, reorderSeconds: 0.5, liveIdleMs: 100 });
  let flushing = false;
  const sink: RecordSink = (r, raw) => {
    output.record(r, raw);
    // Live output: what is decoded is written within LIVE_FLUSH_MS. A write per event-loop turn
    // cost a fast transfer a write(2) every few records (measured: 0.25 s of CPU per GB relayed).
    if (!flushing) {
      flushing = true;
      setTimeout(() => {
        flushing = false;
        void output.flush();
      }, LIVE_FLUSH_MS);
    }
  };
  const analyzer = analyzerFor(sink, torrents, options.stall);
  let proxy: ProxyHandle;
  try {
    proxy = await startProxy({ listen: where, target: to, sink: analyzer.record, save: options.save, onLog: log, infoHashes, onConnectionEnd: (conn) => analyzer.forget(conn) });
  } catch (err) {
    return fail(startError(err, listen, options.save));
  }
  const stopClock = startStallClock(analyzer);
  banner(where, proxy, to, options.save, log);
  await stopSignal();
  log(`stopping: ${proxy.active} connection(s) open`);
  const reports = await proxy.close();
  stopClock();
  analyzer.finish();
  await output.end();
  printReports(reports, log);
  return 0;
}

async function runInteractive(
  runTui: RunTui,
  where: { host?: string; port: number },
  to: { host: string; port: number },
  options: ProxyCommandOptions,
  torrents: TorrentInfo[],
  infoHashes: Uint8Array[],
  keys: NodeJS.ReadStream,
  io: Io,
): Promise<number> {
  // Listening starts before the UI takes the screen, so that a port in use is a one-line error; what
  // is decoded until the UI's store exists is held for it.
  // `raw` and `where` are valid only during the call: what waits is copied.
  const early: Array<Parameters<RecordSink>> = [];
  let forward: RecordSink = (r, raw, at) => void early.push([r, raw?.slice(), at?.slice()]);
  const analyzer = analyzerFor((r, raw, at) => forward(r, raw, at), torrents, options.stall);
  let proxy: ProxyHandle;
  try {
    proxy = await startProxy({ listen: where, target: to, sink: analyzer.record, save: options.save, infoHashes, onConnectionEnd: (conn) => analyzer.forget(conn), locate: options.save !== undefined });
  } catch (err) {
    warnOn(io, startError(err, listenText(where), options.save));
    return 2;
  }
  const stopClock = startStallClock(analyzer);
  // The hex pane reads long messages back from the --save file, as it does from a capture file.
  const store = new RecordStore();
  const saved = options.save !== undefined ? openFileBytes(options.save) : undefined;
  store.setByteSource(saved?.source, saved?.why ?? 'a live session keeps only the first 256 bytes of each message (--save FILE keeps them all)');
  let uiClosed!: () => void;
  const quit = new Promise<void>((resolve) => (uiClosed = resolve));
  let reports: ConnectionReport[] = [];
  let fed: Promise<void> = Promise.resolve();
  const feedUi = async (sink: RecordSink): Promise<void> => {
    for (const [r, raw, at] of early.splice(0)) sink(r, raw, at);
    forward = sink;
    await stopSignal(quit);
    reports = await proxy.close();
    stopClock();
    analyzer.finish();
  };
  await runTui({
    title: `proxy ${listenText(where)} -> ${endpoint(to.host, to.port)}`,
    filter: options.filter,
    keys,
    // Only on a terminal (io.isTTY): a tty.WriteStream.
    out: io.stdout as NodeJS.WriteStream,
    store,
    feed: (sink) => (fed = feedUi(sink)),
    hangUp: () => io.hangUp(),
  });
  // Quitting the UI stops the proxy too: its listener would keep the process alive.
  uiClosed();
  await fed;
  saved?.close();
  printReports(reports, (line) => warnOn(io, line));
  return 0;
}

/**
 * Findings, as the capture decoder gives them (a --save file reopened shows the same records). One
 * --torrent also gives the piece count and hashes, as it does for a capture; the analyzer takes one.
 */
function analyzerFor(sink: RecordSink, torrents: TorrentInfo[], stallSeconds: number | undefined): Analyzer {
  return new Analyzer(sink, { torrent: torrents.length === 1 ? torrents[0] : undefined, stallSeconds });
}

/**
 * The analyzer is sans-I/O: in a capture the packets move its clock on, here wall-clock time does,
 * so that a peer that goes silent is reported while the connection is live, not when the next byte
 * arrives. Ticks four times per stall time (at least every second, at most every 50 ms); the
 * returned function stops it.
 */
function startStallClock(analyzer: Analyzer): () => void {
  const every = Math.min(1000, Math.max(50, analyzer.stallSeconds * 250));
  const timer = setInterval(() => analyzer.advance(now()), every);
  timer.unref();
  return () => clearInterval(timer);
}

/** The MSE shared secrets: each torrent's handshake info hashes (v1, truncated v2) and the given hashes. */
function secretsOf(torrents: TorrentInfo[], infoHashes: string[]): Uint8Array[] {
  const hex: string[] = [];
  for (const t of torrents) hex.push(...handshakeHashes(t));
  for (const h of infoHashes) {
    if (!/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(h)) throw new ArgumentError(`--info-hash ${h}: expected 40 (v1) or 64 (v2) hex digits`);
    hex.push(h.slice(0, 40).toLowerCase());
  }
  return [...new Set(hex)].map((h) => new Uint8Array(Buffer.from(h, 'hex')));
}

function startError(err: unknown, listen: string, save: string | undefined): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') return `cannot listen on ${listen}: address already in use`;
  if (e.code === 'EACCES') return `cannot listen on ${listen}: permission denied`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${listen}: address not available`;
  if (save !== undefined && typeof e.path === 'string') return `cannot write ${save}: ${e.code ?? e.message}`;
  return `cannot start proxy: ${e.message}`;
}

function listenText(where: { host?: string; port: number }): string {
  return where.host === undefined ? `:${where.port}` : endpoint(where.host, where.port);
}

function banner(where: { host?: string; port: number }, proxy: ProxyHandle, to: { host: string; port: number }, save: string | undefined, log: (line: string) => void): void {
  const on = where.host === undefined ? `every interface, port ${proxy.port}` : proxy.address;
  log(`listening on ${on}, relaying to ${endpoint(to.host, to.port)}${save ? `, saving to ${save}` : ''} (Ctrl-C to stop)`);
}

/** Ctrl-C or SIGTERM, or `also` (the UI closed). */
function stopSignal(also?: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void also?.then(stop);
  });
}

function printReports(reports: ConnectionReport[], log: (line: string) => void): void {
  if (reports.length === 0) {
    log('no connection accepted');
    return;
  }
  for (const r of reports) {
    const secs = ((r.closedAt ?? Date.now() / 1000) - r.openedAt).toFixed(1);
    const why = r.reason !== undefined ? ` (${escapeText(r.reason)})` : '';
    const dec = r.decoderError !== undefined ? `, decoder stopped: ${escapeText(r.decoderError)}` : '';
    log(`conn ${r.conn} ${r.client} -> ${r.target}: ${r.bytesUp} B up, ${r.bytesDown} B down, ${secs} s, ${r.end ?? 'open'}${why}${dec}`);
  }
}
