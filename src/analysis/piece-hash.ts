// What a piece must hash to, and hashing it as its bytes arrive: v1 torrents give each piece's SHA-1,
// v2 (BEP 52) the merkle root over its 16 KiB leaves (from the file's piece layer, or for a file of
// at most one piece its pieces root). A PieceHasher takes the piece's bytes in order, in any slices,
// and never keeps them: SHA-1 is updated in place, a merkle leaf is hashed as it fills.
import { createHash, type Hash } from 'node:crypto';
import { BLOCK } from './conn-state.js';
import type { TorrentInfo } from './torrent.js';

type V2File = NonNullable<TorrentInfo['v2Files']>[number];

/** The piece's length in bytes (the last piece of a v1 torrent or of a v2 file is shorter), 0 when unknown. */
export function pieceSize(info: TorrentInfo, piece: number): number {
  if (piece >= info.pieceCount) return 0;
  if (info.pieceHashes !== undefined) return piece === info.pieceCount - 1 ? info.totalLength - info.pieceLength * piece : info.pieceLength;
  const f = v2FileOf(info, piece);
  if (f === undefined) return 0;
  return Math.min(info.pieceLength, f.length - (piece - (f.firstPiece ?? 0)) * info.pieceLength);
}

function v2FileOf(info: TorrentInfo, piece: number): V2File | undefined {
  let found: V2File | undefined;
  for (const f of info.v2Files ?? []) if (f.length > 0 && (f.firstPiece ?? 0) <= piece) found = f;
  return found;
}

/** Whether a piece's hash is known: v1 piece hashes, else (v2) its file's piece layer or, for a file of at most one piece, its pieces root. */
export function hashKnown(info: TorrentInfo, piece: number): boolean {
  if (info.pieceHashes !== undefined) return true;
  const f = v2FileOf(info, piece);
  if (f?.piecesRoot === undefined) return false;
  return f.length <= info.pieceLength || (info.pieceLayers?.has(Buffer.from(f.piecesRoot).toString('hex')) ?? false);
}

/** A piece's bytes in, in order; then what is wrong with them (undefined: right, or nothing to check against). */
export interface PieceHasher {
  update(bytes: Uint8Array): void;
  verdict(): string | undefined;
}

/** A hasher for `piece`, or one that accepts anything when its hash cannot be known. */
export function pieceHasher(info: TorrentInfo, piece: number): PieceHasher {
  if (info.pieceHashes !== undefined) {
    const want = Buffer.from(info.pieceHashes.subarray(piece * 20, piece * 20 + 20)).toString('hex');
    return new Sha1Hasher(want);
  }
  const f = v2FileOf(info, piece);
  if (f?.piecesRoot === undefined) return UNCHECKED;
  const rootHex = Buffer.from(f.piecesRoot).toString('hex');
  if (f.length <= info.pieceLength) return new MerkleHasher(nextPow2(Math.ceil(f.length / BLOCK)), rootHex, "the file's pieces root is");
  const layer = info.pieceLayers?.get(rootHex);
  const i = piece - (f.firstPiece ?? 0);
  if (layer === undefined || layer.length < (i + 1) * 32) return UNCHECKED;
  return new MerkleHasher(info.pieceLength / BLOCK, Buffer.from(layer.subarray(i * 32, i * 32 + 32)).toString('hex'), 'the piece layer says');
}

const UNCHECKED: PieceHasher = { update() {}, verdict: () => undefined };

class Sha1Hasher implements PieceHasher {
  private readonly hash: Hash = createHash('sha1');
  constructor(private readonly want: string) {}
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
  verdict(): string | undefined {
    const got = this.hash.digest('hex');
    return got === this.want ? undefined : `SHA-1 ${got}, the torrent says ${this.want}`;
  }
}

/** BEP 52: SHA-256 of each 16 KiB leaf as it fills, then the tree over them, padded with zero hashes to `leaves` leaves. */
class MerkleHasher implements PieceHasher {
  private readonly level: Buffer[] = [];
  private leaf: Hash | undefined;
  private inLeaf = 0;
  constructor(
    private readonly leaves: number,
    private readonly want: string,
    private readonly says: string,
  ) {}
  update(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const take = Math.min(BLOCK - this.inLeaf, bytes.length - off);
      (this.leaf ??= createHash('sha256')).update(bytes.subarray(off, off + take));
      this.inLeaf += take;
      off += take;
      if (this.inLeaf === BLOCK) this.endLeaf();
    }
  }
  private endLeaf(): void {
    if (this.leaf !== undefined) this.level.push(this.leaf.digest());
    this.leaf = undefined;
    this.inLeaf = 0;
  }
  /** The root, hex. */
  root(): string {
    this.endLeaf();
    return rootOf(this.level, this.leaves);
  }
  verdict(): string | undefined {
    const got = this.root();
    return got === this.want ? undefined : `merkle root ${got}, ${this.says} ${this.want}`;
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function rootOf(leafHashes: Buffer[], leaves: number): string {
  let level = leafHashes;
  if (level.length === 0) level.push(Buffer.alloc(32));
  while (level.length < leaves) level.push(Buffer.alloc(32));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]!).update(level[i + 1] ?? Buffer.alloc(32)).digest());
    level = next;
  }
  return level[0]!.toString('hex');
}

/** undefined when the piece is right (or cannot be checked), else why it is wrong. */
export function verifyPiece(info: TorrentInfo, piece: number, data: Uint8Array): string | undefined {
  const h = pieceHasher(info, piece);
  h.update(data);
  return h.verdict();
}

/** BEP 52 merkle root over 16 KiB leaves, padded with zero hashes to `leaves` leaves. */
export function merkleRoot(data: Uint8Array, leaves: number): string {
  const h = new MerkleHasher(leaves, '', '');
  h.update(data);
  return h.root();
}
