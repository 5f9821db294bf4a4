// The text timeline in capture order across connections. Records come out of the pipeline almost in
// the order of the packets that completed them; what comes late is an open event (it is dated at the
// connection's SYN but known only when the connection shows it is BitTorrent, a few packets on).
// Held for a bounded window and released in order: by frame (Wireshark's packet order) when the
// records have frames, else by time; emission order breaks ties.

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
}

export class ReorderWindow<T> {
  /** Sorted by (frame or ts, seq); released from `head`. */
  private held: Held<T>[] = [];
  private head = 0;
  private seq = 0;
  private newest = -Infinity;
  private readonly seconds: number;
  private readonly maxHeld: number;

  constructor(
    private readonly release: (item: T) => void,
    options: ReorderOptions = {},
  ) {
    this.seconds = options.seconds ?? 2;
    this.maxHeld = options.maxHeld ?? 20_000;
  }

  get size(): number {
    return this.held.length - this.head;
  }

  push(at: Ordered, item: T): void {
    const h: Held<T> = { frame: at.frame, ts: at.ts, seq: this.seq++, item };
    // Almost always in order: the insertion point is found from the end.
    let i = this.held.length;
    while (i > this.head && before(h, this.held[i - 1]!)) i--;
    if (i === this.held.length) this.held.push(h);
    else this.held.splice(i, 0, h);
    if (at.ts > this.newest) this.newest = at.ts;
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
      if (h.ts > limit && this.held.length - this.head <= this.maxHeld) break;
      this.head++;
      this.release(h.item);
    }
    // Released entries are dropped in one go, not one shift() per record.
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
  }
}

function before(a: Held<unknown>, b: Held<unknown>): boolean {
  if (a.frame > 0 && b.frame > 0) return a.frame < b.frame;
  return a.ts < b.ts;
}
