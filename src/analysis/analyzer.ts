// Per-connection protocol state and findings. A pass-through RecordSink stage: every record goes on
// to the next sink unchanged, followed by the findings it reveals (`event: "finding"` records that
// point at the message showing the problem: its conn, src, dst and ts). A few findings can only be
// judged later (what became of requests a donthave dropped, a bitfield checked once the metadata
// arrives, never-answered requests): they are emitted when known, still pointing at their message,
// and marked late with the time and frame at which they were judged.
//
// This file routes records and keeps the connections; the rules live beside it: request-tracking,
// donthave-rules (have/bitfield history and BEP 54), extended-rules (BEP 10 ids), metadata-assembly
// (BEP 9), piece-verification (hashes) and stall-tracker (requests a peer leaves unanswered for
// longer than the stall time, judged on the clock advance() moves). Connection state: conn-state.
import { dirOfSender, type DecodeContext, type EventRecord, type MessageRecord, type RecordSink, type Severity, type Transport } from '../model/record.js';
import { inRange, rejudgeRange, newConn, fastBoth, type At, type Conn, type Emit, type FindingExtra, type Side } from './conn-state.js';
import { FINDING_NEEDS, judged, unjudgedRecord } from './finding-needs.js';
import { extended, type ExtendedContext } from './extended-rules.js';
import { FINDING_SEVERITY, type FindingCode } from './findings.js';
import { MetadataAssembler } from './metadata-assembly.js';
import { PieceVerifier } from './piece-verification.js';
import { reportOutstanding, request, resolve, settleAll } from './request-tracking.js';
import { StallTracker } from './stall-tracker.js';
import { handshakeHashes, type TorrentInfo } from './torrent.js';

// Kept importable from here for callers of the analyzer before the split.
export { formatMapping } from './extended-format.js';
export { merkleRoot, verifyPiece } from './piece-verification.js';

export interface AnalyzerOptions {
  torrent?: TorrentInfo;
  /** Seconds of silence on outstanding requests that make request-stalled (default 10). */
  stallSeconds?: number;
  /**
   * Told a connection's piece count when it becomes known (its torrent matched, or the metadata
   * fetched with ut_metadata verified): the terminal UI's piece map sizes itself by it.
   */
  onPieceCount?: (conn: number, count: number) => void;
}

const MAX_BITFIELD = 1 << 20;
const MAX_INTERNED_HASHES = 4096;

export class Analyzer {
  private readonly conns = new Map<number, Conn>();
  private readonly hashes = new Map<string, string>();
  private readonly torrent: TorrentInfo | undefined;
  private torrentMatched = false;
  private lastTs = 0;
  private lastFrame = 0;
  /** The message being analysed: findings pointing elsewhere are late. */
  private current: At | undefined;
  private readonly tally = { error: 0, warning: 0, info: 0 };
  /** Connections forgotten (see forget), and whether any of them never showed its info hash. */
  private forgotten = 0;
  private forgottenUnseen = false;
  private readonly emit: Emit = (c, code, at, message, piece, extra, needs) => {
    if (judged(c, code, at, needs ?? FINDING_NEEDS[code])) this.emitRaw({ conn: c.conn, transport: c.transport, src: at.src, dst: at.dst }, code, at, message, piece, extra);
  };
  private readonly verifier: PieceVerifier;
  private readonly metadata: MetadataAssembler;
  private readonly ext: ExtendedContext;
  private readonly stalls: StallTracker;
  private readonly onPieceCount: ((conn: number, count: number) => void) | undefined;

  constructor(
    private readonly sink: RecordSink,
    opts: AnalyzerOptions = {},
  ) {
    this.torrent = opts.torrent;
    this.onPieceCount = opts.onPieceCount;
    this.verifier = new PieceVerifier(this.emit);
    this.metadata = new MetadataAssembler(this.emit, (hash, info) => {
      for (const other of this.conns.values()) if (other.info === undefined && other.infoHash === hash) this.setInfo(other, info, 'the metadata fetched with ut_metadata');
    });
    this.ext = { emit: this.emit, metadata: this.metadata };
    this.stalls = new StallTracker(this.emit, opts.stallSeconds);
  }

