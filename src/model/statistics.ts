// Wireshark's Statistics menu for the peer wire, sans-I/O: fed records, it keeps Conversations (one
// row per connection), the message hierarchy per direction and bytes over time (the IO graph).
// `--stats` prints it (src/output/stats-text.ts); the terminal UI's Statistics view renders the same
// numbers. Who the peers are and what each said is the summary collector's knowledge: it is asked.
import { dirOfSender, type AnyRecord, type Dir, type Severity, type Transport } from './record.js';
import { SummaryCollector } from '../output/summary.js';

/** One side of a conversation: what it sent (of the records counted). */
export interface ConversationSide {
  addr: string;
  /** Its client, from its handshake's peer id or its extended handshake's `v`. */
  client?: string;
  messages: number;
  bytes: number;
  donthave: number;
}

/** One connection: Wireshark's Conversations row. Side "a" is the initiator, "b" the responder. */
export interface Conversation {
  conn: number;
  transport: Transport;
  /** ts of the first and last record counted. */
  start: number;
  end: number;
  a: ConversationSide;
  b: ConversationSide;
  encrypted: boolean;
  findings: Record<Severity, number>;
}

/** A row of the hierarchy: a message type ("extended" rows have their extensions as children). */
export interface HierarchyRow {
  /** "piece", "extended", or "extended/lt_donthave" (a child; "extended/?" for unresolved ids). */
  name: string;
  depth: 0 | 1;
  /** Index 0: initiator -> responder; 1: responder -> initiator (Dir). */
  messages: [number, number];
  bytes: [number, number];
}

export interface IoGraph {
  /** ts of the first bin's start, and the width of a bin in seconds. */
  start: number;
  binSeconds: number;
  /** Bytes per second in each bin, per direction (index as Dir). */
  rates: [number[], number[]];
}

export interface Statistics {
  conversations: Conversation[];
  hierarchy: HierarchyRow[];
  io: IoGraph;
  messages: number;
  bytes: number;
}

/** Bins kept for the IO graph; past this the resolution drops tenfold (bins merge). */
const MAX_BINS = 100_000;
/** The finest resolution kept: a millisecond. */
const FINEST = 0.001;

interface ConnState {
  transport: Transport;
  /** Set by the first record counted. */
  start?: number;
  end: number;
  sides: [ConversationSide, ConversationSide];
  findings: Record<Severity, number>;
}

export class StatisticsCollector {
  private readonly summaries = new SummaryCollector();
  private readonly conns = new Map<number, ConnState>();
  /** "msg" or "extended/ext" -> messages and bytes per direction. */
  private readonly types = new Map<string, { messages: [number, number]; bytes: [number, number] }>();
  /** Bin (of `resolution` seconds) since `t0` -> bytes per direction. */
  private bins = new Map<number, [number, number]>();
  private resolution = FINEST;
  private t0: number | undefined;
  private tLast = 0;
  private messages = 0;
  private bytes = 0;

  /**
   * Feed every record, in order; `counted` false (a display filter hides it) still tells who the
   * peers are, but adds nothing to the numbers. Non-connection records are ignored.
   */
  readonly record = (r: AnyRecord, counted = true): void => {
    if (!('conn' in r)) return;
    // Who initiated, and each side's client, are the summary collector's knowledge.
    this.summaries.record(r);
    let c = this.conns.get(r.conn);
    if (c === undefined) {
      const side = (addr: string): ConversationSide => ({ addr, messages: 0, bytes: 0, donthave: 0 });
      c = { transport: r.transport, end: r.ts, sides: [side(r.src), side(r.dst)], findings: { error: 0, warning: 0, info: 0 } };
      this.conns.set(r.conn, c);
    }
    if (!counted) return;
    c.start = Math.min(c.start ?? r.ts, r.ts);
    c.end = Math.max(c.end, r.ts);
    if (!('msg' in r)) {
      if (r.event === 'finding' && r.severity !== undefined) c.findings[r.severity]++;
      return;
    }
    const dir = dirOfSender(r.src, c.sides[0].addr);
    const side = c.sides[dir];
    side.messages++;
    side.bytes += r.size;
    if (r.ext === 'lt_donthave') side.donthave++;
    this.messages++;
    this.bytes += r.size;
    this.count(r.msg, dir, r.size);
    if (r.msg === 'extended') this.count(`extended/${r.ext === null || r.ext === undefined ? '?' : r.ext}`, dir, r.size);
    this.t0 ??= r.ts;
    this.tLast = Math.max(this.tLast, r.ts);
    this.add(Math.max(0, Math.floor((r.ts - this.t0) / this.resolution)), dir, r.size);
    if (this.bins.size > MAX_BINS) this.coarsen();
  };

