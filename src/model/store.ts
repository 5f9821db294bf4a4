// The record store behind the terminal UI: every record in one flat array (1M messages fit), the
// first bytes of each message copied into shared arenas (bounded, so a peer cannot grow memory
// beyond a fixed share per message), an index of lt_donthave rows, and the filtered view, extended
// incrementally as records arrive and recomputed only when the filter or connection changes.
// A longer message keeps where its bytes lie in the capture file (a few offsets), and they are
// read back from the file when the hex pane shows it: memory follows messages, not bytes.
import type { FramePacket } from '../capture/types.js';
import { MAX_EXTENT_PAIRS, type AnyRecord, type ByteExtents, type EventRecord, type MessageRecord, type Severity } from './record.js';
import { escapeText } from '../output/escape.js';

/** Bytes of a message kept for the hex pane. A bitfield keeps more so the piece map can read it. */
export const RAW_KEEP = 256;
export const RAW_KEEP_BITFIELD = 8192;
const ARENA_SIZE = 4 << 20;
const MAX_PIECES = 1 << 20;
const CHECKPOINT_EVERY = 1024;
/** Messages with the same time looked through for a finding's message (one packet carries many). */
const SAME_TIME_SCAN = 1024;
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };
/** Doubles per extents arena (each message: a count, then offset, length pairs). */
const EXTENTS_ARENA = 1 << 16;

/** Reads bytes of the capture back on demand (the hex pane); undefined when they cannot be read. */
export interface ByteSource {
  read(offset: number, length: number): Uint8Array | undefined;
}

const READ_FAILED = 'the rest could not be read back from the capture file';

export interface RecordBytes {
  bytes: Uint8Array;
  /** The message's size on the wire. */
  total: number;
  /** Why only the first bytes are shown, when bytes.length < total. */
  note?: string;
}

export interface ConnectionInfo {
  conn: number;
  transport: string;
  /** Side 0 is the first source seen on the connection (normally the initiator). */
  addr: [string, string];
  client: [string | undefined, string | undefined];
  extensions: [string[], string[]];
  messages: [number, number];
  donthave: [number, number];
  records: number;
  /** Piece count: the torrent's or the verified metadata's once known, else from a bitfield (bits) or the highest piece seen + 1. */
  pieces: number;
  /** `pieces` is the torrent's count (setPieceCount), not a guess from the messages. */
  exact?: boolean;
}

export type Predicate = (r: AnyRecord) => boolean;

export class RecordStore {
  readonly records: AnyRecord[] = [];
  private readonly rawView: (Uint8Array | undefined)[] = [];
  private readonly rawFull: number[] = [];
  private arena = new Uint8Array(ARENA_SIZE);
  private arenaUsed = 0;
  /** Per record: where its extents start (arena number * EXTENTS_ARENA + offset), or -1. */
  private readonly extentsAt: number[] = [];
  private readonly extentArenas: Float64Array[] = [];
  private extentsUsed = EXTENTS_ARENA;
  private byteSource: ByteSource | undefined;
  /** Why bytes cannot be read back (no byte source). */
  private noReadBack = 'only the first bytes of each message are kept';
  private lastRead: { index: number; bytes: RecordBytes } | undefined;
  /** Reads a capture packet back by frame number, for the details tree's lower layers; or why it cannot. */
  private frameReader: ((frame: number) => FramePacket | string) | string = 'the capture packets cannot be read back';
  readonly donthave: number[] = [];
  /** Unresolved extended messages that are probably lt_donthave (not in `donthave`: n/N skip them). */
  probableDonthave = 0;
  /** Indices of the finding records, and per severity how many there are. */
  readonly findings: number[] = [];
  readonly findingCounts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  /** Stalls raised (request-stalled) and not yet ended (request-stall-ended), by "conn:since". */
  readonly liveStalls = new Map<string, { conn: number; since: number }>();
  /** Message index -> the worst severity of the findings that point at it. */
  private readonly flags = new Map<number, Severity>();
  /** Finding index -> the index of the message it points at, when that was found. */
  private readonly targets = new Map<number, number>();
  /** Per connection, the indices of its message records (capture order, so by time). */
  private readonly connMessages = new Map<number, number[]>();
  /** Indices (into records) of the records that pass the filter and connection choice. */
  view: number[] = [];
  private filter: Predicate | undefined;
  private connChoice: number | undefined;
  private readonly conns = new Map<number, ConnectionInfo>();
  /** Per connection: indices of the records that change a side's pieces. */
  private readonly pieceEvents = new Map<number, number[]>();
  private readonly checkpoints = new Map<number, { pieces: number; states: [SidePieces, SidePieces][] }>();
  private listeners = new Set<() => void>();
  version = 0;