  /**
   * The clock moved to `now` without a record (a packet of the capture that carried none; the
   * proxy's wall-clock timer): stalls whose time has passed are judged. Records move it too.
   */
  readonly advance = (now: number, frame?: number): void => {
    if (now > this.lastTs) this.lastTs = now;
    if (frame !== undefined && frame > this.lastFrame) this.lastFrame = frame;
    this.stalls.advance(now);
  };

  /** Seconds of silence that make a stall. */
  get stallSeconds(): number {
    return this.stalls.seconds;
  }

  /** The RecordSink to put in front of the real sink. */
  readonly record: RecordSink = (r, raw, where, context) => {
    // A stall whose time passed before this record is judged before it goes on.
    if ('conn' in r && !('event' in r && (r.event === 'finding' || r.event === 'summary'))) this.stalls.advance(r.ts);
    this.sink(r, raw, where);
    if (!('conn' in r)) return;
    if (r.ts > this.lastTs) this.lastTs = r.ts;
    if (r.frame !== undefined && r.frame > this.lastFrame) this.lastFrame = r.frame;
    if ('msg' in r) this.message(r, raw, context);
    else this.event(r);
    this.current = undefined;
  };

  /**
   * End of input: what was never answered, torrent that matched nothing. `end`: the capture's last
   * packet (time and frame), at which those late findings are judged; else the last record's.
   */
  finish(end?: { ts: number; frame?: number }): void {
    if (end !== undefined) {
      this.lastTs = Math.max(this.lastTs, end.ts);
      if (end.frame !== undefined) this.lastFrame = Math.max(this.lastFrame, end.frame);
    }
    this.stalls.finish(this.lastTs);
    for (const c of this.conns.values()) {
      reportOutstanding(this.emit, c);
      this.reportUnjudged(c);
    }
    // A connection whose info hash was never seen (encrypted, or started before the capture) may be the torrent's.
    const unseen = this.forgottenUnseen || [...this.conns.values()].some((c) => c.infoHash === undefined);
    if (this.torrent !== undefined && !this.torrentMatched && !unseen) {
      const hashes = handshakeHashes(this.torrent).join(' or ');
      this.emitRaw(
        { conn: 0, transport: 'tcp', src: '', dst: '' },
        'torrent-unmatched',
        { ts: this.lastTs, src: '', dst: '', ...(this.lastFrame > 0 ? { frame: this.lastFrame } : {}) },
        `the torrent's info hash ${hashes} is in no handshake of the ${this.conns.size + this.forgotten} connection(s) seen: piece checks used no torrent data`,
      );
    }
  }

  /**
   * Connection `conn` is over and nothing more will come for it (the proxy: both sockets closed; a
   * capture: the connection was released after a silence):
   * what it left unanswered is reported now, as finish() would, and its state is dropped, so that a
   * proxy running for days does not hold every connection it ever relayed.
   */
  forget(conn: number): void {
    const c = this.conns.get(conn);
    if (c === undefined) return;
    this.stalls.forget(c, this.lastTs);
    reportOutstanding(this.emit, c);
    this.reportUnjudged(c);
    for (const side of c.sides) this.releaseBuffers(side);
    this.forgotten++;
    if (c.infoHash === undefined) this.forgottenUnseen = true;
    this.conns.delete(conn);
  }

  counts(): { error: number; warning: number; info: number } {
    return { ...this.tally };
  }

  /** How much was actually checked: pieces hashed against the torrent, metadata hashed against the info hash. */
  stats(): { piecesVerified: number; metadataVerified: number } {
    return { piecesVerified: this.verifier.verified, metadataVerified: this.metadata.verified };
  }

  // ---- records --------------------------------------------------------------------------------

