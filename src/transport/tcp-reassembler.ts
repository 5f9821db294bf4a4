// TCP reassembly: per flow and direction, turns captured segments into in-order byte streams for a
// StreamHandler. Sequence numbers are 32-bit and wrap, so every comparison is `(a - b) | 0`.
import type { Dir } from '../model/record.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type NetPacket } from '../net/types.js';
import { offsetBy, type FlowFactory, type StreamHandler } from './types.js';
import { FlowBase, ReassemblerBase, type ReassemblyOptions } from './flow-base.js';
import { defineFlags } from '../util/packed-fields.js';
import { partitionPoint } from '../util/sorted.js';

export interface TcpReassemblerOptions extends ReassemblyOptions {
  /** Out-of-order segments held per direction (default 2048). */
  maxHeldSegments?: number;
  /**
   * Make each flow's handler at its first packet rather than at its first payload byte (a caller
   * that must place every packet, SYNs included, in its connection: --export).
   */
  eagerHandlers?: boolean;
}

/** Segments further than this from the expected sequence number are not part of the stream. */
const WINDOW = 1 << 30;

interface Held {
  seq: number;
  data: Uint8Array;
  /** Offset of data[0] in the capture stream, or -1. */
  at: number;
  /** Capture packet it came in (for a message's firstFrame), or 0. */
  frame: number;
}

/** Shared by every direction holding nothing: most never hold anything, and an array costs ~50 bytes. */
const NOTHING_HELD: Held[] = [];

class Direction {
  /** Next expected sequence number (int32 view of the uint32). */
  next = 0;
  /** NOTHING_HELD until a segment is held (never mutated: replaced). */
  held: Held[] = NOTHING_HELD;
  heldBytes = 0;
  finSeq = 0;
  /** started, finSeen, ended: bits of one number (a flood's live flows are many; a field is 8 bytes). */
  private flags = 0;
  // The stream's start is known; its FIN was seen (finSeq is where it ends); it ended.
  declare started: boolean;
  declare finSeen: boolean;
  declare ended: boolean;
}
defineFlags(Direction.prototype, ['started', 'finSeen', 'ended']);

class Flow extends FlowBase<Direction> {
  /** ISN of the initiator's SYN, to tell a retransmitted SYN from a new connection. */
  synSeq: number | undefined;
  // handler: made by the factory at the first payload byte or gap (undefined before: a flow that
  // never carries data, a SYN scan's, costs no decoder and gets no call).

  constructor(
    readonly key: string,
    initiator: string,
    responder: string,
    startTs: number,
    startSeen: boolean,
    startFrame: number,
  ) {
    super(new Direction(), new Direction(), initiator, responder, startTs, startSeen, startFrame);
  }

  get transport(): 'tcp' {
    return 'tcp';
  }
}

export class TcpReassembler extends ReassemblerBase<Direction, Flow> {
  private readonly flows = new Map<string, Flow>();
  // closed: 4-tuples, so that late retransmissions and ACKs do not open phantom flows.
  private readonly eager: boolean;
  /** Segments dropped because they were far outside the window. */
  outOfWindow = 0;
  /** Packets dropped because they belonged to an already closed connection. */
  lateSegments = 0;
  // The last flow key made, for the endpoints it was made of (either way round): consecutive packets
  // mostly belong to the same flow, and building and hashing the key text per packet cost ~5% of
  // decoding a bulk transfer. Endpoint strings are the decoder's cached ones, so === is cheap.
  private keyA = '';
  private keyB = '';
  private lastKey = '';

  constructor(factory: FlowFactory, options: TcpReassemblerOptions = {}) {
    super(factory, options, options.maxHeldSegments, 'flows', 'segment');
    this.eager = options.eagerHandlers === true;
  }

