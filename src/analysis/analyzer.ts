// Per-connection protocol state and findings. A pass-through RecordSink stage: every record goes on
// to the next sink unchanged, followed by the findings it reveals (`event: "finding"` records that
// point at the message showing the problem: its conn, src, dst and ts). A few findings can only be
// judged later (what became of requests a donthave dropped, a bitfield checked once the metadata
// arrives, never-answered requests): they are emitted when known, still pointing at their message.
import { createHash } from 'node:crypto';
import type { AnyRecord, EventRecord, MessageRecord, RecordSink, Severity, Transport } from '../model/record.js';
import { FINDING_SEVERITY, type FindingCode } from './findings.js';
import { SideMapping } from './side-mapping.js';
import { handshakeHashes, parseInfo, TorrentError, type TorrentInfo } from './torrent.js';

export interface AnalyzerOptions {
  torrent?: TorrentInfo;
}

const BLOCK = 16384;
/** Outstanding requests tracked per side; beyond this they are only counted. */
const MAX_REQUESTS = 8192;
/** Piece indices remembered per side in have/donthave sets. */
const MAX_PIECE_SET = 1 << 18;
/** Metadata (info dict) kept for assembly, per side. */
const MAX_METADATA = 16 << 20;
/** Piece data buffered for hash verification, over all connections. */
const MAX_VERIFY_BYTES = 64 << 20;
/** Metadata being assembled, all connections together: each side may claim up to MAX_METADATA. */
const MAX_METADATA_BYTES = 64 << 20;
const MAX_PIECE_LENGTH = 16 << 20;
const MAX_BITFIELD = 1 << 20;

interface At {
  ts: number;
  src: string;
  dst: string;
}

type Fate = 'piece' | 'reject' | 'cancel' | 'choke';

interface Request {
  piece: number;
  begin: number;
  length: number;
  at: At;
  fate?: Fate;
  group?: DropGroup;
}

interface DropGroup {
  at: At;
  piece: number;
  fast: boolean;
  requests: Request[];
  done: boolean;
}

interface PieceBuffer {
  data: Uint8Array;
  blocks: Map<number, number>;
  filled: number;
}

interface MetadataBuffer {
  size: number;
  data: Uint8Array;
  got: Set<number>;
}

interface Side {
  addr: string;
  handshake: boolean;
  fast: boolean;
  extProtocol: boolean;
  client?: string;
  /** Extension mapping in force, undefined before this side's extended handshake. */
  m?: SideMapping;
  metadataSize?: number;
  /** The first BEP 3/6 message this side sent after which a bitfield is no longer allowed. */
  sentState?: string;
  haveAll: boolean;
  bitfield?: Uint8Array;
  bitfieldAt?: At;
  bitfieldChecked: boolean;
  added: Set<number>;
  /** Pieces withdrawn with lt_donthave (and not announced again), with the donthave's time. */
  removed: Map<number, number>;
  /** Requests this side sent that are still open, key "piece:begin:length". */
  requests: Map<string, Request>;
  untrackedRequests: number;
  metaRequested: Set<number>;
  metaRejectReported: boolean;
  metadata?: MetadataBuffer;
  metadataDone: boolean;
  pieces: Map<number, PieceBuffer>;
}

interface Conn {
  conn: number;
  transport: Transport;
  sides: [Side, Side];
  /** Bytes were lost or the decoder resynchronized: history-based findings are off from here. */
  lost: boolean;
  infoHash?: string;
  info?: TorrentInfo;
  infoSource?: string;
  groups: DropGroup[];
}

export class Analyzer {
  private readonly conns = new Map<number, Conn>();
  private readonly torrent: TorrentInfo | undefined;
  private torrentMatched = false;
  /** Info dicts assembled from ut_metadata, by handshake info hash. */
  private readonly metadataInfo = new Map<string, TorrentInfo>();
  private verifyBytes = 0;
  private metadataBytes = 0;
  private lastTs = 0;
  private readonly tally = { error: 0, warning: 0, info: 0 };
  private piecesVerified = 0;
  private metadataVerified = 0;
  /** Connections forgotten (see forget), and whether any of them never showed its info hash. */
  private forgotten = 0;
  private forgottenUnseen = false;

  constructor(
    private readonly sink: RecordSink,
    opts: AnalyzerOptions = {},
  ) {
    this.torrent = opts.torrent;
  }

  /** The RecordSink to put in front of the real sink. */
  readonly record: RecordSink = (r, raw, where) => {
    this.sink(r, raw, where);
    if (!('conn' in r)) return;
    if (r.ts > this.lastTs) this.lastTs = r.ts;
    if ('msg' in r) this.message(r, raw);
    else this.event(r);
  };