  private event(r: EventRecord): void {
    if (r.event === 'finding' || r.event === 'summary' || r.event === 'unjudged') return;
    const c = this.connFor(r);
    // The transport let the connection go after a silence: nothing more comes for it.
    if (r.event === 'released') return this.forget(r.conn);
    const at: At = r.frame !== undefined ? { ts: r.ts, src: r.src, dst: r.dst, frame: r.frame } : { ts: r.ts, src: r.src, dst: r.dst };
    this.current = at;
    if (r.event === 'gap' || r.event === 'resync') {
      this.lose(c, r.src);
      this.stalls.lost(c, at);
    } else if (r.event === 'close' || r.event === 'reset') {
      this.stalls.closed(c, at, `${r.src} ${r.event === 'close' ? 'closed' : 'reset'} the connection`);
      // Pieces still incomplete will not complete: give their buffers back to the verification budget.
      for (const side of c.sides) if (r.event !== 'close' || side.addr === r.src) this.releaseBuffers(side);
    }
  }

  private message(r: MessageRecord, raw: Uint8Array | undefined, context: DecodeContext | undefined): void {
    const c = this.connFor(r);
    // Decoded after a resync: the boundary was guessed, the sender's history has a hole before it.
    if (r.resync) this.lose(c, r.src);
    const from = dirOfSender(r.src, c.sides[0].addr);
    const [s, p] = from === 0 ? c.sides : [c.sides[1], c.sides[0]];
    const at: At = r.frame !== undefined ? { ts: r.ts, src: r.src, dst: r.dst, frame: r.frame } : { ts: r.ts, src: r.src, dst: r.dst };
    this.current = at;
    this.rules(c, s, p, r, raw, at, context);
    // After the rules: the requests they settled are no longer open.
    this.stalls.message(c, from, r, at);
  }

  private rules(c: Conn, s: Side, p: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At, context: DecodeContext | undefined): void {
    switch (r.msg) {
      case 'handshake':
        return this.handshake(c, s, r);
      case 'bitfield':
        return this.bitfield(c, s, r, raw, at);
      case 'have':
        s.sentState ??= r.msg;
        if (r.piece !== undefined && inRange(this.emit, c, 'have', r.piece, at)) s.holdings.have(r.piece);
        return;
      case 'have_all':
      case 'have_none':
        this.fastMessage(c, s, p, r, at);
        // Without the fast extension the message is wrong wherever it stands: one finding, not two.
        if (fastBoth(s, p)) this.pieceSetNotFirst(c, s, r.msg, at);
        s.sentState ??= r.msg;
        if (r.msg === 'have_all') s.holdings.haveAll();
        else s.holdings.haveNone();
        return;
      case 'request':
        return request(this.emit, c, s, p, r, at);
      case 'cancel':
        s.sentState ??= r.msg;
        if (r.piece !== undefined) inRange(this.emit, c, 'cancel', r.piece, at);
        resolve(this.emit, c, s, r, 'cancel');
        return;
      case 'piece':
        s.sentState ??= r.msg;
        if (r.piece !== undefined && inRange(this.emit, c, 'piece', r.piece, at)) this.verifier.add(c, s, r, raw, at);
        resolve(this.emit, c, p, r, 'piece');
        return;
      case 'reject_request':
        this.fastMessage(c, s, p, r, at);
        s.sentState ??= r.msg;
        resolve(this.emit, c, p, r, 'reject');
        return;
      case 'suggest_piece':
      case 'allowed_fast':
        this.fastMessage(c, s, p, r, at);
        if (r.msg === 'suggest_piece') s.sentState ??= r.msg;
        if (r.piece !== undefined) inRange(this.emit, c, r.msg, r.piece, at);
        return;
      case 'choke':
        s.sentState ??= r.msg;
        if (!fastBoth(s, p)) settleAll(this.emit, c, p, 'choke');
        return;
      case 'unchoke':
      case 'interested':
      case 'not_interested':
        s.sentState ??= r.msg;
        return;
      case 'extended':
        return extended(this.ext, c, s, p, r, raw, at, context);
      default:
        return;
    }
  }

