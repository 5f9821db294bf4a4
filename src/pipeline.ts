// Wires the sans-I/O stages: capture records -> link/IP -> TCP/uTP reassembly -> BitTorrent decoder.
// Plain code, no I/O: feed it capture bytes with push(), then end().
import { CaptureReader } from './capture/capture-reader.js';
import type { CaptureHandler, CapturedPacket, ExactTime } from './capture/types.js';
import { decodeLink, isSupportedLinkType, linkTypeName } from './net/decode.js';
import type { NetPacket } from './net/types.js';
import { TcpReassembler } from './transport/tcp-reassembler.js';
import { UtpReassembler } from './transport/utp-reassembler.js';
import type { FlowInfo, FlowStartWatch, StreamHandler } from './transport/types.js';
import { BtConnection } from './bittorrent/connection.js';
import { AdvertisedMappings, GivenMappings, type GivenMapping } from './bittorrent/extensions.js';
import type { RecordSink } from './model/record.js';
import type { BtContext } from './bittorrent/types.js';
import { DEFAULT_IDLE, type IdlePolicy } from './transport/idle.js';

export interface PipelineOptions {
  /** `--port`: flows on these ports are decoded even when their start was not captured. */
  ports?: readonly number[];
  /** Tell the sink where each message's bytes lie in the capture, so they can be read back later. */
  locate?: boolean;
  /** `--ext-map` (Decode As): the mappings endpoints advertised outside the capture. */
  extMap?: readonly GivenMapping[];
  /**
   * `--idle-timeout`: when connections silent in capture time are released (a `released` event);
   * default DEFAULT_IDLE (600 s established, 30 s for the others), NEVER_IDLE to keep every one.
   */
  idle?: IdlePolicy;
  /** `-c N`: decode the first N packets only; `done` turns true once they have been read. */
  maxPackets?: number;
  /**
   * Called with the time of the capture's first packet (frame 1, whatever it carries), before any
   * record: what timelines count time from, as Wireshark does, whatever the filter shows.
   */
  onFirstPacket?: (ts: number) => void;
  /**
   * Told each packet's capture time before the packet is decoded: any packet, of any connection (or
   * none), moves the capture clock on, e.g. for the analyzer's stall judgement.
   */
  clock?: (ts: number, frame?: number) => void;
  /** Told which flow each packet belongs to (for `--export`). */
  observer?: PacketObserver;
  /** Told of each TCP and uTP flow as it starts (the text timeline's ordering: PendingStarts). */
  flowStarts?: FlowStartWatch;
}

/**
 * Sees every capture packet with the flow the reassemblers put it in: flows are numbered from 1 as
 * they appear (0: the packet is in none), and a flow found to be BitTorrent gets its connection
 * number. `exactTime` is the packet's timestamp as stored, valid during the call.
 */
export interface PacketObserver {
  packet(p: CapturedPacket, flow: number, exactTime: () => ExactTime): void;
  connection(flow: number, conn: number): void;
}

/** Broken packets reported one by one before they are only counted. */
const PACKET_WARNING_LIMIT = 10;

export class Pipeline implements CaptureHandler {
  private readonly reader: CaptureReader;
  private readonly tcp: TcpReassembler;
  private readonly utp: UtpReassembler;
  private readonly ports: ReadonlySet<number>;
  private readonly locate: boolean;
  private readonly onFirstPacket: ((ts: number) => void) | undefined;
  private readonly clock: ((ts: number, frame?: number) => void) | undefined;
  private readonly advertised = new AdvertisedMappings();
  private readonly observer: PacketObserver | undefined;
  /** With an observer: each flow's number. */
  private readonly flowIds = new WeakMap<StreamHandler, number>();
  private flows = 0;
  private readonly given: GivenMappings | undefined;
  /** The decoder's context, one for flows the --port hint matches and one for the others (not one per flow). */
  private readonly contexts: [BtContext, BtContext];
  private readonly maxPackets: number;
  private nextConn = 1;
  private lastTs = 0;
  private badPackets = 0;
  private supportedPackets = 0;
  /** Link type -> packets skipped. */
  private readonly unsupportedLinkTypes = new Map<number, number>();
  /** Set when the input cannot be read as a capture; reading stops. */
  fatalError: string | undefined;
  packets = 0;
  /** Number of the packet being read (every packet of the file counts, as in Wireshark). */
  private frame = 0;
  private readonly currentFrame = (): number => this.frame;

