// A v2-only torrent for the hash checks: a.bin of 2 pieces + 5000 bytes (pieces 0-2, checked against
// the piece layer), b.bin of 20000 bytes (piece 3, checked against its pieces root).
import { parseTorrent, type TorrentInfo } from '../../src/analysis/torrent.js';
import { merkleRoot } from '../../src/analysis/piece-verification.js';
import { benc } from './bencode-encode.js';

export const V2_PIECE_LENGTH = 32768;

export function v2Torrent(): { torrent: TorrentInfo; big: Uint8Array; small: Uint8Array; infoBytes: Uint8Array; layer: Buffer[]; bigRoot: Buffer } {
  const PL = V2_PIECE_LENGTH;
  const big = Uint8Array.from({ length: PL * 2 + 5000 }, (_, i) => (i * 7 + (i >> 12)) & 0xff);
  const small = Uint8Array.from({ length: 20000 }, (_, i) => (i * 13) & 0xff);
  const layer = [0, 1, 2].map((p) => Buffer.from(merkleRoot(big.subarray(p * PL, (p + 1) * PL), PL / 16384), 'hex'));
  const bigRoot = Buffer.from(merkleRoot(big, 8), 'hex');
  const smallRoot = Buffer.from(merkleRoot(small, 2), 'hex');
  const info = {
    'file tree': { 'a.bin': { '': { length: big.length, 'pieces root': bigRoot } }, 'b.bin': { '': { length: small.length, 'pieces root': smallRoot } } },
    'meta version': 2,
    name: 'v2',
    'piece length': PL,
  };
  const torrent = parseTorrent(benc({ info, 'piece layers': { [bigRoot.toString('latin1')]: Buffer.concat(layer) } }));
  return { torrent, big, small, infoBytes: benc(info), layer, bigRoot };
}
