// The piece map from checkpoints taken as records arrive (piece-replay.ts) must be the map a replay
// from the connection's first message gives, at every record: on every real sample with checkpoints
// after every message and every third one (each record a boundary or next to one), and after Decode
// As names stored messages lt_donthave (the checkpoints after them are taken again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodeCapture } from '../../src/inspect.js';
import { PieceHoldings } from '../../src/analysis/piece-state.js';
import { RecordStore } from '../../src/model/store.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';

const SAMPLES = readdirSync('samples').filter((f) => /\.pcap(ng)?$/.test(f));

/** At every record, each connection's map as a replay from the start gives it (PieceHoldings fed in order). */
function assertMapsMatchReplay(store: RecordStore, label: string): number {
  const sides = new Map<number, { addr0: string; sides: [PieceHoldings, PieceHoldings] }>();
  let compared = 0;
  for (let i = 0; i < store.size; i++) {
    const r = store.record(i) as AnyRecord;
    if (!('msg' in r)) continue;
    let c = sides.get(r.conn);
    if (c === undefined) sides.set(r.conn, (c = { addr0: store.connectionInfo(r.conn)!.addr[0], sides: [new PieceHoldings(), new PieceHoldings()] }));
    c.sides[r.src === c.addr0 ? 0 : 1].apply(r as MessageRecord, store.raw(i)?.bytes);
    const n = store.connectionInfo(r.conn)!.pieces;
    const map = store.pieceMap(r.conn, i)!;
    assert.deepEqual([map.sides[0].state, map.sides[1].state], [c.sides[0].states(n), c.sides[1].states(n)], `${label}: conn ${r.conn} at record ${i}`);
    compared++;
  }
  return compared;
}

for (const name of SAMPLES) {
  test(`${name}: the piece map from checkpoints equals a replay from the start at every record`, async () => {
    for (const spacing of [1, 3]) {
      const store = new RecordStore({ checkpointSpacing: spacing });
      await decodeCapture(`samples/${name}`, store.add);
      const compared = assertMapsMatchReplay(store, `${name}, a checkpoint every ${spacing}`);
      assert.ok(compared > 0);
      // Checkpoints were taken (so the maps above came from them, not from the start).
      const conns = store.connections().map((c) => store.pieceCheckpoints(c.conn));
      assert.ok(conns.some((n) => n > 0), `${name}: checkpoints ${conns.join(',')}`);
    }
  });
}

test('Decode As naming stored messages lt_donthave: the maps after them follow, from checkpoints taken again', () => {
  const store = new RecordStore({ checkpointSpacing: 2 });
  const A = '10.0.0.1:1';
  const B = '10.0.0.2:2';
  const base = { conn: 1, transport: 'tcp' as const };
  for (let i = 0; i < 40; i++) {
    const ts = i;
    if (i % 5 === 4) {
      // An unresolved extended message with id 7: its payload is an lt_donthave of piece i % 16.
      const payload = [7, 0, 0, 0, i % 16];
      store.add({ ...base, ts, src: B, dst: A, msg: 'extended', size: 10, ext: null, extId: 7 } as MessageRecord, Uint8Array.from([0, 0, 0, 6, 20, ...payload]));
    } else {
      store.add({ ...base, ts, src: B, dst: A, msg: 'have', size: 9, piece: i % 16 } as MessageRecord, Uint8Array.from([0, 0, 0, 5, 4, 0, 0, 0, i % 16]));
    }
  }
  const lostBefore = store.pieceMap(1, store.size - 1)!.sides[0].state.filter((s) => s === 2).length;
  assert.equal(lostBefore, 0);
  const named = store.decodeAs(1, A, 7, 'lt_donthave', (p) => ({ piece: (p[3] ?? 0) }));
  assert.equal(named, 8);
  assert.ok(store.pieceMap(1, store.size - 1)!.sides[0].state.some((s) => s === 2), 'a piece is shown lost');
  assertMapsMatchReplay(store, 'after Decode As');
  // The maps above came from checkpoints taken again after the renamed messages.
  assert.ok(store.pieceCheckpoints(1) > 2, `${store.pieceCheckpoints(1)} checkpoints`);
});