  /** A RecordSink: copies what it keeps of `raw`, and of `where` when `raw` is not kept whole. */
  readonly add = (record: AnyRecord, raw?: Uint8Array, where?: ByteExtents): void => {
    const index = this.records.length;
    this.records.push(record);
    if (record.frame !== undefined) this.framed = true;
    const kept = raw === undefined ? undefined : this.keepRaw(raw, 'msg' in record && record.msg === 'bitfield' ? RAW_KEEP_BITFIELD : RAW_KEEP);
    this.rawView.push(kept);
    this.rawFull.push(raw?.length ?? 0);
    this.extentsAt.push(kept !== undefined && where !== undefined && kept.length < raw!.length ? this.keepExtents(where, raw!.length) : -1);
    if ('msg' in record) this.addMessage(record, index);
    else if (record.event === 'finding') this.addFinding(record, index);
    if ('conn' in record) this.track(record, index);
    if (this.passes(record)) this.view.push(index);
    this.version++;
    this.notify();
  };

  /** Some record carries a frame number: the timeline shows a frame column. */
  framed = false;
  /** Connection `conn`'s piece count is known (its torrent, or verified metadata): the piece map uses it. */
  setPieceCount(conn: number, count: number): void {
    const info = this.conns.get(conn);
    if (info === undefined || count <= 0 || count > MAX_PIECES) return;
    info.pieces = count;
    info.exact = true;
    this.version++;
    this.notify();
  }

  /** The capture's first packet time (set by the feed): what row times count from. */
  origin: number | undefined;

  setOrigin(ts: number): void {
    this.origin ??= ts;
  }

  /** The feed has ended (normally, or with `failure`). */
  finished = false;
  failure: string | undefined;

