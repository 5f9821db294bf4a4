// Piece hashing as blocks arrive (issue 15): which pieces are judged and what they are found to be
// must be what they were when whole pieces were buffered, copied and hashed at the end. Real
// captures are run through the pipeline beside an oracle that does exactly that (the old code, kept
// here); hand-built blocks cover the edge cases: in order, out of order, duplicates, overlaps, a bad
// piece, a piece with a block lost in a gap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Pipeline } from '../../src/pipeline.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { PieceVerifier, merkleRoot, verifyPiece } from '../../src/analysis/piece-verification.js';
import { blockLength, newConn, type Conn } from '../../src/analysis/conn-state.js';
import { loadTorrent, parseTorrent, type TorrentInfo } from '../../src/analysis/torrent.js';
import type { AnyRecord, EventRecord, MessageRecord } from '../../src/model/record.js';
import { Script, codes, pieceRaw } from './script.js';
import { benc } from './bencode-encode.js';
import { V2_PIECE_LENGTH, v2Torrent } from './v2-torrent.js';

/** The old verifier: whole pieces buffered by begin offset, hashed once the blocks tile the piece exactly. */
class Oracle {
  private readonly pieces = new Map<string, { data: Uint8Array; blocks: Map<number, number>; filled: number }>();
  readonly verdicts: string[] = [];
  add(info: TorrentInfo, side: string, r: MessageRecord, raw: Uint8Array | undefined): void {
    const { piece, begin } = r;
    const length = blockLength(r);
    if (piece === undefined || begin === undefined || length === undefined || raw === undefined || raw.length < 13 + length) return;
    if (info.pieceHashes === undefined || piece >= info.pieceCount) return;
    const plen = piece === info.pieceCount - 1 ? info.totalLength - info.pieceLength * piece : info.pieceLength;
    if (begin + length > plen) return;
    const key = `${side} ${piece}`;
    let buf = this.pieces.get(key);
    if (buf === undefined) this.pieces.set(key, (buf = { data: new Uint8Array(plen), blocks: new Map(), filled: 0 }));
    if (buf.blocks.has(begin)) return;
    buf.data.set(raw.subarray(13, 13 + length), begin);
    buf.blocks.set(begin, length);
    buf.filled += length;
    let pos = 0;
    for (const b of [...buf.blocks.keys()].sort((x, y) => x - y)) pos = b === pos ? pos + buf.blocks.get(b)! : -1;
    if (buf.filled < plen || pos !== plen) return;
    this.pieces.delete(key);
    this.verdicts.push(`piece ${piece} from ${side} (all ${buf.blocks.size} blocks in the capture, ${plen} bytes): ${verifyPiece(info, piece, buf.data) ?? 'ok'}`);
  }
}

/** A real capture through the pipeline and the analyzer, the oracle fed the same piece messages; `tamper` may change one block's bytes. */
function run(path: string, torrent: TorrentInfo, tamper?: (r: MessageRecord, raw: Uint8Array) => Uint8Array) {
  const findings: EventRecord[] = [];
  const analyzer = new Analyzer((r: AnyRecord) => void ('event' in r && r.event === 'finding' && r.finding === 'hash-mismatch' && findings.push(r)), { torrent });
  const oracle = new Oracle();
  const pipeline = new Pipeline((r, raw, where, context) => {
    if ('msg' in r && r.msg === 'piece' && raw !== undefined && tamper !== undefined) raw = tamper(r, raw);
    if ('msg' in r && r.msg === 'piece') oracle.add(torrent, r.src, r, raw);
    analyzer.record(r, raw, where, context);
  });
  pipeline.push(readFileSync(path));
  pipeline.end();
  analyzer.finish();
  return { findings, stats: analyzer.stats(), oracle };
}

// Real captures with whole multi-block or single-block pieces, lossy links and uTP among them.
const REAL = ['lt-sample', 'lossy-sample', 'wt-sample', 'lt-lossy4', 'lt-utp-lossy', 'wt-lossy6', 'lt-magnet', 'utp-sample'];

for (const name of REAL) {
  test(`${name}: the pieces judged and their verdicts are the whole-piece oracle's`, { skip: !existsSync(`samples/${name}.pcap`) && 'capture missing' }, async () => {
    const torrent = await loadTorrent(`samples/${name}.torrent`);
    const { findings, stats, oracle } = run(`samples/${name}.pcap`, torrent);
    assert.ok(oracle.verdicts.length > 0, 'the capture carries whole pieces');
    assert.equal(stats.piecesVerified, oracle.verdicts.length);
    assert.deepEqual(findings, []);
    assert.ok(oracle.verdicts.every((v) => v.endsWith(': ok')));
  });
}