  /** End of input: what was never answered, torrent that matched nothing. */
  finish(): void {
    for (const c of this.conns.values()) this.reportOutstanding(c);
    // A connection whose info hash was never seen (encrypted, or started before the capture) may be the torrent's.
    const unseen = this.forgottenUnseen || [...this.conns.values()].some((c) => c.infoHash === undefined);
    if (this.torrent !== undefined && !this.torrentMatched && !unseen) {
      const hashes = handshakeHashes(this.torrent).join(' or ');
      this.emitRaw(
        { conn: 0, transport: 'tcp', src: '', dst: '' },
        'torrent-unmatched',
        { ts: this.lastTs, src: '', dst: '' },
        `the torrent's info hash ${hashes} is in no handshake of the ${this.conns.size + this.forgotten} connection(s) seen: piece checks used no torrent data`,
      );
    }
  }

  /**
   * Connection `conn` is over and nothing more will come for it (the proxy: both sockets closed):
   * what it left unanswered is reported now, as finish() would, and its state is dropped, so that a
   * proxy running for days does not hold every connection it ever relayed.
   */
  forget(conn: number): void {
    const c = this.conns.get(conn);
    if (c === undefined) return;
    this.reportOutstanding(c);
    for (const side of c.sides) this.releaseBuffers(side);
    this.forgotten++;
    if (c.infoHash === undefined) this.forgottenUnseen = true;
    this.conns.delete(conn);
  }

  /** Requests dropped by lt_donthave and requests never answered, reported once. */
  private reportOutstanding(c: Conn): void {
    for (const g of c.groups) this.emitGroup(c, g);
    c.groups = [];
    for (const s of c.sides) this.reportUnanswered(c, s);
  }

  counts(): { error: number; warning: number; info: number } {
    return { ...this.tally };
  }

  /** How much was actually checked: pieces hashed against the torrent, metadata hashed against the info hash. */
  stats(): { piecesVerified: number; metadataVerified: number } {
    return { piecesVerified: this.piecesVerified, metadataVerified: this.metadataVerified };
  }

  // ---- records --------------------------------------------------------------------------------

  private event(r: EventRecord): void {
    if (r.event === 'finding' || r.event === 'summary') return;
    const c = this.connFor(r.conn, r.transport, r.src, r.dst);
    if (r.event === 'gap' || r.event === 'resync') {
      c.lost = true;
    } else if (r.event === 'close' || r.event === 'reset') {
      // Pieces still incomplete will not complete: give their buffers back to the verification budget.
      for (const side of c.sides) if (r.event !== 'close' || side.addr === r.src) this.releaseBuffers(side);
    }
  }

