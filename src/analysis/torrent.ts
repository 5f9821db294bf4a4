// .torrent files (BEP 3 v1, BEP 52 v2, hybrid): info hashes, piece geometry and piece hashes for
// range checks and hash verification. parseTorrent/parseInfo are sans-I/O; loadTorrent reads a file.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../capture/source.js';
import { decodeBencode, dictionarySpans, isBytes, isDict, isInt, type BValue } from '../bittorrent/bencode.js';

export interface TorrentFile {
  /** Path components joined with "/" (as found; escape before printing). */
  path: string;
  length: number;
  /** v2: the file's merkle root (32 bytes), absent for empty files. */
  piecesRoot?: Uint8Array;
  /** v2: index of the file's first piece (files start on piece boundaries). */
  firstPiece?: number;
}

export interface TorrentInfo {
  name: string;
  /** SHA-1 of the info dict, hex: the v1 info hash (also for v2 torrents, whose handshake uses the truncated v2 hash). */
  infoHashV1: string;
  /** SHA-256 of the info dict, hex, when the info dict is v2 or hybrid (`meta version` 2). */
  infoHashV2?: string;
  pieceLength: number;
  pieceCount: number;
  totalLength: number;
  /** v1 piece hashes, 20 bytes each (v1 and hybrid). */
  pieceHashes?: Uint8Array;
  /** v2 files in file-tree order (v2 and hybrid). */
  v2Files?: TorrentFile[];
  /** v2 piece layers: hex pieces root -> concatenated 32-byte piece hashes. */
  pieceLayers?: Map<string, Uint8Array>;
}

const MAX_TORRENT_BYTES = 64 << 20;
const MAX_DEPTH = 64;

/** Reads and parses a .torrent; throws InputError with a one-line reason. */
export async function loadTorrent(path: string): Promise<TorrentInfo> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new InputError(`${path}: not a file`);
    if (st.size > MAX_TORRENT_BYTES) throw new InputError(`${path}: ${st.size} bytes is too large for a .torrent`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message)}`);
  }
  try {
    return parseTorrent(bytes);
  } catch (err) {
    if (err instanceof TorrentError) throw new InputError(`${path}: not a valid .torrent: ${err.message}`);
    throw err;
  }
}

export class TorrentError extends Error {
  override name = 'TorrentError';
}

/** Parses the bytes of a .torrent file; throws TorrentError when it is not one. */
export function parseTorrent(bytes: Uint8Array): TorrentInfo {
  const root = strictDecode(bytes, 'the top-level dictionary');
  if (!isDict(root)) throw new TorrentError('top level is not a dictionary');
  // The info hash is the hash of the info dictionary's exact bytes.
  const infoSpan = dictionarySpans(bytes)?.get('info');
  if (infoSpan === undefined) throw new TorrentError('no info dictionary');
  const info = parseInfo(bytes.subarray(infoSpan[0], infoSpan[1]));
  const layers = root['piece layers'];
  if (isDict(layers) && info.v2Files !== undefined) {
    const map = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(layers)) if (isBytes(v)) map.set(keyHex(k), v);
    info.pieceLayers = map;
  }
  return info;
}

/** Parses a bencoded info dictionary (a .torrent's, or metadata fetched with ut_metadata). */
export function parseInfo(infoBytes: Uint8Array): TorrentInfo {
  const info = strictDecode(infoBytes, 'the info dictionary');
  if (!isDict(info)) throw new TorrentError('info is not a dictionary');
  const pieceLength = info['piece length'];
  if (!isInt(pieceLength) || pieceLength <= 0) throw new TorrentError('bad or missing piece length');
  const nameBytes = info['name'];
  const name = isBytes(nameBytes) ? Buffer.from(nameBytes).toString('utf8') : '';
  const infoHashV1 = createHash('sha1').update(infoBytes).digest('hex');
  const result: TorrentInfo = { name, infoHashV1, pieceLength, pieceCount: 0, totalLength: 0 };
  const pieces = info['pieces'];
  if (isBytes(pieces)) {
    if (pieces.length % 20 !== 0) throw new TorrentError(`pieces is ${pieces.length} bytes, not a multiple of 20`);
    result.pieceHashes = pieces;
    result.pieceCount = pieces.length / 20;
    result.totalLength = v1Length(info);
    const expected = Math.ceil(result.totalLength / pieceLength);
    if (expected !== result.pieceCount) throw new TorrentError(`${result.pieceCount} piece hashes for ${result.totalLength} bytes in pieces of ${pieceLength} (expected ${expected})`);
  }
  if (info['meta version'] === 2) {
    result.infoHashV2 = createHash('sha256').update(infoBytes).digest('hex');
    const tree = info['file tree'];
    if (!isDict(tree)) throw new TorrentError('meta version 2 without a file tree');
    const files: TorrentFile[] = [];
    walkFileTree(tree, [], files, 0);
    let piece = 0;
    let total = 0;
    for (const f of files) {
      f.firstPiece = piece;
      piece += Math.ceil(f.length / pieceLength);
      total += f.length;
    }
    result.v2Files = files;
    if (result.pieceHashes === undefined) {
      result.pieceCount = piece;
      result.totalLength = total;
    }
  } else if (result.pieceHashes === undefined) {
    throw new TorrentError('no pieces and no v2 file tree');
  }
  return result;
}

/** The one bencode decoder (src/bittorrent/bencode.ts), strict: trailing bytes are an error. */
function strictDecode(bytes: Uint8Array, what: string): BValue {
  const r = decodeBencode(bytes, { strict: true });
  if (!r.ok) throw new TorrentError(`${what}: ${r.error}`);
  return r.value;
}

/**
 * A piece layer's key (a 32-byte pieces root) as hex. The bencode package gives a key as text when
 * it is valid UTF-8 and as hex when it is not; 32 bytes of text are at most 32 characters.
 */
function keyHex(key: string): string {
  return /^[0-9a-f]{64}$/.test(key) ? key : Buffer.from(key, 'utf8').toString('hex');
}

function v1Length(info: { [key: string]: BValue }): number {
  const length = info['length'];
  if (isInt(length) && length >= 0) return length;
  const files = info['files'];
  if (!Array.isArray(files)) throw new TorrentError('neither length nor files in info');
  let total = 0;
  for (const f of files) {
    const l = isDict(f) ? f['length'] : undefined;
    if (!isInt(l) || l < 0) throw new TorrentError('a file without a valid length');
    total += l;
  }
  return total;
}

function walkFileTree(node: { [key: string]: BValue }, path: string[], out: TorrentFile[], depth: number): void {
  if (depth > MAX_DEPTH) throw new TorrentError('file tree too deep');
  for (const [key, child] of Object.entries(node)) {
    if (!isDict(child)) throw new TorrentError('file tree entry is not a dictionary');
    if (key === '') {
      const length = child['length'];
      if (!isInt(length) || length < 0) throw new TorrentError('v2 file without a valid length');
      const root = child['pieces root'];
      const file: TorrentFile = { path: path.join('/'), length };
      if (isBytes(root) && root.length === 32) file.piecesRoot = root;
      out.push(file);
    } else {
      walkFileTree(child, [...path, key], out, depth + 1);
    }
  }
}

/** The 20-byte info hash a handshake carries for this torrent: v1 hash, or the truncated v2 hash. */
export function handshakeHashes(t: TorrentInfo): string[] {
  const out = [t.infoHashV1];
  if (t.infoHashV2 !== undefined) out.push(t.infoHashV2.slice(0, 40));
  return out;
}