  private handshake(c: Conn, s: Side, r: MessageRecord): void {
    s.handshake = true;
    const exts = r.extensions ?? [];
    s.fast = exts.some((e) => /fast/i.test(e));
    s.extProtocol = exts.some((e) => /exten/i.test(e) && !/fast/i.test(e));
    if (r.client !== undefined) s.client = r.client;
    if (r.peerId !== undefined) s.peerId = r.peerId;
    if (r.infoHash === undefined || c.infoHash !== undefined) return;
    c.infoHash = this.internHash(r.infoHash.toLowerCase());
    if (this.torrent !== undefined && handshakeHashes(this.torrent).includes(c.infoHash)) {
      this.torrentMatched = true;
      this.setInfo(c, this.torrent, 'the torrent file');
    } else {
      const known = this.metadata.info.get(c.infoHash);
      if (known !== undefined) this.setInfo(c, known, 'the metadata fetched with ut_metadata');
    }
  }

  // ---- bitfield (BEP 3) -----------------------------------------------------------------------

  private bitfield(c: Conn, s: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    this.pieceSetNotFirst(c, s, 'bitfield', at);
    s.sentState ??= r.msg;
    if (raw === undefined || raw.length < 5) return;
    s.holdings.setBitfield(raw.subarray(5, 5 + MAX_BITFIELD));
    s.bitfield = s.holdings.bitfield;
    s.bitfieldAt = at;
    s.bitfieldChecked = false;
    if (c.info !== undefined) this.checkBitfield(c, s);
  }

  /**
   * A bitfield, have_all or have_none after the side's first message: BEP 3 allows a bitfield only
   * first, and BEP 6 says exactly one of the three appears, only right after the handshake. Real
   * clients do this (aria2 1.36 sends have_none, then a bitfield per piece it gets, then have_all),
   * so the message names what came first.
   */
  private pieceSetNotFirst(c: Conn, s: Side, msg: 'bitfield' | 'have_all' | 'have_none', at: At): void {
    if (s.sentState === undefined) return;
    const rule = msg === 'bitfield'
      ? 'BEP 3 allows it only as the first message after the handshake'
      : 'BEP 6 allows exactly one of bitfield, have_all or have_none, only as the first message after the handshake';
    this.emit(c, 'bitfield-not-first', at, `${msg} from ${s.addr} after its earlier ${s.sentState}: ${rule} (the extended handshake, port and allowed_fast may come before it)`);
  }

  private checkBitfield(c: Conn, s: Side): void {
    const b = s.bitfield;
    const at = s.bitfieldAt;
    if (b === undefined || at === undefined || s.bitfieldChecked || c.info === undefined) return;
    s.bitfieldChecked = true;
    const count = c.info.pieceCount;
    const want = Math.ceil(count / 8);
    if (b.length !== want) {
      this.emit(c, 'bitfield-bad-length', at, `bitfield of ${b.length} bytes for ${count} pieces (from ${c.infoSource}): it must be exactly ${want} bytes`);
      return;
    }
    const spare = want * 8 - count;
    const last = b[want - 1] ?? 0;
    const mask = (1 << spare) - 1;
    if (spare > 0 && (last & mask) !== 0) {
      this.emit(c, 'bitfield-spare-bits', at, `the last bitfield byte is 0x${last.toString(16).padStart(2, '0')}: ${spare} spare bit(s) after piece ${count - 1} must be 0 (${count} pieces, from ${c.infoSource})`);
    }
  }

  // ---- BEP 6 ----------------------------------------------------------------------------------

  private fastMessage(c: Conn, s: Side, p: Side, r: MessageRecord, at: At): void {
    if (fastBoth(s, p)) return;
    const detail = !s.fast && !p.fast ? 'neither peer set the fast bit in its handshake' : !s.fast ? `the sender ${s.addr} did not set the fast bit in its handshake` : `the receiver ${p.addr} did not set the fast bit in its handshake`;
    this.emit(c, 'fast-not-negotiated', at, `${r.msg} is a BEP 6 fast-extension message but ${detail}`, r.piece);
  }