  constructor(
    private readonly sink: RecordSink,
    options: PipelineOptions = {},
  ) {
    this.ports = new Set(options.ports ?? []);
    this.locate = options.locate === true;
    this.onFirstPacket = options.onFirstPacket;
    this.observer = options.observer;
    this.maxPackets = options.maxPackets ?? Infinity;
    this.clock = options.clock;
    this.given = options.extMap !== undefined && options.extMap.length > 0 ? new GivenMappings(options.extMap) : undefined;
    const factory = (info: FlowInfo): StreamHandler => this.newFlow(info);
    const context = (portHint: boolean): BtContext => ({ sink: this.sink, assignConn: () => this.nextConn++, portHint, locate: this.locate, advertised: this.advertised, given: this.given, frame: this.currentFrame });
    this.contexts = [context(false), context(true)];
    const idle = options.idle ?? DEFAULT_IDLE;
    // --export places every packet in its connection: SYNs too, so each flow's handler is made at once.
    const starts = options.flowStarts;
    this.tcp = new TcpReassembler(factory, { idle, eagerHandlers: this.observer !== undefined, starts });
    this.utp = new UtpReassembler(factory, { idle, starts });
    this.reader = new CaptureReader(this);
  }

  /** The last packet read: its time and frame number (frame 0: none yet). */
  get lastPacket(): { ts: number; frame: number } {
    return { ts: this.lastTs, frame: this.frame };
  }

  /** Feed capture bytes (any chunking). */
  push(chunk: Uint8Array): void {
    if (this.fatalError === undefined) this.reader.push(chunk);
  }

  /** End of input: flush the reader, every reassembler and every connection. */
  end(): void {
    // After -c N packets the reader is left inside the next one: that is not a truncated capture.
    if (this.fatalError === undefined && !this.done) this.reader.end();
    if (this.fatalError !== undefined) return;
    if (this.supportedPackets === 0 && this.unsupportedLinkTypes.size > 0) {
      const [lt = -1] = this.unsupportedLinkTypes.keys();
      this.fatalError = `unsupported link type ${lt} (${linkTypeName(lt)})`;
      return;
    }
    for (const [lt, count] of this.unsupportedLinkTypes) {
      this.inputWarning(`${count} packets of unsupported link type ${lt} (${linkTypeName(lt)}) skipped`);
    }
    if (this.badPackets > PACKET_WARNING_LIMIT) {
      this.inputWarning(`${this.badPackets - PACKET_WARNING_LIMIT} more packets could not be decoded`);
    }
    this.tcp.finish(this.lastTs);
    this.utp.finish(this.lastTs);
  }

  /** The packet limit (-c) was reached: the rest of the input is not needed. */
  get done(): boolean {
    return this.packets >= this.maxPackets;
  }

  packet(p: CapturedPacket): void {
    const handler = this.decodePacket(p);
    if (this.observer !== undefined) {
      this.observer.packet(p, handler === null ? 0 : (this.flowIds.get(handler) ?? 0), this.exactTime);
    }
  }

  private readonly exactTime = (): ExactTime => this.reader.exactTime();

  /** Returns the handler of the flow the packet went to, or null. */
  private decodePacket(p: CapturedPacket): StreamHandler | null {
    if (this.done) return null;
    if (this.packets === 0) this.onFirstPacket?.(p.ts);
    this.packets++;
    this.frame = p.index;
    this.lastTs = p.ts;
    this.clock?.(p.ts, p.index);
    if (!isSupportedLinkType(p.linkType)) {
      this.unsupportedLinkTypes.set(p.linkType, (this.unsupportedLinkTypes.get(p.linkType) ?? 0) + 1);
      return null;
    }
    this.supportedPackets++;
    const net = decodeLink(p.linkType, p.data);
    if (net === null) return null;
    if (typeof net === 'string') {
      this.badPacket(p, net);
      return null;
    }
    return this.route(p.ts, net, p.dataOffset + (net.payload.byteOffset - p.data.byteOffset), p.index);
  }

  warning(message: string, offset: number): void {
    this.sink({ event: 'warning', ts: this.lastTs, message, offset });
  }

  fatal(message: string): void {
    this.fatalError ??= message;
  }

  private route(ts: number, net: NetPacket, at: number, frame: number): StreamHandler | null {
    return net.proto === 'tcp' ? this.tcp.packet(ts, net, at, frame) : this.utp.packet(ts, net, at, frame);
  }

  private newFlow(info: FlowInfo): StreamHandler {
    const hinted = this.ports.has(portOf(info.initiator)) || this.ports.has(portOf(info.responder));
    const flow = ++this.flows;
    const assignConn = (): number => {
      const conn = this.nextConn++;
      this.observer?.connection(flow, conn);
      return conn;
    };
    // Without an observer the context is shared: one per flow cost ~100 bytes for nothing.
    const ctx = this.observer === undefined ? this.contexts[hinted ? 1 : 0] : { ...this.contexts[hinted ? 1 : 0], assignConn };
    const handler = new BtConnection(info, ctx);
    if (this.observer !== undefined) this.flowIds.set(handler, flow);
    return handler;
  }

  private inputWarning(message: string): void {
    this.sink({ event: 'warning', ts: this.lastTs, message });
  }

  private badPacket(p: CapturedPacket, why: string): void {
    this.badPackets++;
    if (this.badPackets <= PACKET_WARNING_LIMIT) {
      this.sink({ event: 'warning', ts: p.ts, frame: p.index, message: `packet ${p.index}: ${why}`, offset: p.offset });
    }
  }
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}
