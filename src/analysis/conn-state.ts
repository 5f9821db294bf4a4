// The analyzer's per-connection state: what each side has sent so far, as the rule modules
// (request-tracking, donthave-rules, extended-rules, metadata-assembly, piece-verification) read
// and update it. Plain data and small helpers only; the Analyzer owns the connections.
import type { MappingView } from '../bittorrent/ext-mapping.js';
import type { MessageRecord, Transport } from '../model/record.js';
import type { FindingNeeds, UnjudgedReason } from './finding-needs.js';
import type { FindingCode } from './findings.js';
import type { PieceHasher } from './piece-hash.js';
import type { PieceHoldings } from './piece-state.js';
import type { TorrentInfo } from './torrent.js';
import { newSide } from './side-state.js';
import { defineHeldFields } from '../util/packed-fields.js';

export { newSide };

export const BLOCK = 16384;

/** The message a finding points at. */
export interface At {
  ts: number;
  src: string;
  dst: string;
  /** Its frame in the capture, when known. */
  frame?: number;
}

export type Fate = 'piece' | 'reject' | 'cancel' | 'choke';

/** A request's key in its side's map (request-tracking.ts requestKey): a number, or text when the triple does not fit one. */
export type RequestKey = number | string;

export interface Request {
  piece: number;
  begin: number;
  length: number;
  at: At;
  /** The connection's loss count when the request was sent (a loss since: its answer may be lost). */
  losses: number;
  fate?: Fate;
  group?: DropGroup;
}

/** The requests one lt_donthave left outstanding, reported together once each has a fate. */
export interface DropGroup {
  at: At;
  /** The connection's loss count at the lt_donthave. */
  losses: number;
  piece: number;
  fast: boolean;
  requests: Request[];
  done: boolean;
}

/** A piece being hash-checked (piece-verification.ts): its hashed prefix, and blocks held ahead of it. */
export interface PieceBuffer {
  /** Hashes the prefix [0, next); undefined once the piece is no longer judged. */
  hasher: PieceHasher | undefined;
  next: number;
  /** Begin offsets of the hashed blocks, ascending. */
  begins: number[];
  /** Blocks that arrived ahead of the prefix (copies), by begin offset. */
  held?: Map<number, Uint8Array>;
  /** Distinct blocks seen. */
  blocks: number;
  /** open, or why the piece is no longer judged: a block overlapping others, or no room to hold one. */
  state: 'open' | 'overlap' | 'over-budget';
}

export interface MetadataBuffer {
  size: number;
  data: Uint8Array;
  got: Set<number>;
}

export interface Side {
  addr: string;
  /** This side's direction lost bytes (a gap, or a resync of the decoder): its history is incomplete from here. */
  lost: boolean;
  handshake: boolean;
  fast: boolean;
  extProtocol: boolean;
  client?: string;
  /** The peer id of its handshake (the stall tracker's key for what the peer said on other connections). */
  peerId?: string;
  /** This side's extension mapping from its first extended handshake on: the decoder's (DecodeContext), read, never rebuilt. */
  mapping?: MappingView;
  metadataSize?: number;
  /** The first BEP 3/6 message this side sent after which a bitfield is no longer allowed. */
  sentState?: string;
  /** Which pieces this side holds (bitfield, have_all, have_none, have, lt_donthave with its time): the shared model. */
  readonly holdings: PieceHoldings;
  /** Its bitfield's payload, kept for the length checks once the piece count is known (have_none does not undo it). */
  bitfield?: Uint8Array;
  bitfieldAt?: At;
  bitfieldChecked: boolean;
  /** Requests this side sent that are still open, key "piece:begin:length". */
  requests: Map<RequestKey, Request>;
  untrackedRequests: number;
  metaRequested: Set<number>;
  metaRejectReported: boolean;
  metadata?: MetadataBuffer;
  metadataDone: boolean;
  pieces: Map<number, PieceBuffer>;
  /** Whether any request is tracked (reading `requests` would make its map). */
  readonly anyRequests: boolean;
}

export interface Conn {
  conn: number;
  transport: Transport;
  sides: [Side, Side];
  /** Either direction lost bytes (see Side.lost, which the findings use). */
  lost: boolean;
  /** Gaps and resyncs so far, both directions. */
  losses: number;
  /** Time of the connection's latest record. */
  ts: number;
  /** Its frame, when known. */
  frame?: number;
  /** Findings not judged because the capture lost what they need: code -> reason -> count. */
  unjudged: Map<FindingCode, Map<UnjudgedReason, number>>;
  infoHash?: string;
  info?: TorrentInfo;
  infoSource?: string;
  groups: DropGroup[];
  /**
   * Messages whose piece index passed while the piece count was not known (no torrent or metadata
   * yet, or only a bitfield's bound): the highest indices, judged again when the count is learned.
   */
  rangeLater?: RangeLater[];
}

/** A have/request/cancel/piece/suggest_piece/allowed_fast/lt_donthave kept for a later range check. */
export interface RangeLater {
  what: string;
  piece: number;
  at: At;
}

/** Messages kept per connection for the later range check: the highest piece indices. */
export const MAX_RANGE_LATER = 16;

/** Keeps the message for rejudgeRange, among the MAX_RANGE_LATER highest indices of the connection. */
export function rangeLater(c: Conn, what: string, piece: number, at: At): void {
  const list = (c.rangeLater ??= []);
  if (list.length < MAX_RANGE_LATER) {
    list.push({ what, piece, at });
    return;
  }
  let low = 0;
  for (let i = 1; i < list.length; i++) if (list[i]!.piece < list[low]!.piece) low = i;
  if (piece > list[low]!.piece) list[low] = { what, piece, at };
}

