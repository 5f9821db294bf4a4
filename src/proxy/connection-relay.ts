// One relayed connection, the edge between its two sockets and the sans-I/O parts: socket callbacks
// become RelayCore events (relay-core.ts) and its actions socket calls; bytes pass through the MSE
// bridge (mse-bridge.ts) on their way; only after a chunk is written is it saved (--save) and
// decoded, so decoding never delays or alters what is relayed.
import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import type { Dir } from '../model/record.js';
import type { FlowInfo, StreamHandler } from '../transport/types.js';
import type { BtContext } from '../bittorrent/types.js';
import type { PcapFlow, PcapWriter } from '../capture/pcap-writer.js';
import { MseBridge } from './mse-bridge.js';
import { RelayCore, isReset, type Side } from './relay-core.js';
import { endpoint, now, type ConnectionReport, type DecoderFactory, type ProxyOptions } from './proxy-types.js';
import { largeReads, readLargeFromAccepted, SOCKET_BUFFER, type ReadTarget } from './socket-io.js';

/** No plaintext: what `plain` holds between chunks (shared, never written to). */
const NO_PLAIN: readonly Uint8Array[] = [];

export class Relay {
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
  private plain: readonly Uint8Array[] = NO_PLAIN;
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
    const onread = largeReads(this.reads(1));
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
    // What the client sends is read as the target's bytes are (the 'data' listener stays for a Node
    // where this cannot be done).
    readLargeFromAccepted(client, largeReads(this.reads(0)));
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

  /** The reads of side `dir` (see largeReads): relayed and decoded by onData. */
  private reads(dir: Dir): ReadTarget {
    return {
      mayKeep: () => this.mayKeep(dir),
      deliver: (chunk) => {
        this.onData(dir, chunk);
        return this.mayKeep(dir);
      },
    };
  }

  /**
   * Whether a chunk read from `dir` may outlive onData: the other socket has writes queued (it gets
   * the chunk itself), the --save writer may queue it, or the MSE bridge may hold or rewrite it.
   */
  private mayKeep(dir: Dir): boolean {
    return this.flow !== undefined || !this.bridge.passesThrough || this.socket(dir === 0 ? 1 : 0).writableLength > 0;
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
