// uTP (BEP 29) reassembly: recognises uTP in UDP datagrams and turns each connection into two
// in-order byte streams for a StreamHandler, like the TCP reassembler. Sequence numbers count
// packets, not bytes, and wrap at 16 bits, so every comparison is a signed 16-bit distance.
import type { Dir } from '../model/record.js';
import type { NetPacket } from '../net/types.js';
import { offsetBy, type FlowFactory, type StreamHandler } from './types.js';
import { FlowBase, ReassemblerBase, type ReassemblyOptions } from './flow-base.js';

export const ST_DATA = 0;
export const ST_FIN = 1;
export const ST_STATE = 2;
export const ST_RESET = 3;
export const ST_SYN = 4;

const HEADER = 20;
/** Extension types BEP 29 and libtorrent use (selective ACK, extension bits, close reason). */
const MAX_EXTENSION_TYPE = 3;
/** Packets further than this from the expected sequence number are not part of the stream. */
const WINDOW = 8192;

export interface UtpHeader {
  type: number;
  connId: number;
  seq: number;
  ack: number;
  /** Offset of the payload after the extension chain. */
  payloadOffset: number;
}

/**
 * Reads a uTP header, or returns null when the datagram is not plausibly uTP (DHT's bencoded
 * KRPC starts with 'd', UDP tracker packets with a zero byte: both fail the version check).
 */
export function parseUtpHeader(p: Uint8Array): UtpHeader | null {
  if (p.length < HEADER) return null;
  const b0 = p[0]!;
  const type = b0 >> 4;
  if ((b0 & 0x0f) !== 1 || type > ST_SYN) return null;
  let ext = p[1]!;
  let off = HEADER;
  while (ext !== 0) {
    if (ext > MAX_EXTENSION_TYPE || off + 2 > p.length) return null;
    const next = p[off]!;
    const len = p[off + 1]!;
    if (off + 2 + len > p.length) return null;
    // BEP 29 asks for a multiple of 4 bytes of selective-ACK bitmask; libtorrent sends any length.
    if (ext === 1 && len === 0) return null;
    off += 2 + len;
    ext = next;
  }
  if (type !== ST_DATA && off !== p.length) return null; // only ST_DATA carries a payload
  if (type === ST_DATA && off === p.length) return null;
  const connId = (p[2]! << 8) | p[3]!;
  const seq = (p[16]! << 8) | p[17]!;
  const ack = (p[18]! << 8) | p[19]!;
  return { type, connId, seq, ack, payloadOffset: off };
}