  private add(bin: number, dir: Dir, bytes: number): void {
    let b = this.bins.get(bin);
    if (b === undefined) {
      b = [0, 0];
      this.bins.set(bin, b);
    }
    b[dir] += bytes;
  }

  /** Ten times fewer, wider bins: memory stays bounded however long the capture. */
  private coarsen(): void {
    const old = this.bins;
    this.bins = new Map();
    this.resolution *= 10;
    for (const [bin, bytes] of old) {
      this.add(Math.floor(bin / 10), 0, bytes[0]);
      this.add(Math.floor(bin / 10), 1, bytes[1]);
    }
  }

  /** The statistics so far; the IO graph in at most `bins` bins. */
  result(bins = 60): Statistics {
    const summaries = new Map(this.summaries.summaries().map((s) => [s.conn, s.summary!]));
    const conversations: Conversation[] = [];
    for (const [conn, c] of [...this.conns].sort((x, y) => x[0] - y[0])) {
      if (c.start === undefined) continue;
      const summary = summaries.get(conn);
      const client = (s: { client?: string; v?: string } | undefined): { client?: string } => (s?.client ?? s?.v) === undefined ? {} : { client: (s!.client ?? s!.v)! };
      conversations.push({
        conn,
        transport: c.transport,
        start: c.start,
        end: c.end,
        a: { ...c.sides[0], ...client(summary?.initiator) },
        b: { ...c.sides[1], ...client(summary?.responder) },
        encrypted: summary?.encrypted === true,
        findings: { ...c.findings },
      });
    }
    return { conversations, hierarchy: this.hierarchy(), io: this.io(bins), messages: this.messages, bytes: this.bytes };
  }

  private count(key: string, dir: Dir, size: number): void {
    let t = this.types.get(key);
    if (t === undefined) {
      t = { messages: [0, 0], bytes: [0, 0] };
      this.types.set(key, t);
    }
    t.messages[dir]++;
    t.bytes[dir] += size;
  }

  /** Types by bytes, largest first; each extended row followed by its extensions. */
  private hierarchy(): HierarchyRow[] {
    const total = (t: { bytes: [number, number] }): number => t.bytes[0] + t.bytes[1];
    const rows = [...this.types].map(([name, t]) => ({ name, depth: (name.includes('/') ? 1 : 0) as 0 | 1, messages: [...t.messages] as [number, number], bytes: [...t.bytes] as [number, number] }));
    const top = rows.filter((r) => r.depth === 0).sort((a, b) => total(b) - total(a) || a.name.localeCompare(b.name));
    const out: HierarchyRow[] = [];
    for (const row of top) {
      out.push(row);
      if (row.name === 'extended') out.push(...rows.filter((r) => r.depth === 1).sort((a, b) => total(b) - total(a) || a.name.localeCompare(b.name)));
    }
    return out;
  }

  private io(bins: number): IoGraph {
    const start = this.t0 ?? 0;
    const span = this.tLast - start;
    const binSeconds = niceInterval(span / Math.max(1, bins), this.resolution);
    const n = this.t0 === undefined ? 0 : Math.min(bins, Math.floor(span / binSeconds) + 1);
    const rates: [number[], number[]] = [new Array<number>(n).fill(0), new Array<number>(n).fill(0)];
    for (const [bin, bytes] of this.bins) {
      const i = Math.min(n - 1, Math.floor((bin * this.resolution + this.resolution / 2) / binSeconds));
      rates[0][i]! += bytes[0] / binSeconds;
      rates[1][i]! += bytes[1] / binSeconds;
    }
    return { start, binSeconds, rates };
  }
}

/** The smallest of 1, 2, 5 times a power of ten (and at least `floor`) that is >= `x` seconds. */
function niceInterval(x: number, floor: number): number {
  for (let p = floor; ; p *= 10) for (const m of [1, 2, 5]) if (m * p >= x - 1e-12) return Number((m * p).toPrecision(6));
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled to the largest of `scale` (default: of `values`); 0 is a space. */
export function sparkline(values: readonly number[], scale = Math.max(0, ...values)): string {
  return values.map((v) => (v <= 0 || scale <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((v / scale) * (BARS.length - 1) + 0.5))]!)).join('');
}
