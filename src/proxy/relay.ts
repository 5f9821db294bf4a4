// The live relay: every accepted client gets its own upstream connection; bytes are forwarded
// first (with backpressure, half-close and resets passed through), then tapped into a decoder.
import { createServer, connect, type Server, type Socket, type TcpNetConnectOpts } from 'node:net';
import type { AnyRecord, Dir, RecordSink } from '../model/record.js';
import type { FlowInfo, StreamHandler } from '../transport/types.js';
import type { BtContext } from '../bittorrent/types.js';
import { PcapWriter, type PcapFlow } from '../capture/pcap-writer.js';
import { MseBridge } from './mse-bridge.js';
import { RelayCore, isReset, type Side } from './relay-core.js';

/**
 * Bytes queued per socket before its reader is paused: bounds memory per connection while keeping
 * pause/resume (two syscalls each) off the per-chunk path; 16 KiB (the default) halves throughput.
 */
const SOCKET_BUFFER = 1 << 20;

/**
 * The upstream socket reads into buffers of this size (Node's own reads take 64 KiB at a time): a
 * read then moves up to 256 KiB, with a write for each, and the kernel is entered a quarter as
 * often. Measured relaying 1 GB of pieces from the target: 1.5 s of proxy CPU against 2.3 s with
 * 64 KiB reads. Node offers this (`onread`) only for sockets it connects, not for accepted ones.
 */
const UPSTREAM_READ = 256 * 1024;
/**
 * A read of less than this is copied out and its buffer read into again; a larger one is passed on
 * and the next read gets a new buffer. A queued chunk so never pins more than twice its size.
 */
const UPSTREAM_HANDOFF = UPSTREAM_READ / 2;

/** No plaintext: what `plain` holds between chunks (shared, never written to). */
const NO_PLAIN: Uint8Array[] = [];

export type DecoderFactory = (info: FlowInfo, ctx: BtContext) => StreamHandler;

export interface ProxyOptions {
  listen: { host?: string; port: number };
  target: { host: string; port: number };
  sink: RecordSink;
  /** Also write what is relayed as a pcap file. */
  save?: string;
  onLog?: (line: string) => void;
  /** Decoder per connection; BtConnection by default. */
  decoder?: DecoderFactory;
  /** Info hashes (20 bytes each) the proxy may use as MSE/PE shared secret to decrypt sessions. */
  infoHashes?: readonly Uint8Array[];
  /** A connection is over (both sockets closed) and its decoder has flushed every record. */
  onConnectionEnd?: (conn: number) => void;
  /** With `save`: give each message's location in the --save file (ByteExtents) to the sink. */
  locate?: boolean;
}

export type ConnectionEnd = 'closed' | 'reset' | 'refused' | 'error' | 'aborted';

export interface ConnectionReport {
  conn: number;
  client: string;
  target: string;
  openedAt: number;
  closedAt?: number;
  /** Bytes client -> target and target -> client. */
  bytesUp: number;
  bytesDown: number;
  end?: ConnectionEnd;
  reason?: string;
  /** The decoder threw; decoding stopped, relaying went on. */
  decoderError?: string;
}

export interface ProxyHandle {
  /** The listening endpoint, "ip:port". */
  address: string;
  port: number;
  /** Connections currently relayed. */
  readonly active: number;
  /** Bytes read from a socket and not yet taken by the kernel on the other side or by the --save file (bounded by backpressure). */
  readonly queued: number;
  /** Stops accepting, closes every connection, flushes the decoders and the --save file (once: later calls get the same). */
  close(): Promise<ConnectionReport[]>;
}

