// Piece verification: blocks of a piece are buffered until the whole piece is in the capture, then
// hashed against the torrent (v1 SHA-1 piece hashes, or v2 merkle roots). The buffers of all
// connections share one budget; a piece that does not fit is not checked.
import { createHash } from 'node:crypto';
import type { MessageRecord } from '../model/record.js';
import { BLOCK, blockLength, type At, type Conn, type Emit, type Side } from './conn-state.js';
import type { TorrentInfo } from './torrent.js';

/** Piece data buffered for hash verification, over all connections. */
const MAX_VERIFY_BYTES = 64 << 20;
const MAX_PIECE_LENGTH = 16 << 20;

export class PieceVerifier {
  private bytes = 0;
  /** Pieces hashed against the torrent so far. */
  verified = 0;

  constructor(private readonly emit: Emit) {}

  /** A piece message `s` sent: its block is kept, and the piece hashed once all its blocks are in. */
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
      if (this.bytes + plen > MAX_VERIFY_BYTES) return;
      buf = { data: new Uint8Array(plen), blocks: new Map(), filled: 0 };
      this.bytes += plen;
      s.pieces.set(piece, buf);
    }
    if (buf.blocks.has(begin)) return;
    buf.data.set(raw.subarray(13, 13 + length), begin);
    buf.blocks.set(begin, length);
    buf.filled += length;
    if (buf.filled < plen || !contiguous(buf.blocks, plen)) return;
    s.pieces.delete(piece);
    this.bytes -= plen;
    const bad = verifyPiece(info, piece, buf.data);
    this.verified++;
    if (bad !== undefined) this.emit(c, 'hash-mismatch', at, `piece ${piece} from ${s.addr} (all ${buf.blocks.size} blocks in the capture, ${plen} bytes): ${bad}`, piece);
  }

  /** The side's partial pieces will not complete: their buffers go back to the budget. */
  release(s: Side): void {
    for (const buf of s.pieces.values()) this.bytes -= buf.data.length;
    s.pieces.clear();
  }
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