  private message(r: MessageRecord, raw: Uint8Array | undefined): void {
    const c = this.connFor(r.conn, r.transport, r.src, r.dst);
    if (r.resync) c.lost = true;
    const [s, p] = c.sides[0].addr === r.src ? c.sides : [c.sides[1], c.sides[0]];
    const at: At = { ts: r.ts, src: r.src, dst: r.dst };
    switch (r.msg) {
      case 'handshake':
        return this.handshake(c, s, r);
      case 'bitfield':
        return this.bitfield(c, s, r, raw, at);
      case 'have':
        s.sentState ??= r.msg;
        if (r.piece !== undefined && this.inRange(c, 'have', r.piece, at)) this.announce(s, r.piece);
        return;
      case 'have_all':
        this.fastMessage(c, s, p, r, at);
        s.sentState ??= r.msg;
        s.haveAll = true;
        s.removed.clear();
        return;
      case 'have_none':
        this.fastMessage(c, s, p, r, at);
        s.sentState ??= r.msg;
        return;
      case 'request':
        return this.request(c, s, p, r, at);
      case 'cancel':
        s.sentState ??= r.msg;
        if (r.piece !== undefined) this.inRange(c, 'cancel', r.piece, at);
        this.resolve(s, r, 'cancel');
        return;
      case 'piece':
        s.sentState ??= r.msg;
        if (r.piece !== undefined && this.inRange(c, 'piece', r.piece, at)) this.pieceData(c, s, r, raw, at);
        this.resolve(p, r, 'piece');
        return;
      case 'reject_request':
        this.fastMessage(c, s, p, r, at);
        s.sentState ??= r.msg;
        this.resolve(p, r, 'reject');
        return;
      case 'suggest_piece':
      case 'allowed_fast':
        this.fastMessage(c, s, p, r, at);
        if (r.msg === 'suggest_piece') s.sentState ??= r.msg;
        if (r.piece !== undefined) this.inRange(c, r.msg, r.piece, at);
        return;
      case 'choke':
        s.sentState ??= r.msg;
        if (!this.fastBoth(s, p)) for (const req of p.requests.values()) this.settle(p, req, 'choke');
        return;
      case 'unchoke':
      case 'interested':
      case 'not_interested':
        s.sentState ??= r.msg;
        return;
      case 'extended':
        return this.extended(c, s, p, r, raw, at);
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
    if (r.infoHash === undefined || c.infoHash !== undefined) return;
    c.infoHash = r.infoHash.toLowerCase();
    if (this.torrent !== undefined && handshakeHashes(this.torrent).includes(c.infoHash)) {
      this.torrentMatched = true;
      this.setInfo(c, this.torrent, 'the torrent file');
    } else {
      const known = this.metadataInfo.get(c.infoHash);
      if (known !== undefined) this.setInfo(c, known, 'the metadata fetched with ut_metadata');
    }
  }

  // ---- pieces announced -----------------------------------------------------------------------

  private announce(s: Side, piece: number): void {
    s.removed.delete(piece);
    if (s.added.size < MAX_PIECE_SET) s.added.add(piece);
  }

  private has(s: Side, piece: number): boolean {
    if (s.removed.has(piece)) return false;
    if (s.haveAll || s.added.has(piece)) return true;
    const b = s.bitfield;
    return b !== undefined && piece >> 3 < b.length && ((b[piece >> 3] ?? 0) & (0x80 >> (piece & 7))) !== 0;
  }

  private bitfield(c: Conn, s: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    if (s.sentState !== undefined && !c.lost) {
      this.emit(c, 'bitfield-not-first', at, `bitfield from ${s.addr} after its earlier ${s.sentState}: BEP 3 allows it only as the first message after the handshake (the extended handshake, port and allowed_fast may come before it)`);
    }
    s.sentState ??= r.msg;
    if (raw === undefined || raw.length < 5) return;
    const payload = raw.subarray(5, 5 + MAX_BITFIELD);
    s.bitfield = payload.slice();
    s.bitfieldAt = at;
    s.bitfieldChecked = false;
    if (c.info !== undefined) this.checkBitfield(c, s);
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

  /** The piece count, or an upper bound from a bitfield's length when no torrent/metadata is known. */
  private pieceBound(c: Conn): { count: number; exact: boolean; source: string } | undefined {
    if (c.info !== undefined) return { count: c.info.pieceCount, exact: true, source: c.infoSource ?? '' };
    // The longest bitfield: a peer's too-short bitfield must not make the other's indices look out of range.
    let bound: number | undefined;
    for (const side of c.sides) if (side.bitfield !== undefined) bound = Math.max(bound ?? 0, side.bitfield.length * 8);
    return bound === undefined ? undefined : { count: bound, exact: false, source: 'bitfield length' };
  }

  /** Range check for have/request/piece/...; false when out of range (finding emitted). */
  private inRange(c: Conn, what: string, piece: number, at: At): boolean {
    const b = this.pieceBound(c);
    if (b === undefined || piece < b.count) return true;
    this.emit(c, 'piece-out-of-range', at, `${what} for piece ${piece}, beyond ${describeCount(b)}`, piece);
    return false;
  }

  // ---- requests -------------------------------------------------------------------------------

  private request(c: Conn, s: Side, p: Side, r: MessageRecord, at: At): void {
    s.sentState ??= r.msg;
    const { piece, begin, length } = r;
    if (piece === undefined || begin === undefined || length === undefined) return;
    if (length > BLOCK) {
      this.emit(c, 'block-too-large', at, `request for ${length} bytes (piece ${piece} begin ${begin}) from ${s.addr}${clientNote(s)}: peers may close the connection on requests above 16 KiB (16384 bytes)`, piece);
    }
    if (!this.inRange(c, 'request', piece, at)) return;
    const withdrawn = p.removed.get(piece);
    if (withdrawn !== undefined && !c.lost) {
      this.emit(c, 'request-after-donthave', at, `request for piece ${piece}, which ${p.addr} withdrew with lt_donthave at ${withdrawn.toFixed(6)} and has not announced again`, piece);
    }
    if (s.requests.size >= MAX_REQUESTS) {
      s.untrackedRequests++;
      return;
    }
    const key = `${piece}:${begin}:${length}`;
    if (!s.requests.has(key)) s.requests.set(key, { piece, begin, length, at });
  }

  /** A request of `requester` answered (piece/reject) or cancelled. */
  private resolve(requester: Side, r: MessageRecord, fate: Fate): void {
    const { piece, begin } = r;
    const length = blockLength(r);
    if (piece === undefined || begin === undefined || length === undefined) return;
    const req = requester.requests.get(`${piece}:${begin}:${length}`);
    if (req !== undefined) this.settle(requester, req, fate);
  }

  private settle(requester: Side, req: Request, fate: Fate): void {
    requester.requests.delete(`${req.piece}:${req.begin}:${req.length}`);
    req.fate = fate;
    const g = req.group;
    if (g !== undefined && !g.done && g.requests.every((q) => q.fate !== undefined)) {
      const c = this.connOfGroup(g);
      if (c !== undefined) {
        this.emitGroup(c, g);
        c.groups = c.groups.filter((x) => x !== g);
      }
    }
  }

  private connOfGroup(g: DropGroup): Conn | undefined {
    for (const c of this.conns.values()) if (c.groups.includes(g)) return c;
    return undefined;
  }

  private emitGroup(c: Conn, g: DropGroup): void {
    if (g.done) return;
    g.done = true;
    const fates = new Map<string, number>();
    for (const q of g.requests) {
      const k = q.fate === undefined ? 'never answered' : FATE_TEXT[q.fate];
      fates.set(k, (fates.get(k) ?? 0) + 1);
    }
    const outcome = [...fates].map(([k, n]) => `${n} ${k}`).join(', ');
    const begins = g.requests.slice(0, 8).map((q) => q.begin).join(', ') + (g.requests.length > 8 ? ', ...' : '');
    const rule = g.fast
      ? 'fast extension on, so BEP 54 expects a reject_request for each'
      : 'no fast extension, so BEP 54 says they are dropped without an answer';
    this.emit(c, 'requests-dropped-by-donthave', g.at, `${g.requests.length} request(s) for piece ${g.piece} (begin ${begins}) were outstanding when lt_donthave arrived; ${rule}: ${outcome}`, g.piece);
  }

  private reportUnanswered(c: Conn, s: Side): void {
    const open = [...s.requests.values()].filter((q) => q.group === undefined);
    if (open.length === 0 && s.untrackedRequests === 0) return;
    const first = open[0];
    if (first === undefined) return;
    const more = s.untrackedRequests > 0 ? ` (and ${s.untrackedRequests} more not tracked)` : '';
    this.emit(c, 'request-unanswered', first.at, `${open.length} request(s) from ${s.addr}${more} got no piece, reject or cancel before the capture ended; the first: piece ${first.piece} begin ${first.begin} length ${first.length}`, first.piece);
    s.requests.clear();
  }

  // ---- BEP 6 ----------------------------------------------------------------------------------

  private fastBoth(a: Side, b: Side): boolean {
    return a.fast && b.fast;
  }

  private fastMessage(c: Conn, s: Side, p: Side, r: MessageRecord, at: At): void {
    if (!s.handshake || !p.handshake || this.fastBoth(s, p)) return;
    const detail = !s.fast && !p.fast ? 'neither peer set the fast bit in its handshake' : !s.fast ? `the sender ${s.addr} did not set the fast bit in its handshake` : `the receiver ${p.addr} did not set the fast bit in its handshake`;
    this.emit(c, 'fast-not-negotiated', at, `${r.msg} is a BEP 6 fast-extension message but ${detail}`, r.piece);
  }

  // ---- piece data and hashes ------------------------------------------------------------------

  private pieceData(c: Conn, s: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    const info = c.info;
    const { piece, begin } = r;
    const length = blockLength(r);
    if (info === undefined || piece === undefined || begin === undefined || length === undefined || raw === undefined) return;
    if (raw.length < 13 + length) return;
    if (!hashKnown(info, piece)) return;
    const plen = pieceSize(info, piece);
    if (plen <= 0 || plen > MAX_PIECE_LENGTH || begin + length > plen) return;
    let buf = s.pieces.get(piece);
    if (buf === undefined) {
      if (this.verifyBytes + plen > MAX_VERIFY_BYTES) return;
      buf = { data: new Uint8Array(plen), blocks: new Map(), filled: 0 };
      this.verifyBytes += plen;
      s.pieces.set(piece, buf);
    }
    if (buf.blocks.has(begin)) return;
    buf.data.set(raw.subarray(13, 13 + length), begin);
    buf.blocks.set(begin, length);
    buf.filled += length;
    if (buf.filled < plen || !contiguous(buf.blocks, plen)) return;
    s.pieces.delete(piece);
    this.verifyBytes -= plen;
    const bad = verifyPiece(info, piece, buf.data);
    this.piecesVerified++;
    if (bad !== undefined) this.emit(c, 'hash-mismatch', at, `piece ${piece} from ${s.addr} (all ${buf.blocks.size} blocks in the capture, ${plen} bytes): ${bad}`, piece);
  }

  // ---- BEP 10 extended messages ---------------------------------------------------------------

  private extended(c: Conn, s: Side, p: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    const id = r.extId;
    if (id === 0 || r.ext === 'handshake') return this.extHandshake(s, r);
    if (id === undefined) return;
    const payload = raw !== undefined && raw.length >= 6 ? raw.subarray(6) : undefined;
    const own = s.m?.name(id);
    if (p.m === undefined && r.mappingFrom?.startsWith('--ext-map') === true && typeof r.ext === 'string') {
      // Decode As: the user gave the receiver's mapping; read the message by the name it gave.
      if (r.ext === 'lt_donthave') this.donthave(c, s, p, r, payload, at);
      else if (r.ext === 'ut_metadata') this.utMetadata(c, s, p, r, raw, at);
      return;
    }
    if (p.m === undefined) {
      // The sender's handshake in the capture means the connection's start was seen.
      if (s.handshake && !c.lost) {
        const guess = own !== undefined ? ` (id ${id} is ${own} in the sender's own mapping)` : '';
        this.emit(c, 'ext-before-handshake', at, `extended message id ${id}${guess} sent before ${p.addr} sent its extended handshake: there is no mapping yet to read it with`);
      }
      return;
    }
    const theirs = p.m.name(id);
    if (theirs !== undefined && !misfit(theirs, own, payload)) {
      if (theirs === 'lt_donthave') this.donthave(c, s, p, r, payload, at);
      else if (theirs === 'ut_metadata') this.utMetadata(c, s, p, r, raw, at);
      return;
    }
    this.misread(c, s, p, id, theirs, own, payload, at);
  }

  private extHandshake(s: Side, r: MessageRecord): void {
    s.m ??= new SideMapping();
    if (r.m !== undefined) s.m.update(r.m);
    if (r.metadata_size !== undefined) s.metadataSize = r.metadata_size;
    if (r.v !== undefined && s.client === undefined) s.client = r.v;
  }

  /** An extended id the receiver's mapping does not read as sent: the direction bug, a stale id, or unknown. */
  private misread(c: Conn, s: Side, p: Side, id: number, theirs: string | undefined, own: string | undefined, payload: Uint8Array | undefined, at: At): void {
    const pm = p.m;
    if (pm === undefined) return;
    const size = payload !== undefined ? `its ${payload.length}-byte payload` : 'its payload';
    const where = theirs === undefined ? `id ${id} is not in the receiver's mapping (${formatMapping(pm)})` : `id ${id} is ${theirs} in the receiver's mapping (${formatMapping(pm)}), which ${size} does not fit`;
    const ownFits = own !== undefined && fits(own, payload) !== false;
    if (ownFits && pm.formerly(own, id)) {
      // The receiver itself had `own` at this id: the sender used the receiver's old id, not its own.
      const now = pm.id(own);
      const change = now !== undefined ? `moved ${own} to id ${now}` : `disabled ${own}`;
      this.emit(c, 'ext-unknown-id', at, `${where}; it was ${own} there until a later extended handshake of ${p.addr} ${change}: the sender used the receiver's old id (or sent this before that handshake reached it)`);
    } else if (ownFits) {
      const evidence = theirs !== undefined && payload !== undefined ? ` (${size} fits ${own}, not ${theirs})` : '';
      const right = pm.id(own);
      const fix = right !== undefined ? `; the receiver's id for ${own} is ${right}` : `; the receiver does not advertise ${own}`;
      const head = theirs === undefined ? where : `id ${id} is ${theirs} in the receiver's mapping (${formatMapping(pm)})`;
      this.emit(c, 'ext-id-own-mapping', at, `${head} but ${own} in the sender's own (${formatMapping(s.m)}): the sender used its own id, so this was most likely ${own}${evidence}${fix}`);
    } else {
      const sender = own === undefined ? `nor in the sender's (${formatMapping(s.m)})` : `and in the sender's own (${formatMapping(s.m)}) it is ${own}, which ${size} does not fit either`;
      this.emit(c, 'ext-unknown-id', at, `extended id ${id} is not in the receiver's mapping (${formatMapping(pm)}) ${sender}`);
    }
    if (own === 'lt_donthave' && pm.id('lt_donthave') === undefined) this.donthaveUnsupported(c, p, at);
  }

  private donthaveUnsupported(c: Conn, p: Side, at: At): void {
    this.emit(c, 'donthave-unsupported', at, `lt_donthave sent to ${p.addr}, whose extended handshake does not list lt_donthave (${formatMapping(p.m)})`);
  }

  private donthave(c: Conn, s: Side, p: Side, r: MessageRecord, payload: Uint8Array | undefined, at: At): void {
    const len = payload?.length;
    if (r.malformed !== undefined || (len !== undefined && len !== 4) || r.piece === undefined) {
      this.emit(c, 'donthave-malformed', at, `lt_donthave payload is ${len ?? '?'} bytes; BEP 54 requires exactly 4 (a big-endian piece index)`);
      return;
    }
    const piece = r.piece;
    const bound = this.pieceBound(c);
    if (bound !== undefined && piece >= bound.count) {
      this.emit(c, 'donthave-out-of-range', at, `lt_donthave for piece ${piece}, beyond ${describeCount(bound)}`, piece);
      return;
    }
    if (!c.lost && s.handshake) {
      const before = s.removed.get(piece);
      if (before !== undefined) {
        this.emit(c, 'donthave-redundant', at, `piece ${piece} was already withdrawn at ${before.toFixed(6)} with no have in between (libtorrent sends one per failed block request)`, piece);
      } else if (!this.has(s, piece)) {
        this.emit(c, 'donthave-not-announced', at, `lt_donthave for piece ${piece}, which ${s.addr} never announced (${announceSummary(s)})`, piece);
      }
    }
    s.added.delete(piece);
    if (!s.removed.has(piece) && s.removed.size < MAX_PIECE_SET) s.removed.set(piece, at.ts);
    const dropped = [...p.requests.values()].filter((q) => q.piece === piece && q.group === undefined);
    if (dropped.length > 0) {
      const g: DropGroup = { at, piece, fast: this.fastBoth(s, p), requests: dropped, done: false };
      for (const q of dropped) q.group = g;
      c.groups.push(g);
    }
  }

  // ---- BEP 9 ut_metadata ----------------------------------------------------------------------

  private utMetadata(c: Conn, s: Side, p: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    const idx = metadataPiece(r);
    if (r.msg_type === undefined || idx === undefined) return;
    if (r.msg_type === 0) {
      if (s.metaRequested.size < 4096) s.metaRequested.add(idx);
      return;
    }
    if (r.msg_type === 2) {
      if (s.metadataSize !== undefined && s.metadataSize > 0 && !s.metaRejectReported) {
        s.metaRejectReported = true;
        this.emit(c, 'metadata-rejected', at, `${s.addr} rejected the request for metadata piece ${idx} although its extended handshake advertised metadata_size ${s.metadataSize} (further rejects on this connection are not repeated)`);
      }
      return;
    }
    if (r.msg_type !== 1) return;
    if (!p.metaRequested.delete(idx) && !c.lost && p.handshake) {
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} sent by ${s.addr} was never requested by ${p.addr}`);
    }
    const advertised = s.metadataSize;
    if (r.total_size !== undefined && advertised !== undefined && r.total_size !== advertised) {
      this.emit(c, 'metadata-total-size', at, `ut_metadata data says total_size ${r.total_size} but ${s.addr}'s extended handshake advertised metadata_size ${advertised}`);
    }
    const size = advertised ?? r.total_size;
    const got = r.trailing;
    if (size === undefined || got === undefined) return;
    const count = Math.ceil(size / BLOCK);
    const expected = idx < count - 1 ? BLOCK : size - BLOCK * (count - 1);
    if (idx >= count) {
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} is beyond the ${count} piece(s) of ${size} bytes of metadata`);
      return;
    }
    if (got !== expected) {
      const which = idx < count - 1 ? 'a piece other than the last must be 16384 bytes' : `the last of ${count} piece(s) of ${size} bytes must be ${expected} bytes`;
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} carries ${got} bytes: ${which}`);
      return;
    }
    this.assembleMetadata(c, s, idx, size, raw, at);
  }

  private assembleMetadata(c: Conn, s: Side, idx: number, size: number, raw: Uint8Array | undefined, at: At): void {
    if (raw === undefined || size <= 0 || size > MAX_METADATA || s.metadataDone) return;
    const expected = Math.min(BLOCK, size - idx * BLOCK);
    if (raw.length < 6 + expected) return;
    if (s.metadata !== undefined && s.metadata.size !== size) this.dropMetadata(s);
    if (s.metadata === undefined) {
      // A peer chooses the size: the buffers of all connections share one budget.
      if (this.metadataBytes + size > MAX_METADATA_BYTES) return;
      this.metadataBytes += size;
      s.metadata = { size, data: new Uint8Array(size), got: new Set() };
    }
    const m = s.metadata;
    m.data.set(raw.subarray(raw.length - expected), idx * BLOCK);
    m.got.add(idx);
    if (m.got.size < Math.ceil(size / BLOCK)) return;
    s.metadataDone = true;
    this.dropMetadata(s);
    const hash = c.infoHash;
    if (hash === undefined) return;
    const sha1 = createHash('sha1').update(m.data).digest('hex');
    const sha256 = createHash('sha256').update(m.data).digest('hex').slice(0, 40);
    this.metadataVerified++;
    if (sha1 !== hash && sha256 !== hash) {
      this.emit(c, 'metadata-hash-mismatch', at, `the ${size} bytes of metadata from ${s.addr} hash to ${sha1} (SHA-1), not the handshake's info hash ${hash}`);
      return;
    }
    if (c.info !== undefined) return;
    try {
      const info = parseInfo(m.data);
      this.metadataInfo.set(hash, info);
      for (const other of this.conns.values()) if (other.info === undefined && other.infoHash === hash) this.setInfo(other, info, 'the metadata fetched with ut_metadata');
    } catch (err) {
      if (!(err instanceof TorrentError)) throw err;
    }
  }

  /** The side's partial pieces and metadata go back to their budgets. */
  private releaseBuffers(s: Side): void {
    for (const buf of s.pieces.values()) this.verifyBytes -= buf.data.length;
    s.pieces.clear();
    this.dropMetadata(s);
  }

  private dropMetadata(s: Side): void {
    if (s.metadata === undefined) return;
    this.metadataBytes -= s.metadata.size;
    s.metadata = undefined;
  }

  private setInfo(c: Conn, info: TorrentInfo, source: string): void {
    c.info = info;
    c.infoSource = source;
    for (const side of c.sides) this.checkBitfield(c, side);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private connFor(conn: number, transport: Transport, src: string, dst: string): Conn {
    let c = this.conns.get(conn);
    if (c === undefined) {
      c = { conn, transport, sides: [newSide(src), newSide(dst)], lost: false, groups: [] };
      this.conns.set(conn, c);
    }
    return c;
  }

  private emit(c: Conn, code: FindingCode, at: At, message: string, piece?: number): void {
    this.emitRaw({ conn: c.conn, transport: c.transport, src: at.src, dst: at.dst }, code, at, message, piece);
  }

  private emitRaw(base: { conn: number; transport: Transport; src: string; dst: string }, code: FindingCode, at: At, message: string, piece?: number): void {
    const severity: Severity = FINDING_SEVERITY[code];
    this.tally[severity]++;
    const f: EventRecord = { event: 'finding', finding: code, severity, conn: base.conn, transport: base.transport, src: at.src, dst: at.dst, ts: at.ts, message };
    if (piece !== undefined) f.piece = piece;
    this.sink(f);
  }
}

