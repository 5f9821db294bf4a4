// What a report needs from the record stream, kept compactly: one row per message or connection
// event in typed columns (about 40 bytes a row: a million-message capture takes some 40 MB, not
// the gigabyte its record objects would), text only for rows whose label the columns cannot
// rebuild, the findings with the row each points at, and the connections' summaries. Sans-I/O:
// records in; the renderers read it.
import { dirOfSender, type AnyRecord, type EventRecord, type MessageRecord, type Severity } from '../model/record.js';
import { SummaryCollector } from '../output/summary.js';
import { describeEvent, describeMessage } from '../output/text-format.js';
import { partitionPoint } from '../util/sorted.js';

/** Findings kept in full; beyond it they are only counted (a hostile capture may make millions). */
export const MAX_FINDINGS = 5000;
/** Labels kept as text; later rows that need one get a short one from their columns. */
const MAX_LABELS = 300_000;
/** Row kinds named (message, extension and event names come from peers); the rest are "other". */
const MAX_KINDS = 200;
/** Bytes of a bitfield kept for the piece map (256 Ki pieces). */
const MAX_BITFIELD = 32 * 1024;

/** Kinds whose label the columns rebuild (piece, begin, length), so no text is stored for them. */
const COLUMN_KINDS = new Set(['have', 'request', 'piece', 'cancel', 'reject_request', 'suggest_piece', 'allowed_fast', 'keep_alive', 'choke', 'unchoke', 'interested', 'not_interested', 'have_all', 'have_none', 'lt_donthave']);

export interface Finding {
  record: EventRecord;
  /** The row of the message it points at, -1 when none was found (or it concerns the capture). */
  row: number;
}

export interface ConnInfo {
  conn: number;
  transport: string;
  /** Initiator, responder. */
  addr: [string, string];
  /** Row indices of this connection, in order. */
  rows: Growable;
  /** The handshake and the latest extended handshake of each side. */
  handshake: [MessageRecord | undefined, MessageRecord | undefined];
  extHandshake: [MessageRecord | undefined, MessageRecord | undefined];
  /** The piece count the piece map draws: a bitfield's bit count, else the highest piece seen + 1. */
  pieces: number;
  bitfieldBits: number;
  maxPiece: number;
  /** Findings on this connection by severity (all of them, also those beyond MAX_FINDINGS). */
  severities: Record<Severity, number>;
}

/** An Int32 list that grows by doubling. */
export class Growable {
  data = new Int32Array(16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  at(i: number): number {
    return this.data[i]!;
  }
}

export class ReportCollector {
  // Row columns.
  private capacity = 1024;
  rows = 0;
  conn = new Uint32Array(this.capacity);
  ts = new Float64Array(this.capacity);
  dir = new Uint8Array(this.capacity);
  kind = new Uint8Array(this.capacity);
  piece = new Int32Array(this.capacity);
  begin = new Uint32Array(this.capacity);
  length = new Uint32Array(this.capacity);
  size = new Uint32Array(this.capacity);
  frame = new Uint32Array(this.capacity);
  /** A message in several packets: the first of them (0: one packet, or unknown). */
  firstFrame = new Uint32Array(this.capacity);
  label = new Int32Array(this.capacity);
  /** 1 for a message row, 0 for an event row. */
  isMessage = new Uint8Array(this.capacity);

  readonly kinds: string[] = [];
  private readonly kindIndex = new Map<string, number>();
  readonly labels: string[] = [];
  readonly conns = new Map<number, ConnInfo>();
  readonly findings: Finding[] = [];
  readonly findingCounts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  /** Findings about the capture as a whole (conn 0), by severity. */
  readonly captureSeverities: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  /** Row -> the bitfield message's first bytes (header included), for the piece map. */
  readonly bitfields = new Map<number, Uint8Array>();
  readonly warnings: string[] = [];
  private readonly summaries = new SummaryCollector();
  firstTs = Infinity;
  lastTs = -Infinity;

  /** The capture's first packet: relative times and the span count from it, as in the timeline. */
  setOrigin(ts: number): void {
    if (ts < this.firstTs) this.firstTs = ts;
  }

  readonly record = (r: AnyRecord, raw?: Uint8Array): void => {
    if (!('conn' in r)) {
      if (this.warnings.length < 20) this.warnings.push(r.message);
      return;
    }
    if (r.ts < this.firstTs) this.firstTs = r.ts;
    if (r.ts > this.lastTs) this.lastTs = r.ts;
    if ('event' in r && r.event === 'summary') return;
    this.summaries.record(r);
    if ('event' in r && r.event === 'finding') return this.finding(r);
    if (r.conn === 0) return;
    const info = this.connInfo(r);
    if ('msg' in r) this.message(info, r, raw);
    else this.addRow(info, r, this.kindOf(`event:${r.event}`), 0, describeEvent(r));
  };

  /** One summary record per connection (the project's SummaryCollector). */
  connectionSummaries(): EventRecord[] {
    return this.summaries.summaries();
  }

  kindName(row: number): string {
    return this.kinds[this.kind[row]!] ?? 'other';
  }