test('lt-sample with one byte of one block flipped: exactly that piece is found wrong, with the oracle\'s words', { skip: !existsSync('samples/lt-sample.pcap') && 'capture missing' }, async () => {
  const torrent = await loadTorrent('samples/lt-sample.torrent');
  let n = 0;
  let target: number | undefined;
  const { findings, stats, oracle } = run('samples/lt-sample.pcap', torrent, (r, raw) => {
    // The 5th block in the capture (of a piece of several blocks), one byte in its middle.
    if (++n !== 5) return raw;
    target = r.piece;
    const copy = raw.slice();
    copy[13 + 100] = copy[13 + 100]! ^ 0x40;
    return copy;
  });
  assert.ok(torrent.pieceLength > 16384, 'lt-sample pieces span several blocks');
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.piece, target);
  const bad = oracle.verdicts.filter((v) => !v.endsWith(': ok'));
  assert.equal(bad.length, 1);
  assert.equal(findings[0]!.message, bad[0]);
  assert.equal(stats.piecesVerified, oracle.verdicts.length);
});

// ---- hand-built blocks ----------------------------------------------------------------------------

const PL = 65536;
const DATA = Uint8Array.from({ length: PL * 3 }, (_, i) => (i * 13 + (i >> 9)) & 0xff);
const INFO = parseTorrent(
  benc({
    announce: 'http://t/a',
    info: { length: DATA.length, name: 'x.bin', 'piece length': PL, pieces: Buffer.concat([0, 1, 2].map((p) => createHash('sha1').update(DATA.subarray(p * PL, (p + 1) * PL)).digest())) },
  }),
);

/** A connection with INFO known; send(piece, begin, length, data?) feeds one piece message from B. */
function verifier() {
  const found: string[] = [];
  const v = new PieceVerifier((_c, code, _at, message) => void found.push(`${code}: ${message}`));
  const c: Conn = newConn(1, 'tcp', 'A', 'B', 0);
  c.info = INFO;
  const side = c.sides[1];
  const send = (piece: number, begin: number, length: number, data = DATA.subarray(piece * PL + begin, piece * PL + begin + length)) => {
    const r = { msg: 'piece', piece, begin, length, conn: 1, transport: 'tcp', src: 'B', dst: 'A', ts: 0, size: 13 + length } as unknown as MessageRecord;
    v.add(c, side, r, pieceRaw(piece, begin, data), { ts: 0, src: 'B', dst: 'A' });
  };
  return { v, send, found, side };
}

const K16 = 16384;

test('blocks in order are hashed as they come: nothing is held, the piece is judged at its last block', () => {
  const { v, send, found } = verifier();
  for (let b = 0; b < PL; b += K16) {
    send(0, b, K16);
    assert.equal(v.heldBytes, 0);
  }
  assert.equal(v.verified, 1);
  assert.deepEqual(found, []);
});

test('blocks out of order are held until the hashed prefix reaches them, then released', () => {
  const { v, send, found } = verifier();
  send(1, 3 * K16, K16);
  send(1, K16, K16);
  assert.equal(v.heldBytes, 2 * K16);
  send(1, 2 * K16, K16);
  assert.equal(v.heldBytes, 3 * K16);
  assert.equal(v.verified, 0);
  send(1, 0, K16);
  assert.equal(v.heldBytes, 0);
  assert.equal(v.verified, 1);
  assert.deepEqual(found, []);
});

test('duplicate blocks are ignored (the first copy counts), hashed or held; blocks of other sizes too', () => {
  const { v, send, found } = verifier();
  const junk = new Uint8Array(K16).fill(7);
  send(2, 0, 8192);
  send(2, 0, K16, junk); // same begin: ignored
  send(2, 8192, 8192);
  send(2, 8192, 8192, junk.subarray(0, 8192)); // hashed already: ignored
  send(2, 3 * K16, K16);
  send(2, 3 * K16, K16, junk); // held already: ignored
  assert.equal(v.heldBytes, K16);
  send(2, K16, K16);
  send(2, 2 * K16, K16);
  assert.equal(v.verified, 1);
  assert.deepEqual(found, []);
});

test('a bad piece: hash-mismatch naming its blocks and both hashes, in order and out of order', () => {
  for (const order of [[0, 1, 2, 3], [3, 2, 1, 0]]) {
    const { v, send, found } = verifier();
    const wrong = DATA.slice(0, PL);
    wrong[40000] = wrong[40000]! ^ 1;
    for (const i of order) send(0, i * K16, K16, wrong.subarray(i * K16, (i + 1) * K16));
    assert.equal(v.verified, 1);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^hash-mismatch: piece 0 from B \(all 4 blocks in the capture, 65536 bytes\): SHA-1 [0-9a-f]{40}, the torrent says [0-9a-f]{40}$/);
    assert.equal(v.heldBytes, 0);
  }
});

