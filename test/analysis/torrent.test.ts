// .torrent parsing: v1, v2 and hybrid samples; info hashes; bad files give one clear line, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTorrent, parseTorrent, TorrentError, handshakeHashes } from '../../src/analysis/torrent.js';
import { merkleRoot, verifyPiece } from '../../src/analysis/piece-verification.js';
import { benc } from './bencode-encode.js';
import { v2Torrent, V2_PIECE_LENGTH } from './v2-torrent.js';

test('v1 sample: info hash, piece geometry and hashes', async () => {
  const t = await loadTorrent('samples/wt-sample.torrent');
  assert.equal(t.infoHashV1, '426fc2b540660157b34cb0cea717398023ba9929');
  assert.equal(t.pieceLength, 32768);
  assert.equal(t.pieceCount, 12);
  assert.equal(t.totalLength, 393216);
  assert.equal(t.pieceHashes?.length, 240);
  assert.equal(t.infoHashV2, undefined);
});

test('hybrid sample (libtorrent): v1 and v2 hashes, file tree, piece layers', async () => {
  const t = await loadTorrent('samples/lt-sample.torrent');
  assert.equal(t.infoHashV1, 'f76fee44c5371689d9211f7bf6d2e29d6bc8fc2a');
  assert.equal(t.infoHashV2, 'f8a531813d44e705eab1ded94a40a0fddcbb808b73c13fbd98dcd39653176a64');
  assert.equal(t.pieceCount, 32);
  assert.deepEqual(t.v2Files?.map((f) => [f.path, f.length, f.firstPiece]), [['data.bin', 1048576, 0]]);
  const root = Buffer.from(t.v2Files![0]!.piecesRoot!).toString('hex');
  assert.equal(t.pieceLayers?.get(root)?.length, 32 * 32);
  assert.deepEqual(handshakeHashes(t), [t.infoHashV1, t.infoHashV2!.slice(0, 40)]);
});

test('v2-only torrent: pieces per file, merkle roots verified against piece layers and pieces root', () => {
  const PL = V2_PIECE_LENGTH;
  const { torrent: t, big, small, infoBytes, layer, bigRoot } = v2Torrent();
  assert.equal(rootOfLayer(layer), bigRoot.toString('hex'), 'the piece layer hashes up to the file root');
  assert.equal(t.pieceHashes, undefined);
  assert.equal(t.pieceCount, 4);
  assert.equal(t.infoHashV2, createHash('sha256').update(infoBytes).digest('hex'));
  assert.equal(verifyPiece(t, 1, big.subarray(PL, 2 * PL)), undefined);
  assert.equal(verifyPiece(t, 2, big.subarray(2 * PL)), undefined);
  assert.equal(verifyPiece(t, 3, small), undefined);
  const bad = small.slice();
  bad[0] = (bad[0] ?? 0) ^ 1;
  assert.match(verifyPiece(t, 3, bad) ?? '', /merkle root [0-9a-f]{64}, the file's pieces root is/);
  assert.match(verifyPiece(t, 0, big.subarray(PL, 2 * PL)) ?? '', /the piece layer says/);
});

/** Root over piece-layer hashes (the layer padded with zero hashes to a power of two). */
function rootOfLayer(layer: Buffer[]): string {
  let level = [...layer];
  while (level.length & (level.length - 1)) level.push(Buffer.alloc(32));
  // pad hashes for a 2-leaf piece subtree: hash(zero, zero)
  const padPiece = createHash('sha256').update(Buffer.alloc(64)).digest();
  level = level.map((h, i) => (i < layer.length ? h : padPiece));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]!).update(level[i + 1]!).digest());
    level = next;
  }
  return level[0]!.toString('hex');
}

test('bad torrents: one-line errors, never a crash or a huge allocation', async () => {
  const good = readFileSync('samples/wt-sample.torrent');
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['junk', Buffer.from('hello world')],
    ['not a dict', benc([1, 2])],
    ['no info', benc({ announce: 'x' })],
    ['huge string length', Buffer.from('d4:info999999999999:')],
    ['trailing', Buffer.concat([good, Buffer.from('x')])],
    ['bad pieces', benc({ info: { length: 10, name: 'a', 'piece length': 16384, pieces: Buffer.alloc(19) } })],
    ['deep', Buffer.from('l'.repeat(100000))],
  ];
  for (let cut = 0; cut < good.length; cut += 97) cases.push([`truncated at ${cut}`, good.subarray(0, cut)]);
  for (const [what, bytes] of cases) {
    assert.throws(() => parseTorrent(bytes), (e: unknown) => e instanceof TorrentError && !e.message.includes('\n'), what);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-torrent-'));
  writeFileSync(join(dir, 'bad.torrent'), 'junk');
  await assert.rejects(loadTorrent(join(dir, 'bad.torrent')), /bad\.torrent: not a valid \.torrent: /);
  await assert.rejects(loadTorrent(join(dir, 'missing.torrent')), /missing\.torrent: no such file/);
  await assert.rejects(loadTorrent(dir), /not a file/);
});
