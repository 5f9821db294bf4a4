// .torrent files (BEP 3 v1, BEP 52 v2, hybrid): info hashes, piece geometry and piece hashes for
// range checks and hash verification. parseTorrent/parseInfo are sans-I/O; loadTorrent reads a file.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../capture/source.js';

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
  const root = decodeSpan(bytes, 0);
  if (root.end !== bytes.length) throw new TorrentError(`trailing bytes after the top-level dictionary at offset ${root.end}`);
  if (!(root.value instanceof Map)) throw new TorrentError('top level is not a dictionary');
  const infoSpan = root.spans.get('info');
  if (infoSpan === undefined) throw new TorrentError('no info dictionary');
  const info = parseInfo(bytes.subarray(infoSpan[0], infoSpan[1]));
  const layers = root.value.get('piece layers');
  if (layers instanceof Map && info.v2Files !== undefined) {
    const map = new Map<string, Uint8Array>();
    for (const [k, v] of layers) if (v instanceof Uint8Array) map.set(Buffer.from(k, 'latin1').toString('hex'), v);
    info.pieceLayers = map;
  }
  return info;
}

/** Parses a bencoded info dictionary (a .torrent's, or metadata fetched with ut_metadata). */
export function parseInfo(infoBytes: Uint8Array): TorrentInfo {
  const d = decodeSpan(infoBytes, 0);
  if (d.end !== infoBytes.length) throw new TorrentError('trailing bytes after the info dictionary');
  const info = d.value;
  if (!(info instanceof Map)) throw new TorrentError('info is not a dictionary');
  const pieceLength = info.get('piece length');
  if (typeof pieceLength !== 'number' || pieceLength <= 0 || !Number.isSafeInteger(pieceLength)) throw new TorrentError('bad or missing piece length');
  const nameBytes = info.get('name');
  const name = nameBytes instanceof Uint8Array ? Buffer.from(nameBytes).toString('utf8') : '';
  const infoHashV1 = createHash('sha1').update(infoBytes).digest('hex');
  const metaVersion = info.get('meta version');
  const result: TorrentInfo = { name, infoHashV1, pieceLength, pieceCount: 0, totalLength: 0 };
  const pieces = info.get('pieces');
  if (pieces instanceof Uint8Array) {
    if (pieces.length % 20 !== 0) throw new TorrentError(`pieces is ${pieces.length} bytes, not a multiple of 20`);
    result.pieceHashes = pieces;
    result.pieceCount = pieces.length / 20;
    result.totalLength = v1Length(info);
    const expected = Math.ceil(result.totalLength / pieceLength);
    if (expected !== result.pieceCount) throw new TorrentError(`${result.pieceCount} piece hashes for ${result.totalLength} bytes in pieces of ${pieceLength} (expected ${expected})`);
  }
  if (metaVersion === 2) {
    result.infoHashV2 = createHash('sha256').update(infoBytes).digest('hex');
    const tree = info.get('file tree');
    if (!(tree instanceof Map)) throw new TorrentError('meta version 2 without a file tree');
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

function v1Length(info: Map<string, BValue>): number {
  const length = info.get('length');
  if (typeof length === 'number' && length >= 0) return length;
  const files = info.get('files');
  if (!Array.isArray(files)) throw new TorrentError('neither length nor files in info');
  let total = 0;
  for (const f of files) {
    const l = f instanceof Map ? f.get('length') : undefined;
    if (typeof l !== 'number' || l < 0) throw new TorrentError('a file without a valid length');
    total += l;
  }
  return total;
}

function walkFileTree(node: Map<string, BValue>, path: string[], out: TorrentFile[], depth: number): void {
  if (depth > MAX_DEPTH) throw new TorrentError('file tree too deep');
  for (const [key, child] of node) {
    if (!(child instanceof Map)) throw new TorrentError('file tree entry is not a dictionary');
    if (key === '') {
      const length = child.get('length');
      if (typeof length !== 'number' || length < 0) throw new TorrentError('v2 file without a valid length');
      const root = child.get('pieces root');
      const file: TorrentFile = { path: path.map((p) => Buffer.from(p, 'latin1').toString('utf8')).join('/'), length };
      if (root instanceof Uint8Array && root.length === 32) file.piecesRoot = root;
      out.push(file);
    } else {
      walkFileTree(child, [...path, key], out, depth + 1);
    }
  }
}

// A small strict bencode reader that also reports where each top-level dictionary value lies (the
// info hash is the hash of the info dictionary's exact bytes). Keys are latin1 strings. Bounded:
// recursion depth, integers, and string lengths checked against the input before any slicing.
type BValue = number | Uint8Array | BValue[] | Map<string, BValue>;

interface Decoded {
  value: BValue;
  end: number;
  /** For a dictionary: key -> [start, end) of its value. */
  spans: Map<string, [number, number]>;
}

export function decodeSpan(b: Uint8Array, at: number): Decoded {
  const spans = new Map<string, [number, number]>();
  const r = decodeAt(b, at, 0, spans);
  return { value: r[0], end: r[1], spans };
}

function decodeAt(b: Uint8Array, i: number, depth: number, spans?: Map<string, [number, number]>): [BValue, number] {
  if (depth > MAX_DEPTH) throw new TorrentError('nesting too deep');
  const c = b[i];
  if (c === undefined) throw new TorrentError(`truncated at offset ${i}`);
  if (c === 0x69) {
    const e = b.indexOf(0x65, i + 1);
    if (e < 0 || e - i > 22) throw new TorrentError(`bad integer at offset ${i}`);
    const text = Buffer.from(b.subarray(i + 1, e)).toString('latin1');
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new TorrentError(`bad integer at offset ${i}`);
    return [Number(text), e + 1];
  }
  if (c === 0x6c) {
    const list: BValue[] = [];
    let j = i + 1;
    while (b[j] !== 0x65) {
      if (j >= b.length) throw new TorrentError(`unterminated list at offset ${i}`);
      const [v, n] = decodeAt(b, j, depth + 1);
      list.push(v);
      j = n;
    }
    return [list, j + 1];
  }
  if (c === 0x64) {
    const dict = new Map<string, BValue>();
    let j = i + 1;
    while (b[j] !== 0x65) {
      if (j >= b.length) throw new TorrentError(`unterminated dictionary at offset ${i}`);
      const [k, afterKey] = decodeAt(b, j, depth + 1);
      if (!(k instanceof Uint8Array)) throw new TorrentError(`dictionary key is not a string at offset ${j}`);
      const [v, n] = decodeAt(b, afterKey, depth + 1);
      const key = Buffer.from(k).toString('latin1');
      dict.set(key, v);
      spans?.set(key, [afterKey, n]);
      j = n;
    }
    return [dict, j + 1];
  }
  if (c >= 0x30 && c <= 0x39) {
    const colon = b.indexOf(0x3a, i);
    if (colon < 0 || colon - i > 12) throw new TorrentError(`bad string length at offset ${i}`);
    const text = Buffer.from(b.subarray(i, colon)).toString('latin1');
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new TorrentError(`bad string length at offset ${i}`);
    const len = Number(text);
    if (colon + 1 + len > b.length) throw new TorrentError(`string of ${len} bytes at offset ${i} runs past the end`);
    return [b.subarray(colon + 1, colon + 1 + len), colon + 1 + len];
  }
  throw new TorrentError(`unexpected byte 0x${c.toString(16)} at offset ${i}`);
}

/** The 20-byte info hash a handshake carries for this torrent: v1 hash, or the truncated v2 hash. */
export function handshakeHashes(t: TorrentInfo): string[] {
  const out = [t.infoHashV1];
  if (t.infoHashV2 !== undefined) out.push(t.infoHashV2.slice(0, 40));
  return out;
}