  finish(failure?: string): void {
    this.finished = true;
    this.failure = failure;
    this.version++;
    this.notify();
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  get size(): number {
    return this.records.length;
  }

  /** The first bytes kept of a record's message (all of it when short). */
  raw(index: number): RecordBytes | undefined {
    const bytes = this.rawView[index];
    return bytes === undefined ? undefined : { bytes, total: this.rawFull[index] ?? bytes.length };
  }

  /** Where the bytes of long messages are read back from; `why` says why they cannot be, without one. */
  setByteSource(source: ByteSource | undefined, why?: string): void {
    this.byteSource = source;
    if (why !== undefined) this.noReadBack = why;
    this.lastRead = undefined;
  }

  /** Where the details tree reads a frame's packet from, or why it cannot (one line). */
  setFrameReader(reader: ((frame: number) => FramePacket | string) | string): void {
    this.frameReader = reader;
  }

  /** The packet of capture frame `frame`, read back, or why it cannot be. */
  framePacket(frame: number): FramePacket | string {
    return typeof this.frameReader === 'string' ? this.frameReader : this.frameReader(frame);
  }

  /**
   * A record's whole message: read back from the capture when only its first bytes are kept. What
   * is read must begin with the kept bytes (the file may have changed since); otherwise, or when
   * it cannot be read, the kept bytes come with a note.
   */
  bytes(index: number): RecordBytes | undefined {
    const kept = this.raw(index);
    if (kept === undefined || kept.bytes.length === kept.total) return kept;
    if (this.lastRead?.index === index) return this.lastRead.bytes;
    const result = this.readBack(index, kept);
    // A read that failed is tried again at the next render: a --save file being written may not
    // have the bytes yet.
    if (result.note !== READ_FAILED) this.lastRead = { index, bytes: result };
    return result;
  }

  private readBack(index: number, kept: RecordBytes): RecordBytes {
    const at = this.extentsAt[index] ?? -1;
    if (this.byteSource === undefined) return { ...kept, note: this.noReadBack };
    if (at < 0) return { ...kept, note: 'the rest was not located in the capture (decoded after a resync or a decryption)' };
    const arena = this.extentArenas[Math.floor(at / EXTENTS_ARENA)]!;
    let p = at % EXTENTS_ARENA;
    const count = arena[p++]!;
    // keepExtents kept only extents that add up to the message's size.
    const whole = new Uint8Array(kept.total);
    let filled = 0;
    for (let k = 0; k < count; k++, p += 2) {
      const part = this.byteSource.read(arena[p]!, arena[p + 1]!);
      if (part === undefined || part.length !== arena[p + 1]) return { ...kept, note: READ_FAILED };
      whole.set(part, filled);
      filled += part.length;
    }
    if (!startsWith(whole, kept.bytes)) {
      return { ...kept, note: 'the capture file has changed since it was read' };
    }
    return { bytes: whole, total: kept.total };
  }

  private keepExtents(where: ByteExtents, size: number): number {
    const pairs = where.length >> 1;
    let sum = 0;
    for (let k = 1; k < where.length; k += 2) sum += where[k]!;
    if (pairs === 0 || pairs > MAX_EXTENT_PAIRS || sum !== size) return -1;
    const need = 1 + 2 * pairs;
    if (this.extentsUsed + need > EXTENTS_ARENA) {
      this.extentArenas.push(new Float64Array(EXTENTS_ARENA));
      this.extentsUsed = 0;
    }
    const arenaIndex = this.extentArenas.length - 1;
    const arena = this.extentArenas[arenaIndex]!;
    const at = this.extentsUsed;
    arena[at] = pairs;
    arena.set(where, at + 1);
    this.extentsUsed += need;
    return arenaIndex * EXTENTS_ARENA + at;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setFilter(filter: Predicate | undefined): void {
    this.filter = filter;
    this.rebuildView();
  }

  setConnection(conn: number | undefined): void {
    this.connChoice = conn;
    this.rebuildView();
  }

  get connection(): number | undefined {
    return this.connChoice;
  }

  connections(): ConnectionInfo[] {
    return [...this.conns.values()];
  }

  connectionInfo(conn: number): ConnectionInfo | undefined {
    return this.conns.get(conn);
  }

  /** Position in the view of the first row at or after record `index` (view.length if none). */
  viewPositionAtOrAfter(index: number): number {
    let lo = 0;
    let hi = this.view.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.view[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Next (dir 1) or previous (dir -1) visible lt_donthave row from view position `from`; -1 if none. */
  findDonthave(from: number, dir: 1 | -1): number {
    return this.findIn(this.donthave, from, dir);
  }

  /** Next (dir 1) or previous (dir -1) visible finding row from view position `from`; -1 if none. */
  findFinding(from: number, dir: 1 | -1): number {
    return this.findIn(this.findings, from, dir);
  }

  /** The worst severity of the findings that point at record `index`, if any. */
  flag(index: number): Severity | undefined {
    return this.flags.get(index);
  }

  /** The message record a finding record points at, if it is in the store. */
  findingTarget(findingIndex: number): number | undefined {
    return this.targets.get(findingIndex);
  }

  private addMessage(r: MessageRecord, index: number): void {
    if (r.ext === 'lt_donthave') this.donthave.push(index);
    else if (r.ext === null && r.probably === 'lt_donthave') this.probableDonthave++;
    let list = this.connMessages.get(r.conn);
    if (list === undefined) this.connMessages.set(r.conn, (list = []));
    list.push(index);
  }

  private addFinding(f: EventRecord, index: number): void {
    this.findings.push(index);
    const severity = f.severity ?? 'info';
    this.findingCounts[severity]++;
    // A stall's two findings carry the same `since`: the status line shows those still going.
    if (f.since !== undefined && f.finding === 'request-stalled') this.liveStalls.set(`${f.conn}:${f.since}`, { conn: f.conn, since: f.since });
    else if (f.since !== undefined && f.finding === 'request-stall-ended') this.liveStalls.delete(`${f.conn}:${f.since}`);
    const target = this.messageAt(f, index);
    if (target === undefined) return;
    this.targets.set(index, target);
    const was = this.flags.get(target);
    if (was === undefined || SEVERITY_RANK[severity] > SEVERITY_RANK[was]) this.flags.set(target, severity);
  }

  /**
   * The message a finding points at: on its connection, sent at its time from its src to its dst (the
   * latest such before it). Binary search by time, then a bounded look through equal times.
   */
  private messageAt(f: EventRecord, before: number): number | undefined {
    const list = this.connMessages.get(f.conn);
    if (list === undefined || f.ts === undefined) return undefined;
    const ts = f.ts;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[list[mid]!]!.ts! <= ts) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo - 1; k >= 0 && k >= lo - SAME_TIME_SCAN; k--) {
      const i = list[k]!;
      const r = this.records[i] as MessageRecord;
      if (r.ts !== ts) break;
      if (i < before && r.src === f.src && r.dst === f.dst) return i;
    }
    return undefined;
  }

  /** Next or previous entry of `list` (record indices, ascending) that is in the view, from view position `from`. */
  private findIn(list: number[], from: number, dir: 1 | -1): number {
    const current = this.view[from] ?? (dir === 1 ? -1 : Number.MAX_SAFE_INTEGER);
    // Binary search the index for the first candidate past the current record.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! <= current) lo = mid + 1;
      else hi = mid;
    }
    let i = dir === 1 ? lo : lo - 1;
    if (dir === -1 && list[i] === current) i--;
    for (; i >= 0 && i < list.length; i += dir) {
      const index = list[i]!;
      const pos = this.viewPositionAtOrAfter(index);
      if (this.view[pos] === index) return pos;
    }
    return -1;
  }

  /**
   * Decode As, from the UI: the unresolved extended messages of `conn` toward `dst` with id `extId`
   * are named `name`, their payload decoded by `decode` from the bytes kept of each (messages longer
   * than those keep the name and their payload length only). `mappingFrom` says where the name came
   * from. Returns how many records changed; the view, lt_donthave list and piece map follow.
   */
  decodeAs(conn: number, dst: string, extId: number, name: string, decode: (payload: Uint8Array) => Partial<MessageRecord>): number {
    let changed = 0;
    const info = this.conns.get(conn);
    for (const index of this.connMessages.get(conn) ?? []) {
      const r = this.records[index] as MessageRecord;
      if (r.msg !== 'extended' || r.ext !== null || r.extId !== extId || r.dst !== dst) continue;
      const { probably, probablyWhy: _why, payloadLength: _length, ...rest } = r;
      const next: MessageRecord = { ...rest, ext: name, mappingFrom: 'Decode As (in the terminal UI)' };
      const raw = this.raw(index);
      if (raw !== undefined && raw.bytes.length === raw.total && raw.total >= 6) Object.assign(next, decode(raw.bytes.subarray(6)));
      else next.payloadLength = r.size - 6;
      this.records[index] = next;
      changed++;
      if (probably === 'lt_donthave') this.probableDonthave--;
      if (name !== 'lt_donthave') continue;
      insertSorted(this.donthave, index);
      if (info !== undefined) {
        info.donthave[r.src === info.addr[0] ? 0 : 1]++;
        if (info.exact !== true && next.piece !== undefined && next.piece >= info.pieces && next.piece < MAX_PIECES) info.pieces = next.piece + 1;
      }
      let events = this.pieceEvents.get(conn);
      if (events === undefined) this.pieceEvents.set(conn, (events = []));
      insertSorted(events, index);
    }
    if (changed > 0) {
      // The piece map replays from checkpoints taken before these messages had a name.
      this.checkpoints.delete(conn);
      this.rebuildView();
      this.notify();
    }
    return changed;
  }

  /** Each side's pieces on `conn` after record `upTo` (a record index), with pieces lost through lt_donthave. */
  pieceMap(conn: number, upTo: number): PieceMap | undefined {
    const info = this.conns.get(conn);
    if (info === undefined) return undefined;
    const n = Math.min(info.pieces, MAX_PIECES);
    const events = this.pieceEvents.get(conn) ?? [];
    // How many of the connection's piece events happen at or before `upTo`.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]! <= upTo) lo = mid + 1;
      else hi = mid;
    }
    const count = lo;
    // Replays at most CHECKPOINT_EVERY events from the nearest snapshot, so any moment is cheap.
    let cps = this.checkpoints.get(conn);
    if (cps === undefined || cps.pieces !== n) this.checkpoints.set(conn, (cps = { pieces: n, states: [[emptySide(n), emptySide(n)]] }));
    const want = Math.floor(count / CHECKPOINT_EVERY);
    while (cps.states.length <= want) {
      const k = cps.states.length;
      const sides = cloneSides(cps.states[k - 1]!);
      this.replay(info, events, (k - 1) * CHECKPOINT_EVERY, k * CHECKPOINT_EVERY, sides, n);
      cps.states.push(sides);
    }
    const sides = cloneSides(cps.states[want]!);
    this.replay(info, events, want * CHECKPOINT_EVERY, count, sides, n);
    return { pieces: n, sides, addr: info.addr };
  }

