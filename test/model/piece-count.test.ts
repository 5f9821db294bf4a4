// The piece map's size on a real capture (wt-sample: the leechers fetch the 12-piece metadata with
// ut_metadata, and the seeder's bitfield is 2 bytes, a bound of 16): once the metadata is verified
// the map has the metadata's 12 pieces, not the bitfield's 16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCapture } from '../../src/inspect.js';
import { RecordStore } from '../../src/model/store.js';

test('wt-sample: the piece map uses the metadata\'s piece count once known', async () => {
  const store = new RecordStore();
  const told: Array<[number, number]> = [];
  await decodeCapture('samples/wt-sample.pcap', store.add, {
    onPieceCount: (conn, count) => {
      told.push([conn, count]);
      store.setPieceCount(conn, count);
    },
  });
  assert.deepEqual(told, [[1, 12], [2, 12]]);
  for (const conn of [1, 2]) {
    assert.equal(store.connectionInfo(conn)?.pieces, 12);
    assert.equal(store.pieceMap(conn, store.size - 1)?.pieces, 12);
  }
  // Without it (a bitfield's bound): 16.
  const guess = new RecordStore();
  await decodeCapture('samples/wt-sample.pcap', guess.add);
  assert.equal(guess.connectionInfo(1)?.pieces, 16);
});
