// The text timeline in capture order across connections. Records come out of the pipeline in the
// order of the packets that completed them, except one kind: an open event, dated at the connection's
// first packet (its SYN) but known only when the connection shows it is BitTorrent, a few packets on.
// Lines are held only while such a record can still come (PendingStarts: a flow seen but not yet
// settled), within a bounded window, and released in order: by frame (Wireshark's packet order) when
// the records have frames, else by time; emission order breaks ties. Holding every line for the whole
// window cost a million-message capture 3.5x its CPU: the held lines reached V8's old generation.
import type { FlowStartWatch } from '../transport/types.js';

export interface Ordered {
  /** Frame of the packet the line belongs at (0 when unknown: then `ts` orders). */
  frame: number;
  ts: number;
}

interface Held<T> {
  frame: number;
  ts: number;
  seq: number;
  item: T;
}

export interface ReorderOptions {
  /** Capture seconds a record is held for an earlier one to arrive (default 2). */
  seconds?: number;
  /** Records held at most; past it the earliest goes out (default 20,000). */
  maxHeld?: number;
  /**
   * The flows that could still make an earlier-dated record. With it, a line goes out as soon as no
   * such flow started before it; without it (a source that does not report its flows, the proxy)
   * every line waits the whole window.
   */
  pending?: PendingStarts;
}

const DEFAULT_SECONDS = 2;
const DEFAULT_MAX_HELD = 20_000;

export class ReorderWindow<T> {
  /** Sorted by (frame or ts, seq); released from `head`. */
  private held: Held<T>[] = [];
  private head = 0;
  private seq = 0;
  private newest = -Infinity;
  private readonly seconds: number;
  private readonly maxHeld: number;
  private pending: PendingStarts | undefined;

  constructor(
    private readonly release: (item: T) => void,
    options: ReorderOptions = {},
  ) {
    this.seconds = options.seconds ?? DEFAULT_SECONDS;
    this.maxHeld = options.maxHeld ?? DEFAULT_MAX_HELD;
    this.pending = options.pending;
  }

  get size(): number {
    return this.held.length - this.head;
  }

  /** From now on, lines wait only for the flows `pending` tracks (see ReorderOptions.pending). */
  watch(pending: PendingStarts): void {
    this.pending = pending;
  }

  push(at: Ordered, item: T): void {
    if (at.ts > this.newest) this.newest = at.ts;
    // The common case, nothing held and no flow pending before it: out at once, nothing allocated.
    if (this.held.length === this.head && this.pending !== undefined && this.pending.allows(at)) {
      this.release(item);
      return;
    }
    const h: Held<T> = { frame: at.frame, ts: at.ts, seq: this.seq++, item };
    // Almost always in order: the insertion point is found from the end.
    let i = this.held.length;
    while (i > this.head && before(h, this.held[i - 1]!)) i--;
    if (i === this.held.length) this.held.push(h);
    else this.held.splice(i, 0, h);
    this.releaseDue();
  }

  /** Everything held goes out, in order (end of input, or a live source gone idle). */
  flush(): void {
    while (this.head < this.held.length) this.release(this.held[this.head++]!.item);
    this.held = [];
    this.head = 0;
  }

  private releaseDue(): void {
    const limit = this.newest - this.seconds;
    while (this.head < this.held.length) {
      const h = this.held[this.head]!;
      const due = h.ts <= limit || this.held.length - this.head > this.maxHeld || (this.pending !== undefined && this.pending.allows(h));
      if (!due) break;
      this.head++;
      this.release(h.item);
    }
    // Released entries are dropped in one go, not one shift() per record.
    if (this.head === this.held.length) {
      this.held = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The flows seen but not yet settled, in the order they started (the reassemblers report each flow
 * at its first packet, so in frame order). Only the earliest matters: nothing dated before its start
 * can come any more. Starts older than the window (`seconds` before the newest start, or beyond
 * `maxTracked` of them) are forgotten: the window would not wait for them anyway, and a SYN scan's
 * flows must not pile up here.
 */
export class PendingStarts implements FlowStartWatch {
  private frames: number[] = [];
  private times: number[] = [];
  private flows: { readonly settled: boolean }[] = [];
  private head = 0;
  private readonly seconds: number;
  private readonly maxTracked: number;

  constructor(options: { seconds?: number; maxTracked?: number } = {}) {
    this.seconds = options.seconds ?? DEFAULT_SECONDS;
    this.maxTracked = options.maxTracked ?? DEFAULT_MAX_HELD;
  }

  opened(frame: number, ts: number, flow: { readonly settled: boolean }): void {
    const old = ts - this.seconds;
    while (this.head < this.frames.length && (this.times[this.head]! < old || this.frames.length - this.head >= this.maxTracked)) this.head++;
    this.compact();
    this.frames.push(frame);
    this.times.push(ts);
    this.flows.push(flow);
  }

  /** Flows tracked (settled ones are dropped as they reach the front). */
  get size(): number {
    this.settle();
    return this.frames.length - this.head;
  }

  /** No pending flow started at or before `at`: a line dated there can go out. */
  allows(at: Ordered): boolean {
    this.settle();
    if (this.head === this.frames.length) return true;
    const frame = this.frames[this.head]!;
    return at.frame > 0 && frame > 0 ? at.frame < frame : at.ts < this.times[this.head]!;
  }

  /** Drops the settled flows at the front. */
  private settle(): void {
    while (this.head < this.frames.length && this.flows[this.head]!.settled) this.head++;
    this.compact();
  }

  /** Forgotten entries go in one go (not one shift() each), and with them the flows they point to. */
  private compact(): void {
    const n = this.frames.length;
    if (this.head === n) {
      if (n > 0) {
        this.frames = [];
        this.times = [];
        this.flows = [];
        this.head = 0;
      }
    } else if (this.head > 1024 && this.head * 2 > n) {
      this.frames = this.frames.slice(this.head);
      this.times = this.times.slice(this.head);
      this.flows = this.flows.slice(this.head);
      this.head = 0;
    }
  }
}

function before(a: Held<unknown>, b: Held<unknown>): boolean {
  if (a.frame > 0 && b.frame > 0) return a.frame < b.frame;
  return a.ts < b.ts;
}