  /**
   * `at`: offset of the TCP payload's first byte in the capture stream, or -1 when unknown;
   * `frame`: the packet's number in the capture, or 0.
   * Returns the handler of the connection the packet belongs to (`--export` keeps its packets),
   * also for a late packet of a closed one; null for none.
   */
  packet(ts: number, net: NetPacket, at = -1, frame = 0): StreamHandler | null {
    const src = net.src;
    const dst = net.dst;
    const key = this.flowKey(src, dst);
    const flags = net.flags;
    const pureSyn = (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
    this.sweepIfDue(ts);
    let flow = this.flows.get(key);
    if (flow !== undefined && pureSyn && src === flow.initiator && flow.synSeq === (net.seq | 0)) {
      // retransmitted SYN of the current connection
    } else if (flow !== undefined && pureSyn) {
      this.close(flow, ts); // a new connection on the same 4-tuple
      flow = undefined;
    }
    if (flow === undefined) {
      if (this.closed.has(key)) {
        if (!pureSyn) {
          this.lateSegments++;
          return this.closed.get(key) ?? null;
        }
        this.closed.delete(key);
      }
      flow = this.open(key, ts, net, frame);
    }
    flow.lastTs = ts;
    const dir: Dir = src === flow.initiator ? 0 : 1;
    if ((flags & TCP_RST) !== 0) {
      this.reset(flow, dir, ts);
      return flow.handler ?? null;
    }
    if (flow.handler === undefined && net.payload.length > 0) this.makeHandler(flow);
    if (flow.ignored) {
      this.trackIgnored(flow, dir, net, ts);
      return flow.handler ?? null;
    }
    const d = flow.dir(dir);
    if (!d.started) this.startDirection(d, net);
    // The acknowledgment first: what the sender had received of the other direction when it sent
    // this packet, so a hole there is reported before this packet's own messages (the analyzer
    // judges them on what the sender could have seen).
    if ((flags & TCP_ACK) !== 0) this.ackEvidence(flow, (1 - dir) as Dir, net.ack | 0, ts);
    if (net.payload.length > 0) this.segment(flow, dir, net.seq | 0, net.payload, ts, at, frame);
    if ((flags & TCP_FIN) !== 0 && !d.finSeen) {
      d.finSeen = true;
      d.finSeq = (net.seq + net.payload.length) | 0;
    }
    this.checkEnd(flow, dir, ts);
    if (flow.d0.ended && flow.d1.ended) this.close(flow, ts);
    return flow.handler ?? null;
  }

  private flowKey(src: string, dst: string): string {
    if ((src === this.keyA && dst === this.keyB) || (src === this.keyB && dst === this.keyA)) return this.lastKey;
    this.keyA = src;
    this.keyB = dst;
    this.lastKey = src < dst ? src + ' ' + dst : dst + ' ' + src;
    return this.lastKey;
  }

  finish(ts: number): void {
    for (const flow of [...this.flows.values()]) this.close(flow, ts);
    this.closed.clear();
  }

  get flowCount(): number {
    return this.flows.size;
  }

  protected allFlows(): Iterable<Flow> {
    return this.flows.values();
  }

  protected heldUnits(d: Direction): number {
    return d.held.length;
  }

  protected forget(flow: Flow): void {
    this.flows.delete(flow.key);
  }

  private open(key: string, ts: number, net: NetPacket, frame: number): Flow {
    if (this.flows.size >= this.maxFlows) this.evictIdle(ts);
    const syn = (net.flags & TCP_SYN) !== 0;
    const synAck = syn && (net.flags & TCP_ACK) !== 0;
    const initiator = synAck ? net.dst : net.src;
    const responder = synAck ? net.src : net.dst;
    const flow = new Flow(key, initiator, responder, ts, syn, frame);
    if (this.eager) this.makeHandler(flow);
    if (syn && !synAck) flow.synSeq = net.seq | 0;
    if (synAck) {
      // The SYN/ACK acknowledges the initiator's ISN + 1: that direction's stream start is known.
      const d0 = flow.d0;
      d0.started = true;
      d0.next = net.ack | 0;
    }
    this.flows.set(key, flow);
    this.started(flow, frame, ts);
    return flow;
  }

  /** A gap is news of data (lost by the capture): a flow that had none so far gets its handler. */
  private gapTo(flow: Flow, dir: Dir, missing: number, ts: number): void {
    if (flow.handler === undefined) this.makeHandler(flow);
    if (flow.live) flow.handler!.gap(dir, missing, ts);
  }

  private startDirection(d: Direction, net: NetPacket): void {
    d.started = true;
    d.next = (net.flags & TCP_SYN) !== 0 ? (net.seq + 1) | 0 : net.seq | 0;
  }

  private segment(flow: Flow, dir: Dir, seq: number, payload: Uint8Array, ts: number, at: number, frame: number): void {
    const d = flow.dir(dir);
    if (d.ended) return;
    const off = (seq - d.next) | 0;
    if (off > WINDOW || off < -WINDOW) {
      this.outOfWindow++;
      return;
    }
    if (off <= 0) {
      if (-off >= payload.length) return; // retransmission of delivered bytes
      this.deliver(flow, dir, -off === 0 ? payload : payload.subarray(-off), ts, offsetBy(at, -off), frame);
      if (d.held.length > 0) this.drain(flow, dir, ts);
      return;
    }
    this.hold(d, seq, payload, at, frame);
    if (d.heldBytes > this.maxHeldBytes || d.held.length > this.maxHeldUnits) this.skipHole(flow, dir, ts);
  }

  private deliver(flow: Flow, dir: Dir, bytes: Uint8Array, ts: number, at: number, frame: number): void {
    const d = flow.dir(dir);
    let n = bytes.length;
    if (d.finSeen) {
      // bytes beyond the FIN are not part of the stream
      const room = (d.finSeq - d.next) | 0;
      if (room <= 0) return;
      if (n > room) n = room;
    }
    d.next = (d.next + n) | 0;
    if (flow.live) flow.handler!.data(dir, n === bytes.length ? bytes : bytes.subarray(0, n), ts, at, frame);
  }

  /**
   * Keep the bytes of an out-of-order segment that no held segment covers yet (first seen wins),
   * copied because the payload view dies with the packet. Held segments stay sorted and disjoint.
   */
  private hold(d: Direction, seq: number, payload: Uint8Array, at: number, frame: number): void {
    const held = d.held;
    const next = d.next;
    const start = (seq - next) | 0;
    const end = start + payload.length;
    let cur = start;
    // The first held segment ending after `start`.
    let i = partitionPoint(held.length, (k) => ((held[k]!.seq - next) | 0) + held[k]!.data.length <= start);
    while (cur < end) {
      const h = held[i];
      const hs = h === undefined ? end : Math.min(end, (h.seq - next) | 0);
      if (hs > cur) {
        if (d.held === NOTHING_HELD) d.held = [];
        d.held.splice(i, 0, { seq: (next + cur) | 0, data: payload.slice(cur - start, hs - start), at: offsetBy(at, cur - start), frame });
        d.heldBytes += hs - cur;
        i++;
      }
      if (h === undefined) break;
      cur = Math.max(cur, ((h.seq - next) | 0) + h.data.length);
      i++;
    }
  }

  /** Deliver held segments that have become in order. */
  private drain(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    while (d.held.length > 0) {
      const h = d.held[0]!;
      const off = (h.seq - d.next) | 0;
      if (off > 0) break;
      d.held.shift();
      d.heldBytes -= h.data.length;
      if (-off < h.data.length) this.deliver(flow, dir, h.data.subarray(-off), ts, offsetBy(h.at, -off), h.frame);
    }
  }

  /** The hole before the first held segment will not be filled: report it and continue after it. */
  private skipHole(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    const first = d.held[0];
    if (first === undefined) return;
    const missing = (first.seq - d.next) | 0;
    if (missing > 0) {
      d.next = first.seq;
      this.gapTo(flow, dir, missing, ts);
    }
    this.drain(flow, dir, ts);
  }

  /** Skip every hole: held data, then up to the FIN. */
  protected flush(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    while (d.held.length > 0) this.skipHole(flow, dir, ts);
    if (d.finSeen && !d.ended) {
      const missing = (d.finSeq - d.next) | 0;
      if (missing > 0) {
        d.next = d.finSeq;
        this.gapTo(flow, dir, missing, ts);
      }
    }
  }

  /**
   * The other side acknowledged bytes of `dir` the capture has not seen: the hole before the first
   * held segment (or before the FIN) was received by the peer, so the capture dropped it.
   */
  private ackEvidence(flow: Flow, dir: Dir, ack: number, ts: number): void {
    const d = flow.dir(dir);
    if (!d.started || d.ended) return;
    while (d.held.length > 0 && ((ack - d.held[0]!.seq) | 0) >= 0 && ((ack - d.next) | 0) < WINDOW) {
      this.skipHole(flow, dir, ts);
    }
    if (d.held.length === 0 && d.finSeen && ((ack - d.finSeq) | 0) > 0) {
      this.flush(flow, dir, ts);
    } else {
      // Acknowledged bytes the capture has not seen and nothing held after them (yet): the capture
      // dropped them, reported now rather than when later bytes arrive (as the uTP reassembler does).
      const missing = (ack - d.next) | 0;
      if (missing > 0 && missing < WINDOW && (!d.finSeen || ((d.finSeq - ack) | 0) >= 0)) {
        d.next = ack;
        this.gapTo(flow, dir, missing, ts);
      }
    }
    this.checkEnd(flow, dir, ts);
  }

  protected checkEnd(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    if (d.finSeen && !d.ended && d.next === d.finSeq) {
      d.ended = true;
      d.held = NOTHING_HELD;
      d.heldBytes = 0;
      if (flow.live) flow.handler!.end(dir, 'fin', ts);
    }
  }

  private reset(flow: Flow, dir: Dir, ts: number): void {
    if (flow.handler != null) {
      this.flush(flow, 0, ts);
      this.flush(flow, 1, ts);
      this.checkEnd(flow, 0, ts);
      this.checkEnd(flow, 1, ts);
      // the sender's direction ends with the reset, unless its FIN already ended it
      const rstDir: Dir = flow.dir(dir).ended ? ((1 - dir) as Dir) : dir;
      const d = flow.dir(rstDir);
      if (!d.ended) {
        d.ended = true;
        if (flow.live) flow.handler!.end(rstDir, 'rst', ts);
      }
    }
    this.close(flow, ts);
  }

  /** An ignored flow only needs to know when it is over. */
  private trackIgnored(flow: Flow, dir: Dir, net: NetPacket, ts: number): void {
    if ((net.flags & TCP_FIN) !== 0) flow.dir(dir).ended = true;
    if (flow.d0.ended && flow.d1.ended) this.close(flow, ts);
  }

  /** Flush, finish exactly once, forget the flow and remember its tuple as closed. */
  private close(flow: Flow, ts: number): void {
    if (!this.finishFlow(flow, ts)) return;
    this.flows.delete(flow.key);
    this.rememberClosed(flow.key, flow.handler ?? null);
  }
}
