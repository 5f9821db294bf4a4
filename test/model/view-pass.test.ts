// The progressive filter pass (view-pass.ts through the store): a new filter or a clear drops a pass
// mid-way and leaves nothing of it behind; records that arrive during a pass (the live proxy, a
// capture still being read) are in the view once, in order, exactly as a whole pass over all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCapture } from '../../src/inspect.js';
import { compileFilter, type RecordTest } from '../../src/model/filter.js';
import { RecordStore } from '../../src/model/store.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';

function compiled(expr: string): RecordTest {
  const f = compileFilter(expr);
  if (!f.ok) assert.fail(`${expr}: ${f.error}`);
  return f.test;
}

const have = (i: number): MessageRecord => ({ ts: i, conn: 1 + (i % 3), transport: 'tcp', src: 'a:1', dst: 'b:2', msg: 'have', size: 9, piece: i % 50 });

function storeOf(n: number): RecordStore {
  const store = new RecordStore();
  for (let i = 0; i < n; i++) store.add(have(i));
  return store;
}

/** What a whole pass gives: `expr` over the store's records (and connection `conn`, if given). */
function whole(store: RecordStore, expr: string, conn?: number): number[] {
  const t = compiled(expr);
  const out: number[] = [];
  for (let i = 0; i < store.size; i++) {
    const r = store.record(i)!;
    if (conn !== undefined && (r as { conn?: number }).conn !== conn) continue;
    if (t(r)) out.push(i);
  }
  return out;
}

test('a new filter mid-pass: the view is the new filter\'s alone, from the first row', () => {
  const store = storeOf(1000);
  store.beginFilter(compiled('piece < 10'));
  store.continueView(300);
  assert.deepEqual(store.viewProgress, { scanned: 300, total: 1000 });
  assert.equal(store.view.length, 60);
  store.beginFilter(compiled('piece >= 45'));
  assert.deepEqual(store.viewProgress, { scanned: 0, total: 1000 });
  assert.deepEqual(store.view, []);
  while (!store.continueView(128));
  assert.equal(store.viewProgress, undefined);
  assert.deepEqual(store.view, whole(store, 'piece >= 45'));
});

test('clearing the filter mid-pass shows every record at once and ends the pass', () => {
  const store = storeOf(1000);
  store.beginFilter(compiled('piece < 10'));
  store.continueView(300);
  store.beginFilter(undefined);
  assert.equal(store.viewProgress, undefined);
  assert.equal(store.view.length, 1000);
  assert.equal(store.continueView(100), true);
  assert.equal(store.view.length, 1000);
  // A connection chosen mid-pass keeps the filter and starts again from the first row.
  store.beginFilter(compiled('piece < 10'));
  store.continueView(500);
  store.beginConnection(2);
  assert.equal(store.view.length, 0);
  store.finishView();
  assert.deepEqual(store.view, whole(store, 'piece < 10', 2));
});

test('records added during a pass (live): reached by the pass, in the view once and in order', () => {
  const store = storeOf(500);
  store.beginFilter(compiled('piece < 10 or piece == 49'));
  let i = 500;
  // Records arrive between slices, as the proxy or the feed adds them.
  while (!store.continueView(64)) for (let k = 0; k < 20; k++) store.add(have(i++));
  assert.ok(i > 600);
  // And after the pass: each is tested as it arrives.
  for (let k = 0; k < 200; k++) store.add(have(i++));
  assert.deepEqual(store.view, whole(store, 'piece < 10 or piece == 49'));
  assert.equal(new Set(store.view).size, store.view.length);
});

test('a capture still being read: slices between the decoder\'s records give the whole pass\'s view', async () => {
  const expr = 'have or lt_donthave or piece > 3';
  const store = new RecordStore();
  let added = 0;
  let caughtUpAt: number | undefined;
  await decodeCapture('samples/lt-mixed.pcap', (r: AnyRecord, raw, where) => {
    store.add(r, raw, where);
    // The filter is applied after 100 records; then a slice of 20 rows after every 7 records: the
    // pass runs behind the decoder, catches up, and then the new records are tested as they come.
    if (++added === 100) store.beginFilter(compiled(expr));
    if (added > 100 && added % 7 === 0 && store.continueView(20)) caughtUpAt ??= added;
  });
  assert.ok(caughtUpAt !== undefined && caughtUpAt > 130 && caughtUpAt < added - 50, `caught up at ${caughtUpAt} of ${added}`);
  assert.equal(store.viewProgress, undefined);
  const reference = new RecordStore();
  await decodeCapture('samples/lt-mixed.pcap', reference.add);
  reference.setFilter(compiled(expr));
  assert.ok(reference.view.length > 10 && reference.view.length < reference.size);
  assert.deepEqual(store.view, reference.view);
});
