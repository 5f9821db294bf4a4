import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PieceState, RAW_KEEP, RecordStore } from '../../src/model/store.js';
import { compileFilter } from '../../src/model/filter.js';
import type { MessageRecord } from '../../src/model/record.js';
import { recordsOf, sampleStore, syntheticStore } from '../ui/fixtures.js';

test('raw bytes are copied and bounded', () => {
  const store = new RecordStore();
  const raw = new Uint8Array(20000).fill(7);
  store.add({ ts: 1, conn: 1, transport: 'tcp', src: 'a:1', dst: 'b:2', msg: 'piece', size: 20000, piece: 0, begin: 0 }, raw);
  raw.fill(9);
  const kept = store.raw(0)!;
  assert.equal(kept.bytes.length, RAW_KEEP);
  assert.equal(kept.total, 20000);
  assert.ok(kept.bytes.every((b) => b === 7));
});

test('lt_donthave index and n/N search respect the view', () => {
  const store = sampleStore();
  assert.deepEqual(store.donthave, [5, 9]);
  assert.equal(store.findDonthave(0, 1), 5);
  assert.equal(store.findDonthave(5, 1), 9);
  assert.equal(store.findDonthave(9, 1), -1);
  assert.equal(store.findDonthave(9, -1), 5);
  assert.equal(store.findDonthave(5, -1), -1);
  const f = compileFilter('piece == 0 or have');
  assert.ok(f.ok);
  store.setFilter(f.test);
  assert.deepEqual(store.view, [3, 9]);
  assert.equal(store.findDonthave(0, 1), 1);
});

test('the view grows incrementally and rebuilds on filter or connection change', () => {
  const store = new RecordStore();
  const f = compileFilter('lt_donthave');
  assert.ok(f.ok);
  store.setFilter(f.test);
  const base = { transport: 'tcp' as const, src: 'a:1', dst: 'b:2', size: 10 };
  store.add({ ...base, ts: 1, conn: 1, msg: 'have', piece: 1 } as MessageRecord);
  store.add({ ...base, ts: 2, conn: 2, msg: 'extended', ext: 'lt_donthave', extId: 3, piece: 1 } as MessageRecord);
  store.add({ ...base, ts: 3, conn: 1, msg: 'extended', ext: 'lt_donthave', extId: 3, piece: 1 } as MessageRecord);
  assert.deepEqual(store.view, [1, 2]);
  store.setConnection(1);
  assert.deepEqual(store.view, [2]);
  store.setFilter(undefined);
  assert.deepEqual(store.view, [0, 2]);
  store.add({ ...base, ts: 4, conn: 2, msg: 'have', piece: 1 } as MessageRecord);
  assert.deepEqual(store.view, [0, 2]);
});

test('piece map follows bitfield, have and lt_donthave up to the selected record', () => {
  const store = sampleStore();
  const info = store.connectionInfo(1)!;
  assert.equal(info.pieces, 8);
  assert.deepEqual(info.extensions[1], ['lt_donthave']);
  assert.equal(info.client[1], 'evil\\x1b]0;pwned\\x07');
  const states = (upTo: number) => Array.from(store.pieceMap(1, upTo)!.sides[1].state);
  const { Have: H, Missing: M, Lost: L } = PieceState;
  assert.deepEqual(states(1), [M, M, M, M, M, M, M, M]);
  assert.deepEqual(states(2), [H, H, H, M, M, M, M, M]);
  assert.deepEqual(states(3), [H, H, H, M, M, H, M, M]);
  assert.deepEqual(states(5), [H, H, L, M, M, H, M, M]);
  assert.deepEqual(states(9), [L, H, L, M, M, H, M, M]);
  assert.deepEqual(Array.from(store.pieceMap(1, 9)!.sides[0].state), [M, M, M, M, M, M, M, M]);
});

test('1,000,000 records: filter, donthave search and piece-map checkpoints give the answers a straight pass gives (times: npm run bench -- --only keys)', () => {
  const store = syntheticStore(1_000_000);
  const f = compileFilter('piece < 100 and conn == 3');
  assert.ok(f.ok);
  store.setFilter(f.test);
  const expected = recordsOf(store).flatMap((r, i) => ('msg' in r && r.conn === 3 && r.piece !== undefined && r.piece < 100 ? [i] : []));
  assert.deepEqual(store.view, expected);
  // n from the top: the first lt_donthave in the view, then the next.
  const donthaveAt = expected.findIndex((i) => (store.record(i) as { ext?: string }).ext === 'lt_donthave');
  assert.equal(store.findDonthave(-1, 1), donthaveAt);
  store.setFilter(undefined);
  assert.equal(store.view.length, 1_000_000);
  assert.equal(store.findDonthave(0, 1), 999);
  // Checkpoints give the same answer as a straight replay.
  const fresh = syntheticStore(20_000);
  const direct = fresh.pieceMap(3, 19_000)!.sides[0].state.slice();
  fresh.pieceMap(3, 19_999);
  assert.deepEqual(fresh.pieceMap(3, 19_000)!.sides[0].state, direct);
});

test('records added while a filter is in force are in the view once it is cleared, and only once', () => {
  const store = new RecordStore();
  const base = { transport: 'tcp' as const, src: 'a:1', dst: 'b:2', size: 9, msg: 'have' as const };
  store.add({ ...base, ts: 1, conn: 1, piece: 1 });
  const f = compileFilter('piece == 2');
  assert.ok(f.ok);
  store.setFilter(f.test);
  store.add({ ...base, ts: 2, conn: 1, piece: 2 });
  store.add({ ...base, ts: 3, conn: 1, piece: 3 });
  assert.deepEqual(store.view, [1]);
  store.setFilter(undefined);
  assert.deepEqual(store.view, [0, 1, 2]);
  store.add({ ...base, ts: 4, conn: 1, piece: 4 });
  assert.deepEqual(store.view, [0, 1, 2, 3]);
  store.setConnection(1);
  store.setConnection(undefined);
  assert.deepEqual(store.view, [0, 1, 2, 3]);
});