const FATE_TEXT: Record<Fate, string> = { piece: 'answered with the piece anyway', reject: 'rejected', cancel: 'cancelled by the requester', choke: 'dropped by a choke' };

function newSide(addr: string): Side {
  return {
    addr,
    handshake: false,
    fast: false,
    extProtocol: false,
    haveAll: false,
    bitfieldChecked: false,
    added: new Set(),
    removed: new Map(),
    requests: new Map(),
    untrackedRequests: 0,
    metaRequested: new Set(),
    metaRejectReported: false,
    metadataDone: false,
    pieces: new Map(),
  };
}

/** A piece message's block length: its `length` field, else what its size on the wire leaves. */
function blockLength(r: MessageRecord): number | undefined {
  return r.length ?? (r.msg === 'piece' ? r.size - 13 : undefined);
}

/** "ut_pex 1, lt_donthave 3", or that there is no mapping yet. */
export function formatMapping(m: SideMapping | undefined): string {
  return m === undefined ? 'no extended handshake' : m.format();
}

/** The receiver's name for an id does not fit the payload, but the sender's own name for it does. */
function misfit(theirs: string, own: string | undefined, payload: Uint8Array | undefined): boolean {
  return own !== undefined && own !== theirs && fits(theirs, payload) === false && fits(own, payload) === true;
}