  private replay(info: ConnectionInfo, events: number[], from: number, to: number, sides: [SidePieces, SidePieces], n: number): void {
    for (let e = from; e < to; e++) {
      const index = events[e]!;
      const r = this.records[index] as MessageRecord;
      applyPieceEvent(sides[r.src === info.addr[0] ? 0 : 1], r, this.rawView[index], n);
    }
  }

  private passes(record: AnyRecord): boolean {
    if (this.connChoice !== undefined && (!('conn' in record) || record.conn !== this.connChoice)) return false;
    return this.filter === undefined || this.filter(record);
  }

  private rebuildView(): void {
    const records = this.records;
    let view: number[];
    if (this.filter === undefined && this.connChoice === undefined) {
      view = new Array<number>(records.length);
      for (let i = 0; i < records.length; i++) view[i] = i;
    } else {
      view = [];
      for (let i = 0; i < records.length; i++) if (this.passes(records[i]!)) view.push(i);
    }
    this.view = view;
    this.version++;
  }

  private keepRaw(raw: Uint8Array, limit: number): Uint8Array {
    const n = Math.min(raw.length, limit);
    if (this.arenaUsed + n > this.arena.length) {
      this.arena = new Uint8Array(ARENA_SIZE);
      this.arenaUsed = 0;
    }
    const kept = this.arena.subarray(this.arenaUsed, this.arenaUsed + n);
    kept.set(raw.subarray(0, n));
    this.arenaUsed += n;
    return kept;
  }

