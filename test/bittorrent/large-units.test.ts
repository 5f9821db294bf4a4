// Messages larger than the small unit buffer (256 KiB): their buffer is lent from one spare kept
// between units (direction.ts), so several large messages in a row, and two directions each in the
// middle of one at the same time, must still decode to exactly their own bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BtConnection } from '../../src/bittorrent/connection.js';
import type { AnyRecord, Dir, MessageRecord } from '../../src/model/record.js';
import type { FlowInfo } from '../../src/transport/types.js';
import { concat, extHandshake, handshake } from '../support/bt-bytes.js';

const A = '10.0.0.1:40000';
const B = '10.0.0.2:6881';

/** Extended handshakes whose `v` is `size` copies of one letter, a different letter each. */
function bigHandshakes(letters: string, size: number): Uint8Array {
  return concat(handshake(), ...[...letters].map((l) => extHandshake({ m: { lt_donthave: 2 }, v: l.repeat(size) })));
}

/** Feeds both directions in `chunk`-byte slices, alternating, so both are inside a large unit at once. */
function decodeInterleaved(streams: [Uint8Array, Uint8Array], chunk: number): MessageRecord[] {
  const records: AnyRecord[] = [];
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
  const conn = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 1, portHint: false });
  const offsets = [0, 0];
  let ts = 1;
  while (offsets[0]! < streams[0].length || offsets[1]! < streams[1].length) {
    for (const dir of [0, 1] as Dir[]) {
      const s = streams[dir];
      const off = offsets[dir]!;
      if (off >= s.length) continue;
      conn.data(dir, s.subarray(off, off + chunk), ts);
      offsets[dir] = off + chunk;
    }
    ts += 0.001;
  }
  conn.finish(ts);
  return records.filter((r): r is MessageRecord => 'msg' in r && r.ext === 'handshake');
}

test('large messages in a row, two directions at once, each decode to their own bytes (the spare buffer is lent to one at a time)', () => {
  const size = 300_000;
  const records = decodeInterleaved([bigHandshakes('abc', size), bigHandshakes('xyz', 2 * size)], 1448);
  const byDir = (src: string): string[] => records.filter((r) => r.src === src).map((r) => String((r as unknown as { v: unknown }).v));
  assert.deepEqual(
    byDir(A).map((v) => [v[0], v.length, new Set(v).size]),
    [...'abc'].map((l) => [l, size, 1]),
  );
  assert.deepEqual(
    byDir(B).map((v) => [v[0], v.length, new Set(v).size]),
    [...'xyz'].map((l) => [l, 2 * size, 1]),
  );
});

test('a large message fed in one piece, then in pieces, after a larger one: same records', () => {
  const streams = (): [Uint8Array, Uint8Array] => [bigHandshakes('pq', 400_000), bigHandshakes('r', 700_000)];
  // Per direction, in order; the v text summarised (first letter, length, distinct letters).
  const digest = (rs: MessageRecord[]): string[] =>
    rs.map((r) => {
      const v = String((r as unknown as { v: unknown }).v);
      return `${r.src} ${r.size} ${v[0]} ${v.length} ${new Set(v).size}`;
    }).sort();
  const whole = digest(decodeInterleaved(streams(), 1 << 22));
  assert.deepEqual(whole, [`${A} 400040 p 400000 1`, `${A} 400040 q 400000 1`, `${B} 700040 r 700000 1`]);
  assert.deepEqual(digest(decodeInterleaved(streams(), 1000)), whole);
});
