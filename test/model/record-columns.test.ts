// The UI store's columns (src/model/record-columns.ts): every record of real captures comes back
// equal to the one stored, keys in the same order; the columns grow by doubling; strings are
// interned; records that fit no shape stay objects and still come back equal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCapture } from '../../src/inspect.js';
import { RecordColumns } from '../../src/model/record-columns.js';
import { CHUNK_ROWS, Column, Interner, i32 } from '../../src/model/columns.js';
import { RecordStore } from '../../src/model/store.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';

const SAMPLES = ['wt-sample.pcap', 'lt-sample.pcap', 'utp-sample.pcap', 'misbehave.pcap', 'lt-encrypted.pcap', 'wt-dumpcap.pcapng', 'rt-stall.pcap'];

for (const name of SAMPLES) {
  test(`${name}: every record rebuilt from the columns equals the original, keys in order`, async () => {
    const originals: AnyRecord[] = [];
    const store = new RecordStore();
    await decodeCapture(`samples/${name}`, (r, raw, where) => {
      // A deep copy: the store must not lean on the object it was given.
      originals.push(structuredClone(r));
      store.add(r, raw, where);
    });
    assert.ok(originals.length > 50, `${name} has records`);
    assert.equal(store.size, originals.length);
    for (let i = 0; i < originals.length; i++) {
      const back = store.record(i);
      assert.deepStrictEqual(back, originals[i], `record ${i}`);
      assert.equal(JSON.stringify(back), JSON.stringify(originals[i]), `record ${i} key order`);
      assert.equal(store.ts(i), originals[i]!.ts);
    }
  });
}

test('columns grow a chunk at a time, never copied, and keep every value', () => {
  const c = i32();
  const n = CHUNK_ROWS * 2 + 1000;
  for (let i = 0; i < n; i++) c.push(i * 7 - 3);
  assert.equal(c.length, n);
  assert.equal(c.chunks.length, 3);
  const first = c.chunks[0];
  for (let i = 0; i < n; i++) assert.equal(c.get(i), i * 7 - 3);
  assert.equal(c.get(n), undefined);
  assert.equal(c.get(-1), undefined);
  c.set(CHUNK_ROWS + 5, 42);
  assert.equal(c.get(CHUNK_ROWS + 5), 42);
  c.push(1);
  assert.equal(c.chunks[0], first, 'the first chunk is the same array');
  const f = new Column((k) => new Float64Array(k));
  f.push(0.5);
  assert.equal(f.chunks[0]!.length, CHUNK_ROWS);
  assert.equal(f.get(0), 0.5);
});

test('the record columns past a chunk boundary: every row comes back', () => {
  const cols = new RecordColumns();
  const n = CHUNK_ROWS + 300;
  for (let i = 0; i < n; i++) cols.push({ ts: i / 10, frame: i + 1, conn: i % 5, transport: 'tcp', src: `a:${i % 3}`, dst: 'b:2', msg: 'have', size: 9, piece: i });
  assert.equal(cols.length, n);
  for (const i of [0, CHUNK_ROWS - 1, CHUNK_ROWS, n - 1]) {
    assert.deepStrictEqual(cols.get(i), { ts: i / 10, frame: i + 1, conn: i % 5, transport: 'tcp', src: `a:${i % 3}`, dst: 'b:2', msg: 'have', size: 9, piece: i });
    assert.equal(cols.ts(i), i / 10);
    assert.equal(cols.conn(i), i % 5);
  }
  assert.equal(cols.get(n), undefined);
});

test('strings are interned: one copy, one id each', () => {
  const s = new Interner();
  const a = s.id('10.0.0.1:6881');
  assert.equal(s.id('10.0.0.1:6881'), a);
  assert.notEqual(s.id('10.0.0.2:6881'), a);
  assert.equal(s.find('nope'), -1);
  assert.equal(s.strings.length, 2);
  assert.equal(s.string(a), '10.0.0.1:6881');
});

test('many messages share a few shapes; odd values keep the record an object', () => {
  const cols = new RecordColumns();
  const base = { ts: 1.5, conn: 1, transport: 'tcp', src: 'a:1', dst: 'b:2' } as const;
  const have: MessageRecord = { ...base, frame: 3, msg: 'have', size: 9, piece: 4 };
  const rows = [
    have,
    { ...have, piece: -0 },
    { ...have, piece: 2 ** 31 },
    { ...have, frame: undefined },
    { ...have, resync: true },
    { ...base, msg: 'extended', size: 10, ext: null, extId: 9, payloadLength: 4, probably: 'lt_donthave', probablyWhy: 'fits' },
    { ...base, msg: 'extended', size: 10, ext: 'x'.repeat(100), extId: 9 },
    { ...base, msg: 'handshake', size: 68, extensions: ['fast'] },
    { ts: 2, event: 'warning', message: 'bad packet', offset: 24 },
  ] as AnyRecord[];
  for (const r of rows) cols.push(r);
  for (let k = 0; k < 100_000; k++) cols.push({ ...have, piece: k });
  for (let i = 0; i < rows.length; i++) assert.deepStrictEqual(cols.get(i), rows[i], `row ${i}`);
  assert.deepStrictEqual(cols.get(rows.length + 77_777), { ...have, piece: 77_777 });
  assert.equal(cols.get(cols.length), undefined);
  assert.equal(cols.conn(rows.length - 1), -1, 'a warning has no connection');
  assert.ok(Number.isNaN(new RecordStore().ts(0) ?? NaN));
});

test('Decode As replaces a row: it comes back renamed', () => {
  const store = new RecordStore();
  const r: MessageRecord = { ts: 1, conn: 1, transport: 'tcp', src: 'a:1', dst: 'b:2', msg: 'extended', size: 10, ext: null, extId: 9 };
  store.add(r, Uint8Array.of(0, 0, 0, 6, 20, 9, 0, 0, 0, 7));
  assert.equal(store.decodeAs(1, 'b:2', 9, 'lt_donthave', (p) => ({ piece: new DataView(p.buffer, p.byteOffset).getUint32(0) })), 1);
  assert.deepStrictEqual(store.record(0), { ...r, ext: 'lt_donthave', mappingFrom: 'Decode As (in the terminal UI)', piece: 7 });
  assert.deepEqual(store.donthave, [0]);
});