  // ---- what the capture saw (issue 18) ----------------------------------------------------------

  /** The direction sent by `src` lost bytes: findings that need its history are not judged from here. */
  private lose(c: Conn, src: string): void {
    const side = c.sides.find((x) => x.addr === src);
    if (side !== undefined) side.lost = true;
    c.lost = true;
    c.losses++;
  }

  /** The connection's findings not judged, by code and reason, in one `unjudged` record. */
  private reportUnjudged(c: Conn): void {
    // Stamped when it is reported (the connection's end, or the end of the input), like a late finding.
    const r = unjudgedRecord(c, { ts: Math.max(this.lastTs, c.ts), frame: this.lastFrame > 0 ? this.lastFrame : undefined });
    if (r !== undefined) this.sink(r);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /** The side's partial pieces and metadata go back to their budgets. */
  private releaseBuffers(s: Side): void {
    this.verifier.release(s);
    this.metadata.drop(s);
  }

  /** Connections of one swarm share their info hash string (bounded: a scan may show many). */
  private internHash(hash: string): string {
    const known = this.hashes.get(hash);
    if (known !== undefined) return known;
    if (this.hashes.size < MAX_INTERNED_HASHES) this.hashes.set(hash, hash);
    return hash;
  }

  private setInfo(c: Conn, info: TorrentInfo, source: string): void {
    c.info = info;
    c.infoSource = source;
    for (const side of c.sides) this.checkBitfield(c, side);
    rejudgeRange(this.emit, c);
    this.onPieceCount?.(c.conn, info.pieceCount);
  }

  private connFor(r: { conn: number; transport: Transport; src: string; dst: string; ts: number; frame?: number }): Conn {
    let c = this.conns.get(r.conn);
    if (c === undefined) {
      c = newConn(r.conn, r.transport, r.src, r.dst, r.ts);
      this.conns.set(r.conn, c);
    }
    if (r.ts > c.ts) c.ts = r.ts;
    if (r.frame !== undefined && (c.frame === undefined || r.frame > c.frame)) c.frame = r.frame;
    return c;
  }

  /**
   * A finding judged after its message (a later message or packet told, the clock ran on, or the
   * capture ended) says so, with when: the record being analysed, else the last packet seen.
   */
  private markLate(f: EventRecord, at: At, code: FindingCode): void {
    if (code === 'torrent-unmatched') return;
    const judgedTs = this.current?.ts ?? this.lastTs;
    const judgedFrame = this.current !== undefined ? this.current.frame : this.lastFrame > 0 ? this.lastFrame : undefined;
    const later = judgedFrame !== undefined && at.frame !== undefined ? judgedFrame > at.frame : at !== this.current && judgedTs > at.ts;
    if (!later) return;
    f.late = true;
    f.judgedTs = judgedTs;
    if (judgedFrame !== undefined) f.judgedFrame = judgedFrame;
  }

  private emitRaw(base: { conn: number; transport: Transport; src: string; dst: string }, code: FindingCode, at: At, message: string, piece?: number, extra?: FindingExtra): void {
    const severity: Severity = FINDING_SEVERITY[code];
    this.tally[severity]++;
    const { src, dst, ts, frame } = at;
    const f: EventRecord =
      frame !== undefined
        ? { event: 'finding', finding: code, severity, conn: base.conn, transport: base.transport, src, dst, ts, frame, message }
        : { event: 'finding', finding: code, severity, conn: base.conn, transport: base.transport, src, dst, ts, message };
    if (piece !== undefined) f.piece = piece;
    if (extra?.since !== undefined) f.since = extra.since;
    if (extra?.seconds !== undefined) f.seconds = extra.seconds;
    this.markLate(f, at, code);
    this.sink(f);
  }
}