test('a block overlapping others: the piece is never judged (as when whole pieces were buffered), its held blocks are freed', () => {
  const { v, send } = verifier();
  send(0, 2 * K16, K16);
  send(0, 0, K16);
  send(0, 8192, K16); // overlaps the first block
  assert.equal(v.heldBytes, 0);
  send(0, K16, K16);
  send(0, 3 * K16, K16);
  assert.equal(v.verified, 0);
  // a held block that the prefix passes over is an overlap too
  const other = verifier();
  other.send(1, 2 * K16 + 100, 1000);
  other.send(1, 0, K16);
  other.send(1, K16, 2 * K16);
  assert.equal(other.v.heldBytes, 0);
  other.send(1, 3 * K16, K16);
  assert.equal(other.v.verified, 0);
});

test('a piece with a block lost in a gap is not judged; the pieces after it are, and release frees what was held', () => {
  const { v, send, side } = verifier();
  send(0, 0, K16);
  send(0, 2 * K16, K16); // block 1 never came (lost in a gap)
  send(0, 3 * K16, K16);
  for (let b = 0; b < PL; b += K16) send(1, b, K16);
  assert.equal(v.verified, 1);
  assert.equal(v.heldBytes, 2 * K16);
  v.release(side);
  assert.equal(v.heldBytes, 0);
  assert.equal(side.pieces.size, 0);
});

test('through the analyzer: a capture-style gap inside a piece leaves it unjudged, the next piece is checked', () => {
  const s = new Script({ torrent: INFO });
  s.handshakes({ infoHash: INFO.infoHashV1 });
  const block = (piece: number, begin: number, data = DATA.subarray(piece * PL + begin, piece * PL + begin + K16)) =>
    s.send('B', { msg: 'piece', piece, begin, length: data.length }, pieceRaw(piece, begin, data));
  block(0, 0);
  block(0, K16);
  s.event({ event: 'gap', bytes: 2 * K16 } as never);
  const wrong = DATA.slice(PL, 2 * PL);
  wrong[5] = wrong[5]! ^ 1;
  for (let b = 0; b < PL; b += K16) {
    const f = block(1, b, wrong.subarray(b, b + K16));
    assert.deepEqual(codes(f), b === PL - K16 ? ['hash-mismatch'] : []);
  }
  assert.equal(s.analyzer.stats().piecesVerified, 1);
});

/** BEP 52's merkle root the plain way (the code before hashing as bytes come): leaves of 16 KiB, zero-padded tree. */
function merkleReference(data: Uint8Array, leaves: number): string {
  let level: Buffer[] = [];
  for (let i = 0; i < data.length; i += K16) level.push(createHash('sha256').update(data.subarray(i, i + K16)).digest());
  if (level.length === 0) level.push(Buffer.alloc(32));
  while (level.length < leaves) level.push(Buffer.alloc(32));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(createHash('sha256').update(level[i]!).update(level[i + 1] ?? Buffer.alloc(32)).digest());
    level = next;
  }
  return level[0]!.toString('hex');
}

test('merkle roots hashed as the bytes come, in any slices, are the plain computation\'s', () => {
  for (const length of [0, 1, K16 - 1, K16, K16 + 1, 5 * K16 + 7]) {
    const data = DATA.subarray(0, length);
    const leaves = Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(length / K16)))));
    assert.equal(merkleRoot(data, leaves), merkleReference(data, leaves), `${length} bytes`);
    assert.equal(merkleRoot(data, 8), merkleReference(data, 8));
  }
});

test('a v2 piece sent in 5000-byte blocks, out of order: checked against its piece layer; a flipped byte is found', () => {
  const { torrent, big } = v2Torrent();
  const L = V2_PIECE_LENGTH;
  for (const flip of [false, true]) {
    const found: string[] = [];
    const v = new PieceVerifier((_c, code, _at, message) => void found.push(`${code}: ${message}`));
    const c: Conn = newConn(1, 'tcp', 'A', 'B', 0);
    c.info = torrent;
    const data = big.slice(L, 2 * L);
    if (flip) data[L - 1] = data[L - 1]! ^ 1;
    const begins: number[] = [];
    for (let b = 0; b < L; b += 5000) begins.push(b);
    for (const b of [...begins.slice(1), begins[0]!]) {
      const part = data.subarray(b, Math.min(L, b + 5000));
      const r = { msg: 'piece', piece: 1, begin: b, length: part.length, conn: 1, transport: 'tcp', src: 'B', dst: 'A', ts: 0, size: 13 + part.length } as unknown as MessageRecord;
      v.add(c, c.sides[1], r, pieceRaw(1, b, part), { ts: 0, src: 'B', dst: 'A' });
    }
    assert.equal(v.verified, 1);
    assert.equal(v.heldBytes, 0);
    assert.deepEqual(found.map((f) => f.replace(/[0-9a-f]{64}/g, 'H')), flip ? ['hash-mismatch: piece 1 from B (all 7 blocks in the capture, 32768 bytes): merkle root H, the piece layer says H'] : []);
  }
});