  private message(info: ConnInfo, r: MessageRecord, raw: Uint8Array | undefined): void {
    const name = r.msg !== 'extended' ? r.msg : r.ext === 'lt_donthave' ? 'lt_donthave' : r.ext === 'handshake' ? 'extended handshake' : r.ext == null ? 'extended?' : `ext ${r.ext}`;
    const side = dirOfSender(r.src, info.addr[0]);
    if (r.msg === 'handshake') info.handshake[side] = r;
    if (r.msg === 'extended' && r.ext === 'handshake') info.extHandshake[side] = r;
    // A bitfield bounds the piece count (an out-of-range have or lt_donthave must not stretch the
    // piece map); without one, the highest piece seen does.
    if (r.msg === 'bitfield' && r.bits !== undefined) {
      info.bitfieldBits = Math.max(info.bitfieldBits, Math.min(r.bits, MAX_BITFIELD * 8));
      if (raw !== undefined) this.bitfields.set(this.rows, raw.slice(0, 5 + MAX_BITFIELD));
    }
    if (r.piece !== undefined && r.piece >= info.maxPiece && r.piece < 1 << 20) info.maxPiece = r.piece + 1;
    info.pieces = info.bitfieldBits > 0 ? info.bitfieldBits : info.maxPiece;
    const plain = r.malformed === undefined && r.probably === undefined && r.resync !== true;
    const text = COLUMN_KINDS.has(name) && plain ? undefined : describeMessage(r);
    this.addRow(info, r, this.kindOf(name), 1, text);
  }

  private addRow(info: ConnInfo, r: MessageRecord | EventRecord, kind: number, isMessage: number, text: string | undefined): void {
    if (this.rows === this.capacity) this.grow();
    const i = this.rows++;
    this.conn[i] = r.conn;
    this.ts[i] = r.ts;
    this.dir[i] = dirOfSender(r.src, info.addr[0]);
    this.kind[i] = kind;
    this.piece[i] = r.piece ?? -1;
    this.begin[i] = 'begin' in r ? (r.begin ?? 0) : 0;
    this.length[i] = 'length' in r ? (r.length ?? 0) : 0;
    this.size[i] = 'size' in r ? r.size : 0;
    this.frame[i] = frameOf(r);
    const first = (r as { firstFrame?: unknown }).firstFrame;
    this.firstFrame[i] = typeof first === 'number' ? first : 0;
    this.isMessage[i] = isMessage;
    if (text !== undefined && this.labels.length < MAX_LABELS) {
      this.label[i] = this.labels.length;
      this.labels.push(text.length > 300 ? text.slice(0, 299) + '…' : text);
    } else {
      this.label[i] = -1;
    }
    info.rows.push(i);
  }

  /**
   * A finding follows the message it points at, or comes later (judged at the end): then it is
   * found by frame, else by time, direction and piece among the connection's rows.
   */
  private finding(r: EventRecord): void {
    const severity = r.severity ?? 'info';
    this.findingCounts[severity]++;
    const info = this.conns.get(r.conn);
    if (info !== undefined) info.severities[severity]++;
    else this.captureSeverities[severity]++;
    if (this.findings.length >= MAX_FINDINGS) return;
    this.findings.push({ record: r, row: info === undefined ? -1 : this.rowOf(info, r) });
  }

  private rowOf(info: ConnInfo, f: EventRecord): number {
    const dir = dirOfSender(f.src, info.addr[0]);
    const frame = frameOf(f);
    const rows = info.rows;
    // Binary search the last row at or before the finding's time, then look back over equal times.
    const lo = partitionPoint(rows.length, (k) => this.ts[rows.at(k)]! <= f.ts);
    // The message has the finding's time (and frame, once records carry one); a packet may hold
    // several, so the piece decides between them.
    let fallback = -1;
    for (let k = lo - 1; k >= 0 && k >= lo - 2000; k--) {
      const i = rows.at(k);
      if (this.ts[i]! < f.ts) break;
      if (this.isMessage[i] === 0 || this.dir[i] !== dir || this.ts[i] !== f.ts) continue;
      if (frame !== 0 && this.frame[i] !== 0 && this.frame[i] !== frame) continue;
      if (f.piece === undefined || this.piece[i] === f.piece) return i;
      if (fallback === -1) fallback = i;
    }
    return fallback;
  }

  private connInfo(r: MessageRecord | EventRecord): ConnInfo {
    let info = this.conns.get(r.conn);
    if (info === undefined) {
      info = { conn: r.conn, transport: r.transport, addr: [r.src, r.dst], rows: new Growable(), handshake: [undefined, undefined], extHandshake: [undefined, undefined], pieces: 0, bitfieldBits: 0, maxPiece: 0, severities: { error: 0, warning: 0, info: 0 } };
      this.conns.set(r.conn, info);
    }
    return info;
  }

  private kindOf(name: string): number {
    let k = this.kindIndex.get(name);
    if (k === undefined) {
      if (this.kinds.length >= MAX_KINDS) return this.kindOf('other');
      k = this.kinds.length;
      this.kinds.push(name);
      this.kindIndex.set(name, k);
    }
    return k;
  }

  private grow(): void {
    this.capacity *= 2;
    const g = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(this.capacity);
      b.set(a);
      return b;
    };
    this.conn = g(this.conn);
    this.ts = g(this.ts);
    this.dir = g(this.dir);
    this.kind = g(this.kind);
    this.piece = g(this.piece);
    this.begin = g(this.begin);
    this.length = g(this.length);
    this.size = g(this.size);
    this.frame = g(this.frame);
    this.firstFrame = g(this.firstFrame);
    this.label = g(this.label);
    this.isMessage = g(this.isMessage);
  }
}

/** The capture frame that completed a record (0: unknown, as in the proxy without --save). */
export function frameOf(r: AnyRecord): number {
  const frame = (r as { frame?: unknown }).frame;
  return typeof frame === 'number' ? frame : 0;
}
