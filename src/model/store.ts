// The record store behind the terminal UI: every record as a row of typed columns
// (record-columns.ts: about 60 bytes a record, 10M messages fit), rebuilt as an object for the rows
// read (on screen, selected, a filter pass); an index of lt_donthave rows, findings and per-connection messages, and the filtered view, extended
// incrementally as records arrive and recomputed only when the filter or connection changes. The
// message bytes are kept by record-bytes.ts (first bytes, read back from the capture), the piece map
// replayed by piece-replay.ts through the shared piece-state model.
import type { FramePacket } from '../capture/types.js';
import { dirOfSender, type AnyRecord, type ByteExtents, type EventRecord, type MessageRecord, type Severity } from './record.js';
import { escapeText } from '../output/escape.js';
import { changesPieces } from '../analysis/piece-state.js';
import { RAW_KEEP, RAW_KEEP_BITFIELD, RecordByteStore, type ByteSource, type RecordBytes } from './record-bytes.js';
import { insertSorted, PieceReplay, type PieceMap } from './piece-replay.js';
import { partitionPoint } from '../util/sorted.js';
import { RecordColumns } from './record-columns.js';
import { ViewPass, type PassProgress, type Predicate } from './view-pass.js';

export { RAW_KEEP, RAW_KEEP_BITFIELD, type ByteSource, type RecordBytes } from './record-bytes.js';
export { PieceState } from '../analysis/piece-state.js';
export type { PieceMap, SidePieces } from './piece-replay.js';

const MAX_PIECES = 1 << 20;
/** Messages with the same time looked through for a finding's message (one packet carries many). */
const SAME_TIME_SCAN = 1024;
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

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

export type { Predicate, PassProgress } from './view-pass.js';

export class RecordStore {
  private readonly rows = new RecordColumns();
  private readonly byteStore = new RecordByteStore();
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
  /** The filtered view and the pass that makes it (view-pass.ts). */
  private readonly pass = new ViewPass(this.rows);
  private readonly conns = new Map<number, ConnectionInfo>();
  private readonly pieces: PieceReplay;
  private listeners = new Set<() => void>();
  version = 0;

  /** `checkpointSpacing`: piece messages of a connection between piece map checkpoints, at least (tests). */
  constructor(opts: { checkpointSpacing?: number } = {}) {
    const source = {
      // A replay reads each record once: the object reused per shape, not a new one per record.
      message: (index: number) => this.rows.peek(index) as MessageRecord,
      rawBytes: (index: number) => this.byteStore.raw(index)?.bytes,
    };
    this.pieces = new PieceReplay(source, opts.checkpointSpacing);
  }

  /** A RecordSink: copies what it keeps of `raw`, and of `where` when `raw` is not kept whole. */
  readonly add = (record: AnyRecord, raw?: Uint8Array, where?: ByteExtents): void => {
    const index = this.rows.push(record);
    if (record.frame !== undefined) this.framed = true;
    this.byteStore.push(raw, where, 'msg' in record && record.msg === 'bitfield' ? RAW_KEEP_BITFIELD : RAW_KEEP);
    if ('msg' in record) this.addMessage(record, index);
    else if (record.event === 'finding') this.addFinding(record, index);
    if ('conn' in record) this.track(record, index);
    this.pass.appended(index, record);
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
    return this.rows.length;
  }

  /** Record `index` (rebuilt from its columns: a new object at each call), undefined past the end. */
  record(index: number): AnyRecord | undefined {
    return this.rows.get(index);
  }

  /** Record `index`'s time without rebuilding it (undefined past the end or when it has none). */
  ts(index: number): number | undefined {
    if (index < 0 || index >= this.rows.length) return undefined;
    const ts = this.rows.ts(index);
    return Number.isNaN(ts) ? undefined : ts;
  }

  /** The first bytes kept of a record's message (all of it when short). */
  raw(index: number): RecordBytes | undefined {
    return this.byteStore.raw(index);
  }

  /** Where the bytes of long messages are read back from; `why` says why they cannot be, without one. */
  setByteSource(source: ByteSource | undefined, why?: string): void {
    this.byteStore.setByteSource(source, why);
  }

  /** Where the details tree reads a frame's packet from, or why it cannot (one line). */
  setFrameReader(reader: ((frame: number) => FramePacket | string) | string): void {
    this.byteStore.setFrameReader(reader);
  }

  /** The packet of capture frame `frame`, read back, or why it cannot be. */
  framePacket(frame: number): FramePacket | string {
    return this.byteStore.framePacket(frame);
  }

