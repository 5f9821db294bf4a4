// The piece-state model: which pieces one side of a connection holds, as its bitfield, have_all,
// have_none, have and lt_donthave (BEP 3, 6, 54) say. The one owner of these rules: the analyzer
// judges lt_donthave against it (donthave-rules.ts), the terminal UI's piece map and the report's
// piece graphs replay records into it. Compact whatever the peer sends: a copy of the bitfield and
// two bitsets (announced by have, withdrawn by lt_donthave) grown as indices appear, up to MAX_PIECE_INDEX.
import type { MessageRecord } from '../model/record.js';

/** A piece's state as the piece map draws it; Lost = withdrawn with lt_donthave, not announced since. */
export const PieceState = { Missing: 0, Have: 1, Lost: 2 } as const;

/** Pieces tracked (a bitfield of 1 MiB): indices beyond are not remembered. */
export const MAX_PIECE_INDEX = 1 << 23;

/** A bitset grown by doubling as higher indices are set. */
class Bits {
  private words = new Uint8Array(0);
  /** How many bits are set. */
  count = 0;

  get(i: number): boolean {
    const b = this.words[i >> 3];
    return b !== undefined && (b & (0x80 >> (i & 7))) !== 0;
  }

  set(i: number): void {
    if (i < 0 || i >= MAX_PIECE_INDEX || this.get(i)) return;
    const byte = i >> 3;
    if (byte >= this.words.length) {
      const grown = new Uint8Array(Math.min(MAX_PIECE_INDEX >> 3, Math.max(16, this.words.length * 2, byte + 1)));
      grown.set(this.words);
      this.words = grown;
    }
    this.words[byte]! |= 0x80 >> (i & 7);
    this.count++;
  }

  clear(i: number): void {
    if (!this.get(i)) return;
    this.words[i >> 3]! &= ~(0x80 >> (i & 7));
    this.count--;
  }

  clearAll(): void {
    if (this.count === 0) return;
    this.words = new Uint8Array(0);
    this.count = 0;
  }

  /** Bytes the set holds. */
  get byteLength(): number {
    return this.words.length;
  }

  copy(): Bits {
    const b = new Bits();
    b.words = this.words.slice();
    b.count = this.count;
    return b;
  }
}

/**
 * One side's pieces. A bitfield and have_none each state the whole set (what came before no longer
 * counts), have_all says every piece; a have announces one piece (again); an lt_donthave withdraws one.
 */
export class PieceHoldings {
  /** have_all was sent (and no bitfield or have_none since). */
  all = false;
  /** The latest bitfield's payload (a copy), if one was sent. */
  bitfield: Uint8Array | undefined;
  private readonly announced: Bits;
  private readonly withdrawn: Bits;
  /** When each withdrawal happened, kept only when asked for (the analyzer's findings quote it). */
  private times: Map<number, number> | undefined;

  constructor(
    private readonly keepTimes = false,
    from?: PieceHoldings,
  ) {
    this.announced = from?.announced.copy() ?? new Bits();
    this.withdrawn = from?.withdrawn.copy() ?? new Bits();
    if (from === undefined) return;
    this.all = from.all;
    this.bitfield = from.bitfield;
    if (from.times !== undefined) this.times = new Map(from.times);
  }

  /** An independent copy (the piece map's checkpoints). */
  clone(): PieceHoldings {
    return new PieceHoldings(this.keepTimes, this);
  }

  /** Bytes of the two bitsets a clone() copies (the bitfield is shared): what a piece map checkpoint costs. */
  get bitsetBytes(): number {
    return this.announced.byteLength + this.withdrawn.byteLength;
  }

  /** Pieces announced one by one with have and not withdrawn since. */
  get haves(): number {
    return this.announced.count;
  }

  /** A have: the piece is announced (again), so an earlier withdrawal no longer holds. */
  have(piece: number): void {
    this.withdrawn.clear(piece);
    this.times?.delete(piece);
    this.announced.set(piece);
  }

  /** have_all: every piece, so no withdrawal holds any more. */
  haveAll(): void {
    this.all = true;
    this.withdrawn.clearAll();
    this.times = undefined;
  }

  haveNone(): void {
    this.all = false;
    this.bitfield = undefined;
    this.announced.clearAll();
    this.withdrawn.clearAll();
    this.times = undefined;
  }

  /** A bitfield's payload (copied): it replaces everything announced or withdrawn before. */
  setBitfield(payload: Uint8Array): void {
    this.haveNone();
    this.bitfield = payload.slice();
  }

  /** An lt_donthave for `piece` at time `ts`: returns when it had been withdrawn already (no have since), if it had. */
  donthave(piece: number, ts = 0): number | undefined {
    const before = this.withdrawnAt(piece);
    this.announced.clear(piece);
    if (before !== undefined || piece < 0 || piece >= MAX_PIECE_INDEX) return before;
    this.withdrawn.set(piece);
    if (this.keepTimes) (this.times ??= new Map()).set(piece, ts);
    return undefined;
  }

  /** When `piece` was withdrawn (0 when times are not kept), if it is withdrawn now. */
  withdrawnAt(piece: number): number | undefined {
    if (!this.withdrawn.get(piece)) return undefined;
    return this.times?.get(piece) ?? 0;
  }

  /** Whether the side announced `piece` (bitfield, have_all or have) and has not withdrawn it since. */
  has(piece: number): boolean {
    if (this.withdrawn.get(piece)) return false;
    return this.all || this.announced.get(piece) || this.inBitfield(piece);
  }

  /** Whether a have announced `piece` (and no lt_donthave, bitfield or have_none since). */
  byHave(piece: number): boolean {
    return this.announced.get(piece);
  }

  /** Whether the latest bitfield has `piece`'s bit set. */
  inBitfield(piece: number): boolean {
    const b = this.bitfield;
    return b !== undefined && piece >> 3 < b.length && ((b[piece >> 3] ?? 0) & (0x80 >> (piece & 7))) !== 0;
  }

  /** The piece's state for the piece map. */
  state(piece: number): number {
    if (this.withdrawn.get(piece)) return PieceState.Lost;
    return this.has(piece) ? PieceState.Have : PieceState.Missing;
  }

  /** The states of pieces 0..n-1. */
  states(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let p = 0; p < n; p++) out[p] = this.state(p);
    return out;
  }

  /**
   * Applies a message record: have, bitfield (`raw`: the message with its 5-byte header), have_all,
   * have_none, lt_donthave. Others are ignored. Records are applied as they are, without range
   * checks: the analyzer, which judges ranges, calls the operations itself.
   */
  apply(r: MessageRecord, raw: Uint8Array | undefined): void {
    switch (r.msg) {
      case 'have_all':
        return this.haveAll();
      case 'have_none':
        return this.haveNone();
      case 'have':
        if (r.piece !== undefined) this.have(r.piece);
        return;
      case 'bitfield':
        if (raw !== undefined && raw.length >= 5) this.setBitfield(raw.subarray(5));
        return;
      case 'extended':
        if (r.ext === 'lt_donthave' && r.piece !== undefined) this.donthave(r.piece, r.ts);
        return;
      default:
    }
  }
}

/** Whether a record changes a side's pieces (the messages `apply` reads). */
export function changesPieces(r: MessageRecord): boolean {
  return r.msg === 'bitfield' || r.msg === 'have' || r.msg === 'have_all' || r.msg === 'have_none' || (r.msg === 'extended' && r.ext === 'lt_donthave');
}