  private track(r: MessageRecord | EventRecord, index: number): void {
    let info = this.conns.get(r.conn);
    if (info === undefined) {
      info = {
        conn: r.conn,
        transport: r.transport,
        addr: [r.src, r.dst],
        client: [undefined, undefined],
        extensions: [[], []],
        messages: [0, 0],
        donthave: [0, 0],
        records: 0,
        pieces: 0,
      };
      this.conns.set(r.conn, info);
    }
    info.records++;
    if (!('msg' in r)) return;
    const side = r.src === info.addr[0] ? 0 : 1;
    info.messages[side]++;
    if (r.msg === 'handshake' && r.client !== undefined) info.client[side] ??= escapeText(r.client, 40);
    if (r.msg === 'extended' && r.ext === 'handshake') {
      if (r.v !== undefined) info.client[side] = escapeText(r.v, 40);
      if (r.m !== undefined) info.extensions[side] = Object.keys(r.m).map((k) => escapeText(k, 40));
    }
    const changesPieces =
      r.msg === 'bitfield' || r.msg === 'have' || r.msg === 'have_all' || r.msg === 'have_none' || (r.msg === 'extended' && r.ext === 'lt_donthave');
    if (!changesPieces) return;
    if (r.ext === 'lt_donthave') info.donthave[side]++;
    if (info.exact !== true) {
      if (r.msg === 'bitfield' && r.bits !== undefined) info.pieces = Math.max(info.pieces, r.bits);
      if (r.piece !== undefined && r.piece >= info.pieces && r.piece < MAX_PIECES) info.pieces = r.piece + 1;
    }
    let list = this.pieceEvents.get(r.conn);
    if (list === undefined) this.pieceEvents.set(r.conn, (list = []));
    list.push(index);
  }
}

/** Piece states in a SidePieces array; Lost = had it, then lt_donthave withdrew it. */
export const PieceState = { Missing: 0, Have: 1, Lost: 2 } as const;

export interface SidePieces {
  state: Uint8Array;
  all: boolean;
}

export interface PieceMap {
  pieces: number;
  sides: [SidePieces, SidePieces];
  addr: [string, string];
}

function cloneSides(sides: [SidePieces, SidePieces]): [SidePieces, SidePieces] {
  return [
    { state: sides[0].state.slice(), all: sides[0].all },
    { state: sides[1].state.slice(), all: sides[1].all },
  ];
}

function emptySide(n: number): SidePieces {
  return { state: new Uint8Array(n), all: false };
}

/** Applies a have, bitfield (`raw`: the message with its 5-byte header), have_all/none or lt_donthave to a side. */
export function applyPieceEvent(side: SidePieces, r: MessageRecord, raw: Uint8Array | undefined, n: number): void {
  switch (r.msg) {
    case 'have_all':
      side.state.fill(PieceState.Have);
      return;
    case 'have_none':
      side.state.fill(PieceState.Missing);
      return;
    case 'have':
      if (r.piece !== undefined && r.piece < n) side.state[r.piece] = PieceState.Have;
      return;
    case 'bitfield':
      if (raw === undefined) return;
      // Payload starts after the 4-byte length and the id.
      for (let p = 0; p < n && 5 + (p >> 3) < raw.length; p++) {
        side.state[p] = (raw[5 + (p >> 3)]! >> (7 - (p & 7))) & 1 ? PieceState.Have : PieceState.Missing;
      }
      return;
    case 'extended':
      if (r.ext === 'lt_donthave' && r.piece !== undefined && r.piece < n) side.state[r.piece] = PieceState.Lost;
      return;
    default:
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Inserts `value` into the ascending `list` (indices: each at most once). */
function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== value) list.splice(lo, 0, value);
}
