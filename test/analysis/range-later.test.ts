// Range checks judged when the piece count becomes known (issue 13 item 6): messages that passed
// while no count was known, or only a bitfield's bound, are checked when the metadata fetched with
// ut_metadata (verified against the info hash) gives it, each finding pointing at its message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseTorrent } from '../../src/analysis/torrent.js';
import { MAX_RANGE_LATER } from '../../src/analysis/conn-state.js';
import { Script, codes, frame, u32 } from './script.js';
import { benc } from './bencode-encode.js';
import type { MessageRecord } from '../../src/model/record.js';

const PL = 32768;

/** The info dict of 12 pieces, bencoded, and its info hash. */
function metadata(): { infoBytes: Uint8Array; hash: string; pieces: number } {
  const data = new Uint8Array(PL * 12);
  const hashes: Buffer[] = [];
  for (let i = 0; i < data.length; i += PL) hashes.push(createHash('sha1').update(data.subarray(i, i + PL)).digest());
  const info = { length: data.length, name: 'x.bin', 'piece length': PL, pieces: Buffer.concat(hashes) };
  const t = parseTorrent(benc({ announce: 'http://t/a', info }));
  return { infoBytes: benc(info), hash: t.infoHashV1!, pieces: t.pieceCount };
}

function start(hash: string): Script {
  const s = new Script();
  s.handshakes({ infoHash: hash });
  s.extHandshake('A', { ut_pex: 1, ut_metadata: 2, lt_donthave: 3 });
  s.extHandshake('B', { lt_donthave: 1, ut_metadata: 2 });
  return s;
}

function fetchMetadata(s: Script, infoBytes: Uint8Array) {
  const size = infoBytes.length;
  s.ext('B', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never);
  return s.ext('A', 2, 'ut_metadata', Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: size }), ...infoBytes]), { msg_type: 1, index: 0, total_size: size, trailing: size } as never);
}

test('lt_donthave 9999 and have/request/cancel/suggest/allowed_fast beyond the count, before the metadata: judged when it arrives', () => {
  const m = metadata();
  assert.equal(m.pieces, 12);
  const s = start(m.hash);
  // A 2-byte bitfield: a bound of 16 pieces, not the count.
  s.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff, 0xf0)));
  const early = [
    s.donthave('A', 1, 9999),
    s.send('A', { msg: 'have', piece: 13 }),
    s.send('B', { msg: 'request', piece: 14, begin: 0, length: 16384 }),
    s.send('B', { msg: 'cancel', piece: 14, begin: 0, length: 16384 }),
    s.send('A', { msg: 'suggest_piece', piece: 15 }),
    s.send('A', { msg: 'allowed_fast', piece: 11 }),
  ];
  // 9999 is beyond the bitfield's bound already; the others are within it and wait.
  assert.deepEqual(codes(early[0]!).filter((c) => c.endsWith('out-of-range')), ['donthave-out-of-range']);
  for (const f of early.slice(1)) assert.deepEqual(codes(f).filter((c) => c.endsWith('out-of-range')), []);
  const later = fetchMetadata(s, m.infoBytes).filter((f) => f.finding?.endsWith('out-of-range'));
  assert.deepEqual(
    later.map((f) => [f.finding, f.piece, f.late]),
    [
      ['piece-out-of-range', 13, true],
      ['piece-out-of-range', 14, true],
      ['piece-out-of-range', 14, true],
      ['piece-out-of-range', 15, true],
    ],
  );
  assert.match(later[0]!.message!, /^have for piece 13, beyond the 12 pieces known from the metadata fetched with ut_metadata \(learned after this message\)$/);
  // Each points at its own message.
  const have = s.out.find((r): r is MessageRecord => 'msg' in r && r.msg === 'have')!;
  assert.equal(later[0]!.ts, have.ts);
  assert.equal(later[0]!.src, have.src);
});

test('with no bitfield at all: lt_donthave 9999 is only donthave-not-announced until the metadata says it is out of range', () => {
  const m = metadata();
  const s = start(m.hash);
  assert.deepEqual(codes(s.donthave('A', 1, 9999)), ['donthave-not-announced']);
  s.send('A', { msg: 'have', piece: 3 });
  const later = fetchMetadata(s, m.infoBytes);
  assert.deepEqual(codes(later), ['donthave-out-of-range']);
  assert.equal(later[0]!.piece, 9999);
  assert.equal(later[0]!.late, true);
  // Judged once: a later message beyond the count is judged at once, not again.
  assert.deepEqual(codes(s.send('A', { msg: 'have', piece: 12 })), ['piece-out-of-range']);
  assert.deepEqual(codes(s.finish()).filter((c) => c.endsWith('out-of-range')), []);
});

test('bounded: only the highest indices are kept per connection', () => {
  const m = metadata();
  const s = start(m.hash);
  for (let p = 0; p < 1000; p++) s.send('A', { msg: 'have', piece: p }, frame(4, u32(p)));
  const later = fetchMetadata(s, m.infoBytes).filter((f) => f.finding === 'piece-out-of-range');
  assert.equal(later.length, MAX_RANGE_LATER);
  assert.deepEqual(later.map((f) => f.piece), Array.from({ length: MAX_RANGE_LATER }, (_, i) => 1000 - MAX_RANGE_LATER + i));
});