/** Whether a payload has the shape of an extension's messages; undefined when unknown. */
function fits(name: string, payload: Uint8Array | undefined): boolean | undefined {
  if (payload === undefined) return undefined;
  switch (name) {
    case 'lt_donthave':
      return payload.length === 4;
    case 'upload_only':
    case 'share_mode':
      return payload.length === 1;
    case 'ut_holepunch':
      return payload.length === 12 || payload.length === 24;
    case 'ut_metadata':
      return payload[0] === 0x64 && includesAscii(payload, '8:msg_type');
    case 'ut_pex':
      return payload[0] === 0x64 && !includesAscii(payload, '8:msg_type');
    default:
      return undefined;
  }
}

function includesAscii(b: Uint8Array, s: string): boolean {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 1024)).includes(s, 0, 'latin1');
}

function metadataPiece(r: MessageRecord): number | undefined {
  return r.piece ?? r.index;
}

function describeCount(b: { count: number; exact: boolean; source: string }): string {
  return b.exact ? `the ${b.count} pieces known from ${b.source}` : `the at most ${b.count} pieces a bitfield of ${b.count / 8} bytes can cover`;
}

function clientNote(s: Side): string {
  return s.client !== undefined ? ` (client ${s.client})` : '';
}

function announceSummary(s: Side): string {
  const parts: string[] = [];
  if (s.bitfield !== undefined) parts.push('not in its bitfield');
  if (s.added.size > 0) parts.push(`${s.added.size} have(s), none for it`);
  if (parts.length === 0) parts.push('no bitfield, have_all or have for it');
  return parts.join(', ');
}