/** Signed distance a - b in 16-bit sequence space. */
function dist(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** The held packet closest after the expected sequence number. */
function firstHeld(d: Direction): number | undefined {
  let first: number | undefined;
  for (const seq of d.held.keys()) if (first === undefined || dist(seq, first) < 0) first = seq;
  return first;
}

export interface UtpReassemblerOptions extends ReassemblyOptions {
  /** Out-of-order packets held per direction (default 2048). */
  maxHeldPackets?: number;
}

type HeldPacket = { bytes: Uint8Array; at: number; frame: number };
/** Shared by every direction holding nothing (never written to: replaced on the first hold). */
const NOTHING_HELD: ReadonlyMap<number, HeldPacket> = new Map();

class Direction {
  started = false;
  /** Next expected sequence number. */
  next = 0;
  /** Sequence number -> the packet's payload (a copy) and its offset in the capture, or -1. */
  held = NOTHING_HELD as Map<number, HeldPacket>;
  heldBytes = 0;
  finSeen = false;
  /** Sequence number of the ST_FIN: the stream ends when every packet before it is delivered. */
  finSeq = 0;
  ended = false;
  /** Connection-id key this direction's packets are registered under, once known. */
  key: string | undefined;
}

class Flow extends FlowBase<Direction> {
  synSeq: number | undefined;
  /** Every route key registered for this connection. */
  readonly keys: string[] = [];
  // handler: made by the factory when the flow opens.

  constructor(initiator: string, responder: string, startTs: number, startSeen: boolean, startFrame: number) {
    super(new Direction(), new Direction(), initiator, responder, startTs, startSeen, startFrame);
  }

  get transport(): 'utp' {
    return 'utp';
  }
}

interface Route {
  flow: Flow;
  dir: Dir;
}

export class UtpReassembler extends ReassemblerBase<Direction, Flow> {
  /** "src>dst#connId" -> the flow and direction whose packets carry that connection id. */
  private readonly routes = new Map<string, Route>();
  private readonly flows = new Set<Flow>();
  // closed: route keys, so that late retransmissions do not open phantom flows.
  /** UDP datagrams that were not uTP (DHT, trackers, anything else). */
  notUtp = 0;

  constructor(factory: FlowFactory, options: UtpReassemblerOptions = {}) {
    super(factory, options, options.maxHeldPackets, 'connections', 'packet');
  }

  get flowCount(): number {
    return this.flows.size;
  }

  protected allFlows(): Iterable<Flow> {
    return this.flows;
  }

  protected heldUnits(d: Direction): number {
    return d.held.size;
  }

  protected forget(flow: Flow): void {
    this.flows.delete(flow);
    for (const key of flow.keys) if (this.routes.get(key)?.flow === flow) this.routes.delete(key);
  }

  /**
   * `at`: offset of the UDP payload's first byte in the capture stream, or -1 when unknown;
   * `frame`: the packet's number in the capture, or 0.
   * Returns the handler of the connection the packet belongs to (`--export` keeps its packets),
   * also for a late packet of a closed one; null for none.
   */
  packet(ts: number, net: NetPacket, at = -1, frame = 0): StreamHandler | null {
    const h = parseUtpHeader(net.payload);
    if (h === null) {
      this.notUtp++;
      return null;
    }
    this.sweepIfDue(ts);
    const route = this.findRoute(ts, net, h, frame);
    if (route === null) return this.closed.get(`${net.src}>${net.dst}#${h.connId}`) ?? null;
    const { flow, dir } = route;
    flow.lastTs = ts;
    if (h.type === ST_RESET) {
      this.reset(flow, dir, ts);
      return flow.handler ?? null;
    }
    if (flow.ignored) {
      if (h.type === ST_FIN) flow.dir(dir).ended = true;
      if (flow.d0.ended && flow.d1.ended) this.close(flow, ts);
      return flow.handler ?? null;
    }
    const d = flow.dir(dir);
    const other = flow.dir((1 - dir) as Dir);
    if (h.type === ST_SYN) return flow.handler ?? null; // its retransmission: the direction is already started
    if (!d.started) {
      // ST_STATE and ST_DATA carry the next sequence number the sender will use for data.
      d.started = true;
      d.next = h.seq;
    }
    // The peer acknowledged every packet up to h.ack of the other direction.
    if (!other.started && flow.synSeq !== undefined && dir === 0 && h.type !== ST_SYN) {
      other.started = true;
      other.next = (h.ack + 1) & 0xffff;
    } else if (other.started) {
      this.ackEvidence(flow, (1 - dir) as Dir, h.ack, ts);
    }
    if (h.type === ST_DATA) this.data(flow, dir, h.seq, net.payload.subarray(h.payloadOffset), ts, offsetBy(at, h.payloadOffset), frame);
    else if (h.type === ST_FIN && !d.finSeen) {
      d.finSeen = true;
      d.finSeq = h.seq;
      this.checkEnd(flow, dir, ts);
    }
    if (flow.d0.ended && flow.d1.ended) this.close(flow, ts);
    return flow.handler ?? null;
  }

  finish(ts: number): void {
    for (const flow of [...this.flows]) this.close(flow, ts);
    this.closed.clear();
  }

  // ---- connections ----------------------------------------------------------------------------

  private findRoute(ts: number, net: NetPacket, h: UtpHeader, frame: number): Route | null {
    const own = `${net.src}>${net.dst}#${h.connId}`;
    if (h.type === ST_SYN) {
      const existing = this.routes.get(own);
      if (existing !== undefined && existing.flow.synSeq === h.seq) return existing; // retransmitted SYN
      if (existing !== undefined) this.close(existing.flow, ts);
      return this.openFromSyn(ts, net, h, frame);
    }
    const route = this.routes.get(own);
    if (route !== undefined) return route;
    const pending = this.bindOtherDirection(net, h, own);
    if (pending !== null) return pending;
    if (h.type !== ST_DATA || this.closed.has(own)) return null;
    return this.openMidStream(ts, net, own, frame);
  }

  /**
   * The SYN carries the initiator's receive id X; afterwards the initiator sends with X+1 and the
   * responder with X.
   */
  private openFromSyn(ts: number, net: NetPacket, h: UtpHeader, frame: number): Route {
    const flow = this.newFlow(ts, net.src, net.dst, true, frame);
    flow.synSeq = h.seq;
    const d0 = flow.d0;
    d0.started = true;
    d0.next = (h.seq + 1) & 0xffff;
    const synKey = `${net.src}>${net.dst}#${h.connId}`;
    this.bind(synKey, flow, 0);
    d0.key = `${net.src}>${net.dst}#${(h.connId + 1) & 0xffff}`;
    this.bind(d0.key, flow, 0);
    flow.d1.key = `${net.dst}>${net.src}#${h.connId}`;
    this.bind(flow.d1.key, flow, 1);
    return { flow, dir: 0 };
  }

  /** A connection first seen in the middle: the first sender is taken as the initiator. */
  private openMidStream(ts: number, net: NetPacket, own: string, frame: number): Route {
    const flow = this.newFlow(ts, net.src, net.dst, false, frame);
    flow.d0.key = own;
    this.bind(own, flow, 0);
    return { flow, dir: 0 };
  }

  /** The reverse direction of a mid-stream connection uses its id plus or minus one. */
  private bindOtherDirection(net: NetPacket, h: UtpHeader, own: string): Route | null {
    for (const delta of [1, -1]) {
      const r = this.routes.get(`${net.dst}>${net.src}#${(h.connId + delta) & 0xffff}`);
      if (r === undefined || r.flow.synSeq !== undefined) continue;
      const dir = (1 - r.dir) as Dir;
      if (r.flow.dir(dir).key !== undefined) continue;
      r.flow.dir(dir).key = own;
      this.bind(own, r.flow, dir);
      return { flow: r.flow, dir };
    }
    return null;
  }

  private newFlow(ts: number, initiator: string, responder: string, startSeen: boolean, frame: number): Flow {
    if (this.flows.size >= this.maxFlows) this.evictIdle(ts);
    const flow = new Flow(initiator, responder, ts, startSeen, frame);
    this.makeHandler(flow);
    this.flows.add(flow);
    this.started(flow, frame, ts);
    return flow;
  }

  private bind(key: string, flow: Flow, dir: Dir): void {
    this.closed.delete(key);
    this.routes.set(key, { flow, dir });
    flow.keys.push(key);
  }

  // ---- stream reassembly ----------------------------------------------------------------------

  private data(flow: Flow, dir: Dir, seq: number, payload: Uint8Array, ts: number, at: number, frame: number): void {
    const d = flow.dir(dir);
    if (d.ended) return;
    const off = dist(seq, d.next);
    if (off < 0 || off > WINDOW || d.held.has(seq)) return; // duplicate, retransmission or stray
    if (d.finSeen && dist(seq, d.finSeq) >= 0) return; // beyond the end of the stream
    if (off === 0) {
      d.next = (d.next + 1) & 0xffff;
      flow.handler!.data(dir, payload, ts, at, frame);
      this.drain(flow, dir, ts);
    } else {
      if (d.held === NOTHING_HELD) d.held = new Map();
      d.held.set(seq, { bytes: payload.slice(), at, frame });
      d.heldBytes += payload.length;
      if (d.heldBytes > this.maxHeldBytes || d.held.size > this.maxHeldUnits) this.skipHole(flow, dir, ts);
    }
    this.checkEnd(flow, dir, ts);
  }

  private drain(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    for (let h = d.held.get(d.next); h !== undefined; h = d.held.get(d.next)) {
      d.held.delete(d.next);
      d.heldBytes -= h.bytes.length;
      d.next = (d.next + 1) & 0xffff;
      if (flow.live) flow.handler!.data(dir, h.bytes, ts, h.at, h.frame);
    }
  }

  /** Skip the missing packets before the first held one; their size is unknown. */
  private skipHole(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    const first = firstHeld(d);
    if (first === undefined) return;
    d.next = first;
    if (flow.live) flow.handler!.gap(dir, 0, ts);
    this.drain(flow, dir, ts);
  }

  /**
   * The receiver acknowledged packets up to `ack` that the capture has not seen: the capture
   * dropped them, so waiting for a retransmission is pointless.
   */
  private ackEvidence(flow: Flow, dir: Dir, ack: number, ts: number): void {
    const d = flow.dir(dir);
    if (d.ended || dist(ack, d.next) < 0 || dist(ack, d.next) > WINDOW) return;
    if (d.finSeen && dist(ack, d.finSeq) >= 0) {
      this.flush(flow, dir, ts);
    } else {
      // Only the acknowledged packets are skipped: ack+1 and later may still come (retransmitted).
      for (let first = firstHeld(d); first !== undefined && dist(first, ack) <= 1 && dist(ack, d.next) >= 0; first = firstHeld(d)) {
        this.skipHole(flow, dir, ts);
      }
      if (dist(ack, d.next) >= 0) {
        d.next = (ack + 1) & 0xffff;
        if (flow.live) flow.handler!.gap(dir, 0, ts);
      }
    }
    this.checkEnd(flow, dir, ts);
  }

  /** Skip every hole, up to the FIN if one was seen. */
  protected flush(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    while (d.held.size > 0) this.skipHole(flow, dir, ts);
    if (d.finSeen && !d.ended && d.next !== d.finSeq) {
      d.next = d.finSeq;
      if (flow.live) flow.handler!.gap(dir, 0, ts);
    }
  }

  protected checkEnd(flow: Flow, dir: Dir, ts: number): void {
    const d = flow.dir(dir);
    if (d.finSeen && !d.ended && d.next === d.finSeq) {
      d.ended = true;
      d.held = NOTHING_HELD as Map<number, HeldPacket>;
      d.heldBytes = 0;
      if (flow.live) flow.handler!.end(dir, 'fin', ts);
    }
  }

  private reset(flow: Flow, dir: Dir, ts: number): void {
    if (flow.handler != null) {
      for (const x of [0, 1] as const) {
        this.flush(flow, x, ts);
        this.checkEnd(flow, x, ts);
      }
      const d = flow.dir(dir);
      if (!d.ended) {
        d.ended = true;
        if (flow.live) flow.handler!.end(dir, 'rst', ts);
      }
    }
    this.close(flow, ts);
  }

  /** Flush, finish exactly once, forget the connection and remember its ids as closed. */
  private close(flow: Flow, ts: number): void {
    if (!this.finishFlow(flow, ts)) return;
    this.flows.delete(flow);
    for (const key of flow.keys) {
      if (this.routes.get(key)?.flow !== flow) continue;
      this.routes.delete(key);
      this.rememberClosed(key, flow.handler ?? null);
    }
  }
}