export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const decoder = opts.decoder ?? (await defaultDecoder());
  const pcap = opts.save !== undefined ? new PcapWriter(opts.save, (err) => saveFailed(opts, err)) : undefined;
  if (pcap) await pcap.opened();
  const reports: ConnectionReport[] = [];
  const live = new Set<Relay>();
  let nextConn = 1;
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, highWaterMark: SOCKET_BUFFER }, (client) => {
    const relay = new Relay(nextConn++, client, opts, decoder, pcap, () => live.delete(relay));
    live.add(relay);
    reports.push(relay.report);
  });
  try {
    await listen(server, opts.listen);
  } catch (err) {
    await pcap?.close();
    throw err;
  }
  server.on('error', (err) => opts.onLog?.(`listener error: ${err.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.listen.port;
  const host = typeof addr === 'object' && addr !== null ? addr.address : '';
  let closing: Promise<ConnectionReport[]> | undefined;
  const close = async (): Promise<ConnectionReport[]> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...live].map((r) => r.abort()));
    await stopped;
    await pcap?.close();
    return reports;
  };
  return {
    address: endpoint(host, port),
    port,
    get active() {
      return live.size;
    },
    get queued() {
      let bytes = pcap?.queued ?? 0;
      for (const r of live) bytes += r.queued;
      return bytes;
    },
    close: () => (closing ??= close()),
  };
}

/** The --save file stopped taking writes: relaying and decoding go on, the user is told once. */
function saveFailed(opts: ProxyOptions, err: NodeJS.ErrnoException): void {
  const message = `cannot write ${opts.save}: ${err.code ?? err.message}; relaying goes on, the rest is not saved`;
  opts.onLog?.(message);
  try {
    opts.sink({ event: 'warning', ts: now(), message });
  } catch {
    // As for the relay's own events: a failing sink must not take the proxy down.
  }
}

async function defaultDecoder(): Promise<DecoderFactory> {
  const { BtConnection } = await import('../bittorrent/connection.js');
  return (info, ctx) => new BtConnection(info, ctx);
}

function listen(server: Server, where: { host?: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port: where.port, host: where.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** "ip:port", IPv6 as "[addr]:port", IPv4-mapped IPv6 as plain IPv4. */
export function endpoint(ip: string, port: number): string {
  const plain = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** Seconds since the epoch with sub-millisecond resolution (Date.now() has only milliseconds). */
export function now(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

class Relay {
  readonly report: ConnectionReport;
  private readonly upstream: Socket;
  private readonly clientAddr: string;
  private readonly targetAddr: string;
  private handler: StreamHandler | undefined;
  private ctx: BtContext | undefined;
  private readonly bridge: MseBridge;
  /** The relay's rules (pause/resume, half-close, reset mirroring); this class performs its actions. */
  private readonly core: RelayCore;
  /** The plaintext of the chunk the core just had written (set by its write action, read in onData). */
  private plain: Uint8Array[] = [];
  private flow: PcapFlow | undefined;
  private connected = false;
  private closedSockets = 0;
  /** Messages are located in the --save file (opts.locate with a pcap to write). */
  private readonly locating: boolean;
  private finished = false;
  /** With --save: the frame (in that file) of the packet whose bytes or event are being decoded. */
  private frameNow = 0;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    conn: number,
    private readonly client: Socket,
    private readonly opts: ProxyOptions,
    private readonly decoder: DecoderFactory,
    private readonly pcap: PcapWriter | undefined,
    private readonly onDone: () => void,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.locating = opts.locate === true && pcap !== undefined;
    this.clientAddr = endpoint(client.remoteAddress ?? '?', client.remotePort ?? 0);
    this.targetAddr = endpoint(opts.target.host, opts.target.port);
    const openedAt = now();
    this.report = { conn, client: this.clientAddr, target: this.targetAddr, openedAt, bytesUp: 0, bytesDown: 0 };
    this.flow = pcap?.flow(
      { ip: client.remoteAddress ?? '0.0.0.0', port: client.remotePort ?? 0 },
      { ip: opts.target.host, port: opts.target.port },
      openedAt,
    );
    let readBuffer = Buffer.allocUnsafe(UPSTREAM_READ);
    const onread = {
      buffer: (): Buffer => readBuffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        // Whatever is passed on must never be read into again: the write queue, the MSE bridge and
        // the --save writer may still hold it.
        let chunk: Buffer;
        if (n >= UPSTREAM_HANDOFF) {
          chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
          readBuffer = Buffer.allocUnsafe(UPSTREAM_READ);
        } else chunk = Buffer.from(buf.subarray(0, n));
        this.upstream.emit('data', chunk);
        return true;
      },
    };
    this.upstream = connect({ host: opts.target.host, port: opts.target.port, allowHalfOpen: true, highWaterMark: SOCKET_BUFFER, onread } as TcpNetConnectOpts);
    this.upstream.setNoDelay(true);
    client.setNoDelay(true);
    this.bridge = new MseBridge(opts.infoHashes ?? [], {
      send: (to, bytes) => {
        const socket = to === 'client' ? this.client : this.upstream;
        return socket.destroyed ? true : socket.write(bytes);
      },
      note: (kind, message) => this.onMseNote(kind, message),
    });
    this.core = new RelayCore({
      // The bridge forwards (re-encrypting when it terminates MSE) and keeps the plaintext, which is
      // what the decoder and the --save file get.
      write: (to, bytes) => {
        const { ok, plain } = this.bridge.push(to === 1 ? 0 : 1, bytes);
        this.plain = plain;
        return ok;
      },
      pause: (side) => this.socket(side).pause(),
      resume: (side) => {
        const s = this.socket(side);
        if (!s.destroyed) s.resume();
      },
      end: (side) => {
        const s = this.socket(side);
        if (!s.destroyed) s.end();
      },
      destroy: (side, reset) => {
        const s = this.socket(side);
        if (s.destroyed) return;
        if (reset && typeof s.resetAndDestroy === 'function' && s.readyState !== 'opening') s.resetAndDestroy();
        else s.destroy();
      },
    });
    this.startDecoder(openedAt);
    this.upstream.once('connect', () => this.onUpstreamConnected());
    this.wire(client, 0);
    this.wire(this.upstream, 1);
  }

  private socket(side: Side): Socket {
    return side === 0 ? this.client : this.upstream;
  }

  get queued(): number {
    return this.client.writableLength + this.upstream.writableLength + this.bridge.held;
  }

  /** Closes both sides now (shutdown). */
  abort(): Promise<void> {
    if (!this.finished) {
      this.report.end ??= 'aborted';
      this.core.abort();
    }
    return this.done;
  }

  private onUpstreamConnected(): void {
    this.connected = true;
    this.flow?.established(now());
    this.core.connect();
  }

  /** Maps one socket's callbacks to the core's events; decoding and --save happen here, after the write. */
  private wire(from: Socket, dir: Dir): void {
    from.on('data', (chunk: Buffer) => this.onData(dir, chunk));
    from.on('end', () => this.onEnd(dir));
    from.on('error', (err: NodeJS.ErrnoException) => this.onError(dir, err));
    from.on('drain', () => this.core.drain(dir));
    from.on('close', () => {
      this.core.close(dir);
      this.onSocketClosed();
    });
  }

  private onData(dir: Dir, chunk: Buffer): void {
    // Written to the other side first (through the bridge); only then saved and decoded.
    this.core.data(dir, chunk);
    const plain = this.plain;
    this.plain = NO_PLAIN;
    const ts = now();
    if (dir === 0) this.report.bytesUp += chunk.length;
    else this.report.bytesDown += chunk.length;
    // With --save, the decoder is fed packet by packet, each with its frame in the file (and, with
    // locate, where it lies there).
    const saved: Array<[Uint8Array, number, number]> | undefined = this.flow !== undefined ? [] : undefined;
    for (const p of plain) {
      if (this.flow !== undefined && !this.flow.data(dir, p, ts, saved) && this.pcap !== undefined) {
        this.core.hold(dir);
        void this.pcap.drained().then(() => this.core.release(dir));
      }
    }
    if (saved !== undefined) this.feedSaved(dir, saved, ts);
    else for (const p of plain) this.tap((h) => h.data(dir, p, ts));
  }

  private onEnd(dir: Dir): void {
    const ts = now();
    const rest = this.bridge.end(dir);
    if (this.flow !== undefined) {
      const saved: Array<[Uint8Array, number, number]> = [];
      for (const p of rest) this.flow.data(dir, p, ts, saved);
      this.feedSaved(dir, saved, ts);
    } else for (const p of rest) this.tap((h) => h.data(dir, p, ts));
    this.core.end(dir);
    this.flow?.fin(dir, ts);
    this.frameNow = this.pcap?.frame ?? 0;
    this.tap((h) => h.end(dir, 'fin', ts));
  }

  private onError(dir: Dir, err: NodeJS.ErrnoException): void {
    const ts = now();
    if (dir === 1 && !this.connected) {
      this.report.end = 'refused';
      this.report.reason = `${this.targetAddr}: ${err.code ?? err.message}`;
      this.flow?.refused(ts);
      this.emit({ event: 'close', ts, message: `upstream ${this.targetAddr} unreachable: ${err.code ?? err.message}` });
      this.opts.onLog?.(`conn ${this.report.conn}: upstream ${this.targetAddr} unreachable (${err.code ?? err.message}), client closed`);
      this.core.error(dir, err.code);
      return;
    }
    const reset = isReset(err.code);
    this.report.end ??= reset ? 'reset' : 'error';
    this.report.reason ??= `${dir === 0 ? 'client' : 'target'}: ${err.code ?? err.message}`;
    this.flow?.rst(dir, ts);
    this.frameNow = this.pcap?.frame ?? 0;
    this.tap((h) => h.end(dir, 'rst', ts));
    this.core.error(dir, err.code);
  }

  private onSocketClosed(): void {
    if (++this.closedSockets < 2 || this.finished) return;
    this.finished = true;
    const ts = now();
    this.report.closedAt = ts;
    this.report.end ??= 'closed';
    this.frameNow = this.pcap?.frame ?? 0;
    this.tap((h) => h.finish(ts));
    if (this.flow !== undefined && this.report.end === 'closed') {
      this.flow.fin(0, ts);
      this.flow.fin(1, ts);
    }
    this.opts.onConnectionEnd?.(this.report.conn);
    this.onDone();
    this.resolveDone();
  }

  private startDecoder(ts: number): void {
    // The --save file's SYN was just written: its frame is the connection's first.
    const info: FlowInfo = { transport: 'tcp', initiator: this.clientAddr, responder: this.targetAddr, startTs: ts, startFrame: this.pcap?.frame ?? 0, startSeen: true };
    const conn = this.report.conn;
    const ctx: BtContext = { sink: this.opts.sink, assignConn: () => conn, portHint: true, locate: this.locating };
    if (this.pcap !== undefined) ctx.frame = () => this.frameNow;
    this.ctx = ctx;
    try {
      this.handler = this.decoder(info, ctx);
    } catch (err) {
      this.decoderFailed(err);
    }
  }

  /** Bytes written to the --save file, fed to the decoder packet by packet with their frames. */
  private feedSaved(dir: Dir, saved: Array<[Uint8Array, number, number]>, ts: number): void {
    for (const [part, at, frame] of saved) {
      this.frameNow = frame;
      this.tap((h) => h.data(dir, part, ts, this.locating ? at : -1, frame));
    }
  }

  /** The decoder is a side tap: its failures stop decoding, never relaying. */
  private tap(call: (h: StreamHandler) => void): void {
    if (this.handler === undefined) return;
    try {
      call(this.handler);
    } catch (err) {
      this.decoderFailed(err);
    }
  }

  private onMseNote(kind: 'terminated' | 'opaque' | 'failed', message: string): void {
    const ts = now();
    if (kind === 'opaque' && this.ctx !== undefined) {
      // Relayed untouched: the decoder labels the key exchange itself (and decodes a plaintext part)
      // instead of resynchronising into ciphertext.
      this.ctx.portHint = false;
    }
    this.opts.onLog?.(`conn ${this.report.conn}: ${message}`);
    if (kind === 'terminated') this.emit({ event: 'encrypted', ts, message });
    if (kind === 'opaque') return;
    if (kind === 'failed') {
      this.report.end ??= 'error';
      this.report.reason ??= message;
      this.emit({ event: 'warning', ts, message });
      this.core.abort();
    }
  }

  private decoderFailed(err: unknown): void {
    this.handler = undefined;
    const message = err instanceof Error ? err.message : String(err);
    this.report.decoderError = message;
    this.emit({ event: 'warning', ts: now(), message: `decoder failed, relaying without decoding: ${message}` });
  }

  private emit(r: { event: 'close' | 'warning' | 'encrypted'; ts: number; message: string }): void {
    try {
      const frame = this.pcap?.frame ?? 0;
      const base = { ...r, conn: this.report.conn, transport: 'tcp' as const, src: this.clientAddr, dst: this.targetAddr };
      this.opts.sink(frame > 0 ? { ...base, frame } : base);
    } catch {
      // A failing sink must not take the relay down either.
    }
  }
}