function pieceSize(info: TorrentInfo, piece: number): number {
  if (piece >= info.pieceCount) return 0;
  if (info.pieceHashes !== undefined) return piece === info.pieceCount - 1 ? info.totalLength - info.pieceLength * piece : info.pieceLength;
  const f = v2FileOf(info, piece);
  if (f === undefined) return 0;
  return Math.min(info.pieceLength, f.length - (piece - (f.firstPiece ?? 0)) * info.pieceLength);
}

function v2FileOf(info: TorrentInfo, piece: number): NonNullable<TorrentInfo['v2Files']>[number] | undefined {
  let found: NonNullable<TorrentInfo['v2Files']>[number] | undefined;
  for (const f of info.v2Files ?? []) if (f.length > 0 && (f.firstPiece ?? 0) <= piece) found = f;
  return found;
}

/** Whether a piece's hash is known: v1 piece hashes, else (v2) its file's piece layer or, for a file of at most one piece, its pieces root. */
function hashKnown(info: TorrentInfo, piece: number): boolean {
  if (info.pieceHashes !== undefined) return true;
  const f = v2FileOf(info, piece);
  if (f?.piecesRoot === undefined) return false;
  return f.length <= info.pieceLength || (info.pieceLayers?.has(Buffer.from(f.piecesRoot).toString('hex')) ?? false);
}

