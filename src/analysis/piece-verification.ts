// Piece verification: the blocks of a piece are hashed as they arrive, against the torrent (v1 SHA-1
// piece hashes, or v2 merkle roots: piece-hash.ts). A block that continues the piece's hashed prefix
// is hashed in place, straight from the decoder's bytes, and not kept; a block that arrives ahead of
// it is copied and held until the prefix reaches it (over all connections the held blocks share one
// budget; a piece whose block does not fit is not checked). So a piece sent in order costs one hash
// state and no copy.
//
// Which pieces are judged is what it was when whole pieces were buffered: a piece is hashed once the
// distinct blocks seen (by begin offset; a block at an offset already seen is a duplicate and
// ignored) cover it exactly, end to end; a block that overlaps others means the piece is never
// judged.
import type { MessageRecord } from '../model/record.js';
import { blockLength, type At, type Conn, type Emit, type PieceBuffer, type Side } from './conn-state.js';
import { hashKnown, pieceHasher, pieceSize } from './piece-hash.js';
import type { TorrentInfo } from './torrent.js';
import { countBelow } from '../util/sorted.js';

export { merkleRoot, verifyPiece } from './piece-hash.js';

/** Out-of-order blocks held for hash verification, over all connections. */
const MAX_HELD_BYTES = 64 << 20;
/** Pieces being hashed at once, over all connections: each costs a hash state and a few numbers. */
const MAX_PIECES = 4096;
const MAX_PIECE_LENGTH = 16 << 20;

export class PieceVerifier {
  private held = 0;
  private pieces = 0;
  /** Pieces hashed against the torrent so far. */
  verified = 0;

  /** Bytes of out-of-order blocks held now, over all connections. */
  get heldBytes(): number {
    return this.held;
  }

  constructor(private readonly emit: Emit) {}

  /** A piece message `s` sent: its block is hashed (or held), and the piece judged once all its blocks are in. */
  add(c: Conn, s: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
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
      if (this.pieces >= MAX_PIECES) return;
      buf = newPiece(info, piece);
      this.pieces++;
      s.pieces.set(piece, buf);
    }
    if (!this.block(buf, begin, raw.subarray(13, 13 + length))) return;
    if (buf.next < plen || buf.held !== undefined || buf.state !== 'open') return;
    s.pieces.delete(piece);
    this.pieces--;
    const bad = buf.hasher!.verdict();
    this.verified++;
    if (bad !== undefined) this.emit(c, 'hash-mismatch', at, `piece ${piece} from ${s.addr} (all ${buf.blocks} blocks in the capture, ${plen} bytes): ${bad}`, piece);
  }

  /** The side's partial pieces will not complete: their held blocks go back to the budget. */
  release(s: Side): void {
    for (const buf of s.pieces.values()) this.drop(buf);
    this.pieces -= s.pieces.size;
    s.pieces.clear();
  }

  /** One block of the piece; false when it changed nothing (a duplicate, or the piece is no longer judged). */
  private block(buf: PieceBuffer, begin: number, data: Uint8Array): boolean {
    if (buf.state !== 'open') return false;
    if (hasBegin(buf.begins, begin) || buf.held?.has(begin) === true) return false;
    buf.blocks++;
    if (begin === buf.next) {
      this.hashIn(buf, begin, data);
      this.drain(buf);
    } else if (begin < buf.next) {
      // It overlaps blocks already hashed: the blocks can no longer cover the piece exactly.
      this.drop(buf, 'overlap');
    } else {
      if (this.held + data.length > MAX_HELD_BYTES) {
        this.drop(buf, 'over-budget');
        return false;
      }
      (buf.held ??= new Map()).set(begin, data.slice());
      this.held += data.length;
    }
    return true;
  }

  private hashIn(buf: PieceBuffer, begin: number, data: Uint8Array): void {
    buf.hasher!.update(data);
    buf.begins.push(begin);
    buf.next = begin + data.length;
  }

  /** Held blocks that the hashed prefix has reached are hashed; one it has passed is an overlap. */
  private drain(buf: PieceBuffer): void {
    const held = buf.held;
    if (held === undefined) return;
    for (;;) {
      const data = held.get(buf.next);
      if (data === undefined) break;
      held.delete(buf.next);
      this.held -= data.length;
      this.hashIn(buf, buf.next, data);
    }
    for (const begin of held.keys()) if (begin < buf.next) return this.drop(buf, 'overlap');
    if (held.size === 0) buf.held = undefined;
  }

  /** The piece's held blocks go back to the budget; with a reason, the piece is no longer judged. */
  private drop(buf: PieceBuffer, why?: PieceBuffer['state']): void {
    for (const data of buf.held?.values() ?? []) this.held -= data.length;
    buf.held = undefined;
    if (why === undefined) return;
    buf.state = why;
    buf.hasher = undefined;
    buf.begins = [];
  }
}

function newPiece(info: TorrentInfo, piece: number): PieceBuffer {
  return { hasher: pieceHasher(info, piece), next: 0, begins: [], blocks: 0, state: 'open' };
}

/** `begins` ascends (the hashed blocks, in order). */
function hasBegin(begins: number[], begin: number): boolean {
  return begins[countBelow(begins, begin)] === begin;
}