  /** A record's whole message, read back from the capture when only its first bytes are kept (see RecordByteStore). */
  bytes(index: number): RecordBytes | undefined {
    return this.byteStore.bytes(index);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Indices (into records) of the records that pass the filter and connection choice: so far, while a pass runs. */
  get view(): number[] {
    return this.pass.view;
  }

  /** Applies `filter` at once (a whole pass before returning). */
  setFilter(filter: Predicate | undefined): void {
    this.beginFilter(filter);
    this.finishView();
  }

  /** Shows only connection `conn`'s records (undefined: all) at once. */
  setConnection(conn: number | undefined): void {
    this.beginConnection(conn);
    this.finishView();
  }

  /** Starts the pass for `filter` (dropping one running); continueView() runs it a slice at a time. */
  beginFilter(filter: Predicate | undefined): void {
    this.pass.start(filter, this.pass.connection);
    this.viewChanged();
  }

  /** Starts the pass for connection `conn` (undefined: all), the filter kept. */
  beginConnection(conn: number | undefined): void {
    this.pass.start(this.pass.filter, conn);
    this.viewChanged();
  }

  /** Runs the pass in progress over up to `maxRows` more records; true when none is left running. */
  continueView(maxRows: number): boolean {
    if (this.pass.progress === undefined) return true;
    const done = this.pass.step(maxRows);
    this.viewChanged();
    return done;
  }

  /** Runs the pass in progress to its end. */
  finishView(): void {
    this.continueView(Number.MAX_SAFE_INTEGER);
  }

  /** The pass running (rows scanned of the rows there are), if one is. */
  get viewProgress(): PassProgress | undefined {
    return this.pass.progress;
  }

  get connection(): number | undefined {
    return this.pass.connection;
  }

  private viewChanged(): void {
    this.version++;
    this.notify();
  }

  connections(): ConnectionInfo[] {
    return [...this.conns.values()];
  }

  connectionInfo(conn: number): ConnectionInfo | undefined {
    return this.conns.get(conn);
  }

  /** Position in the view of the first row at or after record `index` (view.length if none). */
  viewPositionAtOrAfter(index: number): number {
    return this.pass.positionAtOrAfter(index);
  }

  /** Next (dir 1) or previous (dir -1) visible lt_donthave row from view position `from`; -1 if none. */
  findDonthave(from: number, dir: 1 | -1): number {
    return this.pass.findIn(this.donthave, from, dir);
  }

  /** Next (dir 1) or previous (dir -1) visible finding row from view position `from`; -1 if none. */
  findFinding(from: number, dir: 1 | -1): number {
    return this.pass.findIn(this.findings, from, dir);
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
    const lo = partitionPoint(list.length, (k) => this.rows.ts(list[k]!) <= ts);
    const src = this.rows.addressId(f.src);
    const dst = this.rows.addressId(f.dst);
    for (let k = lo - 1; k >= 0 && k >= lo - SAME_TIME_SCAN; k--) {
      const i = list[k]!;
      if (this.rows.ts(i) !== ts) break;
      if (i < before && this.rows.srcId(i) === src && this.rows.dstId(i) === dst) return i;
    }
    return undefined;
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
      const r = this.rows.get(index) as MessageRecord;
      if (r.msg !== 'extended' || r.ext !== null || r.extId !== extId || r.dst !== dst) continue;
      const { probably, probablyWhy: _why, payloadLength: _length, ...rest } = r;
      const next: MessageRecord = { ...rest, ext: name, mappingFrom: 'Decode As (in the terminal UI)' };
      const raw = this.raw(index);
      if (raw !== undefined && raw.bytes.length === raw.total && raw.total >= 6) Object.assign(next, decode(raw.bytes.subarray(6)));
      else next.payloadLength = r.size - 6;
      this.rows.replace(index, next);
      changed++;
      if (probably === 'lt_donthave') this.probableDonthave--;
      if (name !== 'lt_donthave') continue;
      insertSorted(this.donthave, index);
      if (info !== undefined) {
        info.donthave[dirOfSender(r.src, info.addr[0])]++;
        if (info.exact !== true && next.piece !== undefined && next.piece >= info.pieces && next.piece < MAX_PIECES) info.pieces = next.piece + 1;
      }
      // The piece map replays from checkpoints taken before these messages had a name.
      if (info !== undefined) this.pieces.insert(conn, index, info.addr[0]);
    }
    if (changed > 0) {
      // The filter may read the renamed records: the view is made again, whole.
      this.pass.start(this.pass.filter, this.pass.connection);
      this.finishView();
    }
    return changed;
  }

  /** Piece map checkpoints held for `conn` (tests, the bench). */
  pieceCheckpoints(conn: number): number {
    return this.pieces.checkpointCount(conn);
  }

  /** Each side's pieces on `conn` after record `upTo` (a record index), with pieces lost through lt_donthave. */
  pieceMap(conn: number, upTo: number): PieceMap | undefined {
    const info = this.conns.get(conn);
    if (info === undefined) return undefined;
    return this.pieces.pieceMap(conn, upTo, Math.min(info.pieces, MAX_PIECES), info.addr);
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
    const side = dirOfSender(r.src, info.addr[0]);
    info.messages[side]++;
    if (r.msg === 'handshake' && r.client !== undefined) info.client[side] ??= escapeText(r.client, 40);
    if (r.msg === 'extended' && r.ext === 'handshake') {
      if (r.v !== undefined) info.client[side] = escapeText(r.v, 40);
      if (r.m !== undefined) info.extensions[side] = Object.keys(r.m).map((k) => escapeText(k, 40));
    }
    if (!changesPieces(r)) return;
    if (r.ext === 'lt_donthave') info.donthave[side]++;
    if (info.exact !== true) {
      if (r.msg === 'bitfield' && r.bits !== undefined) info.pieces = Math.max(info.pieces, r.bits);
      if (r.piece !== undefined && r.piece >= info.pieces && r.piece < MAX_PIECES) info.pieces = r.piece + 1;
    }
    // The bytes the replay would read (a bitfield's kept payload), not the whole message given to add.
    this.pieces.add(r.conn, index, r, r.msg === 'bitfield' ? this.byteStore.raw(index)?.bytes : undefined, info.addr[0]);
  }
}