function contiguous(blocks: Map<number, number>, total: number): boolean {
  let pos = 0;
  for (const begin of [...blocks.keys()].sort((a, b) => a - b)) {
    if (begin !== pos) return false;
    pos += blocks.get(begin) ?? 0;
  }
  return pos === total;
}

/** undefined when the piece is right (or cannot be checked), else why it is wrong. */
export function verifyPiece(info: TorrentInfo, piece: number, data: Uint8Array): string | undefined {
  if (info.pieceHashes !== undefined) {
    const want = Buffer.from(info.pieceHashes.subarray(piece * 20, piece * 20 + 20)).toString('hex');
    const got = createHash('sha1').update(data).digest('hex');
    return got === want ? undefined : `SHA-1 ${got}, the torrent says ${want}`;
  }
  const f = v2FileOf(info, piece);
  if (f?.piecesRoot === undefined) return undefined;
  const rootHex = Buffer.from(f.piecesRoot).toString('hex');
  if (f.length <= info.pieceLength) {
    const got = merkleRoot(data, nextPow2(Math.ceil(f.length / BLOCK)));
    return got === rootHex ? undefined : `merkle root ${got}, the file's pieces root is ${rootHex}`;
  }
  const layer = info.pieceLayers?.get(rootHex);
  const i = piece - (f.firstPiece ?? 0);
  if (layer === undefined || layer.length < (i + 1) * 32) return undefined;
  const want = Buffer.from(layer.subarray(i * 32, i * 32 + 32)).toString('hex');
  const got = merkleRoot(data, info.pieceLength / BLOCK);
  return got === want ? undefined : `merkle root ${got}, the piece layer says ${want}`;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** BEP 52 merkle root over 16 KiB leaves, padded with zero hashes to `leaves` leaves. */
export function merkleRoot(data: Uint8Array, leaves: number): string {
  let level: Buffer[] = [];
  for (let i = 0; i < data.length; i += BLOCK) level.push(createHash('sha256').update(data.subarray(i, i + BLOCK)).digest());
  if (level.length === 0) level.push(Buffer.alloc(32));
  while (level.length < leaves) level.push(Buffer.alloc(32));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]!).update(level[i + 1] ?? Buffer.alloc(32)).digest());
    level = next;
  }
  return level[0]!.toString('hex');
}
