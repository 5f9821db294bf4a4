// `ltdh-inspect proxy LISTEN TARGET`: relay and decode live; one-line errors exit 2, Ctrl-C/SIGTERM
// stops accepting, closes connections, flushes outputs, prints the summary and exits 0.
import type { AnyRecord, RecordSink } from '../model/record.js';
import { StreamOutput } from '../output/stream-output.js';
import { escapeText } from '../output/escape.js';
import { compileRecordFilter, FilterSyntaxError } from '../cli/filter-option.js';
import { ArgumentError, parseListen, parseTarget, resolveTarget } from './address.js';
import { handshakeHashes, loadTorrent } from '../analysis/torrent.js';
import { InputError } from '../capture/source.js';
import { loadTui, type RunTui } from '../ui/load-tui.js';
import { endpoint, startProxy, type ConnectionReport, type ProxyHandle } from './relay.js';

export interface ProxyCommandOptions {
  json?: boolean;
  save?: string;
  filter?: string;
  tui?: boolean;
  summary?: boolean;
  /** .torrent files and info hashes (hex) whose MSE/PE sessions the proxy decrypts. */
  torrent?: string[];
  infoHash?: string[];
}

export async function runProxyCommand(listen: string, target: string, options: ProxyCommandOptions): Promise<number> {
  let filter: ((r: AnyRecord) => boolean) | undefined;
  let where: { host?: string; port: number };
  let to: { host: string; port: number };
  let infoHashes: Uint8Array[];
  try {
    filter = compileRecordFilter(options.filter);
    where = parseListen(listen);
    to = await resolveTarget(parseTarget(target));
    infoHashes = await secretsOf(options);
  } catch (err) {
    if (err instanceof ArgumentError || err instanceof FilterSyntaxError || err instanceof InputError) return fail(err.message);
    throw err;
  }
  if (process.stdout.isTTY && options.tui !== false && !options.json) {
    return runInteractive(await loadTui(), where, to, options, infoHashes);
  }
  const output = new StreamOutput(process.stdout, { format: options.json ? 'json' : 'text', filter, summary: options.summary });
  let flushing = false;
  const sink: RecordSink = (r, raw) => {
    output.record(r, raw);
    // Live output: write each record as it is decoded, in one batch per event-loop turn.
    if (!flushing) {
      flushing = true;
      setImmediate(() => {
        flushing = false;
        void output.flush();
      });
    }
  };
  let proxy: ProxyHandle;
  try {
    proxy = await startProxy({ listen: where, target: to, sink, save: options.save, onLog: log, infoHashes });
  } catch (err) {
    return fail(startError(err, listen, options.save));
  }
  banner(where, proxy, to, options.save);
  await stopSignal();
  log(`stopping: ${proxy.active} connection(s) open`);
  const reports = await proxy.close();
  await output.end();
  printReports(reports);
  return 0;
}

async function runInteractive(runTui: RunTui, where: { host?: string; port: number }, to: { host: string; port: number }, options: ProxyCommandOptions, infoHashes: Uint8Array[]): Promise<number> {
  let proxy: ProxyHandle | undefined;
  let failure: string | undefined;
  await runTui({
    title: `proxy ${listenText(where)} -> ${endpoint(to.host, to.port)}`,
    filter: options.filter,
    feed: async (sink) => {
      try {
        proxy = await startProxy({ listen: where, target: to, sink, save: options.save, infoHashes });
      } catch (err) {
        failure = startError(err, listenText(where), options.save);
        return;
      }
      await stopSignal();
      await proxy.close();
    },
  });
  if (failure !== undefined) return fail(failure);
  if (proxy !== undefined && proxy.active > 0) await proxy.close();
  return 0;
}

/** The MSE shared secrets: each torrent's handshake info hashes (v1, truncated v2) and the given hashes. */
async function secretsOf(options: ProxyCommandOptions): Promise<Uint8Array[]> {
  const hex: string[] = [];
  for (const file of options.torrent ?? []) hex.push(...handshakeHashes(await loadTorrent(file)));
  for (const h of options.infoHash ?? []) {
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

function banner(where: { host?: string; port: number }, proxy: ProxyHandle, to: { host: string; port: number }, save?: string): void {
  const on = where.host === undefined ? `every interface, port ${proxy.port}` : proxy.address;
  log(`listening on ${on}, relaying to ${endpoint(to.host, to.port)}${save ? `, saving to ${save}` : ''} (Ctrl-C to stop)`);
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function printReports(reports: ConnectionReport[]): void {
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

function log(line: string): void {
  process.stderr.write(`ltdh-inspect: ${line}\n`);
}

function fail(message: string): number {
  log(message);
  return 2;
}