/**
 * The piece count became known (metadata fetched with ut_metadata, verified against the info hash):
 * the kept messages beyond it are reported now, late, each pointing at its message.
 */
export function rejudgeRange(emit: Emit, c: Conn): void {
  const list = c.rangeLater;
  c.rangeLater = undefined;
  const b = pieceBound(c);
  if (list === undefined || b === undefined || !b.exact) return;
  const late = [...list].filter((x) => x.piece >= b.count).sort((x, y) => (x.at.frame ?? x.at.ts) - (y.at.frame ?? y.at.ts));
  for (const x of late) {
    const code = x.what === 'lt_donthave' ? 'donthave-out-of-range' : 'piece-out-of-range';
    emit(c, code, x.at, `${x.what} for piece ${x.piece}, beyond ${describeCount(b)} (learned after this message)`, x.piece);
  }
}

/** Fields a few findings carry beside their message (the stall findings: `since`, `seconds`). */
export interface FindingExtra {
  since?: number;
  seconds?: number;
}

/**
 * Raises a finding on connection `c`, pointing at the message at `at`, if the capture holds what
 * the finding needs (FINDING_NEEDS[code], or `needs` for a check that needs more than its code's
 * others); otherwise it is counted as not judged.
 */
export type Emit = (c: Conn, code: FindingCode, at: At, message: string, piece?: number, extra?: FindingExtra, needs?: FindingNeeds) => void;

/** A finding that would have been raised was not judged: counted on the connection, by reason. */
export function countUnjudged(c: Conn, code: FindingCode, why: UnjudgedReason): void {
  let reasons = c.unjudged.get(code);
  if (reasons === undefined) c.unjudged.set(code, (reasons = new Map()));
  reasons.set(why, (reasons.get(why) ?? 0) + 1);
}

/** A connection's state, of one shape from the start (fields added later cost a property array each). */
export function newConn(conn: number, transport: Transport, src: string, dst: string, ts: number): Conn {
  return new ConnState(conn, transport, newSide(src), newSide(dst), ts);
}

/** What a connection holds beyond its handshakes (losses, the torrent, later checks): made at first use. */
class ConnMore {
  lost = false;
  losses = 0;
  info: TorrentInfo | undefined = undefined;
  infoSource: string | undefined = undefined;
  rangeLater: RangeLater[] | undefined = undefined;
  unjudged: Map<FindingCode, Map<UnjudgedReason, number>> | undefined = undefined;
  groups: DropGroup[] | undefined = undefined;
}

/**
 * A live connection of a flood has only shaken hands, and must cost little: what most connections
 * never have lives in a ConnMore made when first written (see defineHeldFields below).
 */
class ConnState implements Conn {
  readonly sides: [Side, Side];
  frame: number | undefined = undefined;
  infoHash: string | undefined = undefined;
  private more: ConnMore | undefined = undefined;
  // Read through to `more` (defineHeldFields below).
  declare lost: boolean;
  declare losses: number;
  declare info: TorrentInfo | undefined;
  declare infoSource: string | undefined;
  declare rangeLater: RangeLater[] | undefined;

  constructor(
    readonly conn: number,
    readonly transport: Transport,
    a: Side,
    b: Side,
    public ts: number,
  ) {
    this.sides = [a, b];
  }

  private extra(): ConnMore {
    return (this.more ??= new ConnMore());
  }

  /** Made when first used (most connections see no lt_donthave drop requests). */
  get groups(): DropGroup[] {
    return (this.extra().groups ??= []);
  }
  set groups(list: DropGroup[]) {
    this.extra().groups = list;
  }

  /** Made when first used (most connections have nothing unjudged). */
  get unjudged(): Map<FindingCode, Map<UnjudgedReason, number>> {
    return (this.extra().unjudged ??= new Map());
  }
}

defineHeldFields(ConnState.prototype, 'more', () => new ConnMore(), { lost: false, losses: 0, info: undefined, infoSource: undefined, rangeLater: undefined });

export function fastBoth(a: Side, b: Side): boolean {
  return a.fast && b.fast;
}

/** A piece message's block length: its `length` field, else what its size on the wire leaves. */
export function blockLength(r: MessageRecord): number | undefined {
  return r.length ?? (r.msg === 'piece' ? r.size - 13 : undefined);
}

export function clientNote(s: Side): string {
  return s.client !== undefined ? ` (client ${s.client})` : '';
}

export interface PieceBound {
  count: number;
  exact: boolean;
  source: string;
}

/** The piece count, or an upper bound from a bitfield's length when no torrent/metadata is known. */
export function pieceBound(c: Conn): PieceBound | undefined {
  if (c.info !== undefined) return { count: c.info.pieceCount, exact: true, source: c.infoSource ?? '' };
  // The longest bitfield: a peer's too-short bitfield must not make the other's indices look out of range.
  let bound: number | undefined;
  for (const side of c.sides) if (side.bitfield !== undefined) bound = Math.max(bound ?? 0, side.bitfield.length * 8);
  return bound === undefined ? undefined : { count: bound, exact: false, source: 'bitfield length' };
}

export function describeCount(b: PieceBound): string {
  return b.exact ? `the ${b.count} pieces known from ${b.source}` : `the at most ${b.count} pieces a bitfield of ${b.count / 8} bytes can cover`;
}

/** Range check for have/request/piece/...; false when out of range (finding emitted). */
export function inRange(emit: Emit, c: Conn, what: string, piece: number, at: At): boolean {
  const b = pieceBound(c);
  if (b === undefined || piece < b.count) {
    if (b === undefined || !b.exact) rangeLater(c, what, piece, at);
    return true;
  }
  emit(c, 'piece-out-of-range', at, `${what} for piece ${piece}, beyond ${describeCount(b)}`, piece);
  return false;
}
