// A filter pass over the UI store reads each row in an object reused per shape, with only the keys
// the filter names brought up to date (record-columns.ts peekKeys, filter.ts RecordTest.fields). On
// every real sample and several hundred expressions (every bare name the records carry, every known
// field compared several ways, combinations), the store's view must be exactly the records the
// filter passes when given each original record; and a filter must read no key outside its fields.
// The pass also runs in slices (view-pass.ts, the UI's progressive filtering): at every slice the view
// is exactly the matches among the rows scanned so far, and at the end the same view as a whole pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { decodeCapture } from '../../src/inspect.js';
import { loadTorrent } from '../../src/index.js';
import { compileFilter, type RecordTest } from '../../src/model/filter.js';
import { KNOWN_FIELDS } from '../../src/model/filter-fields.js';
import { RecordStore } from '../../src/model/store.js';
import type { AnyRecord } from '../../src/model/record.js';

const SAMPLES = readdirSync('samples').filter((f) => /\.pcap(ng)?$/.test(f));

async function decoded(name: string): Promise<{ originals: AnyRecord[]; store: RecordStore }> {
  const originals: AnyRecord[] = [];
  const store = new RecordStore();
  const torrentFile = `samples/${name.replace(/\.pcap(ng)?$/, '.torrent')}`;
  const torrent = readdirSync('samples').includes(torrentFile.slice(8)) ? await loadTorrent(torrentFile) : undefined;
  await decodeCapture(`samples/${name}`, (r, raw, where) => {
    originals.push(structuredClone(r));
    store.add(r, raw, where);
  }, { torrent, locate: true });
  return { originals, store };
}

/** A value of `field` some record has, as filter text (a number, a word, or a quoted string). */
function sampleValue(records: AnyRecord[], field: string): string | undefined {
  for (const r of records) {
    const v = (r as unknown as Record<string, unknown>)[field];
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'string') return JSON.stringify(v.slice(0, 20));
  }
  return undefined;
}

function expressions(records: AnyRecord[]): string[] {
  const names = new Set<string>(['nonexistent', 'handshake', 'finding']);
  for (const r of records) {
    const x = r as unknown as Record<string, unknown>;
    for (const k of ['msg', 'ext', 'event']) if (typeof x[k] === 'string') names.add(x[k] as string);
  }
  const out = [...names];
  for (const field of KNOWN_FIELDS) {
    const v = sampleValue(records, field) ?? '1';
    out.push(`${field} == ${v}`, `${field} != ${v}`, `not ${field} == ${v}`, `${field} > 0`, `${field} <= 3`, `${field} ~ 1`, `${field} ~ a`);
  }
  const ip = sampleValue(records, 'src')?.replace(/:\d+"$/, '"') ?? '"127.0.0.1"';
  out.push(
    'piece < 10 and conn == 2',
    'have or lt_donthave',
    'not (finding or have)',
    `ip == ${ip} and not have`,
    `ip ~ 127 or port == 6881`,
    'client ~ libtorrent or client ~ webtorrent',
    '(request or piece) and begin >= 16384 and length == 16384',
    'finding and severity == error',
    'extended and ext != lt_donthave and size > 6',
  );
  return out;
}

/** `r` behind a proxy that notes every key the filter looks at (reads, `in`, Object.hasOwn). */
function watched(r: AnyRecord, seen: Set<string>): AnyRecord {
  const note = (key: string | symbol): void => void (typeof key === 'string' && seen.add(key));
  return new Proxy(r as unknown as Record<string, unknown>, {
    get: (t, key) => (note(key), t[key as string]),
    has: (t, key) => (note(key), key in t),
    getOwnPropertyDescriptor: (t, key) => (note(key), Object.getOwnPropertyDescriptor(t, key)),
  }) as unknown as AnyRecord;
}

function compiled(expr: string): RecordTest {
  const f = compileFilter(expr);
  if (!f.ok) assert.fail(`${expr}: ${f.error}`);
  return f.test;
}

for (const name of SAMPLES) {
  test(`${name}: the store's filtered view (column path) equals the filter over each original record`, async () => {
    const { originals, store } = await decoded(name);
    assert.ok(originals.length > 50);
    const exprs = expressions(originals);
    let nonEmpty = 0;
    for (const expr of exprs) {
      const t = compiled(expr);
      const expected = originals.flatMap((r, i) => (t(r) ? [i] : []));
      store.setFilter(t);
      assert.deepEqual(store.view, expected, expr);
      if (expected.length > 0 && expected.length < originals.length) nonEmpty++;
      // With a connection chosen too: the connection column first, then the filter.
      store.setConnection(1);
      assert.deepEqual(store.view, expected.filter((i) => (originals[i] as { conn?: number }).conn === 1), `${expr} on conn 1`);
      store.setConnection(undefined);
    }
    // The same expressions in slices of 7 and 1 rows, with and without a connection chosen.
    for (const expr of exprs) {
      const t = compiled(expr);
      const expected = originals.flatMap((r, i) => (t(r) ? [i] : []));
      assertSliced(store, () => store.beginFilter(t), expected, 7, expr);
      assertSliced(store, () => store.beginConnection(1), expected.filter((i) => (originals[i] as { conn?: number }).conn === 1), 1, `${expr} on conn 1`);
      store.setConnection(undefined);
    }
    // The expressions tell records apart (not every one all or nothing).
    assert.ok(nonEmpty > 20, `${nonEmpty} expressions pass some records and not others`);
  });
}

/** Starts a pass with `begin`, runs it `slice` rows at a time: after each slice the view is the matches scanned so far. */
function assertSliced(store: RecordStore, begin: () => void, expected: number[], slice: number, label: string): void {
  begin();
  let steps = 0;
  while (store.viewProgress !== undefined) {
    const before = store.viewProgress.scanned;
    store.continueView(slice);
    const scanned = store.viewProgress?.scanned ?? store.size;
    assert.equal(scanned, Math.min(store.size, before + slice), label);
    // The matches so far: the expected rows below `scanned` (compared by count and last row: a full
    // comparison at every slice of 1 would be quadratic; the end is compared whole).
    const sofar = countBelow(expected, scanned);
    assert.equal(store.view.length, sofar, `${label}: after ${scanned} rows`);
    if (sofar > 0) assert.equal(store.view[sofar - 1], expected[sofar - 1], `${label}: after ${scanned} rows`);
    steps++;
  }
  assert.deepEqual(store.view, expected, label);
  assert.ok(steps >= Math.ceil(store.size / slice), `${label}: ${steps} slices`);
}

function countBelow(sorted: number[], limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

test("a compiled filter reads no record key outside its `fields`", async () => {
  const { originals } = await decoded('lt-sample.pcap');
  const more = (await decoded('misbehave.pcap')).originals;
  const records = [...originals, ...more];
  for (const expr of expressions(records)) {
    const t = compiled(expr);
    const seen = new Set<string>();
    for (const r of records) t(watched(r, seen));
    const outside = [...seen].filter((k) => !t.fields.has(k));
    assert.deepEqual(outside, [], `${expr} reads keys outside its fields ${[...t.fields].join(',')}`);
  }
});

test('a pass reads only the filtered keys: a stale value in another key of the reused object changes nothing', () => {
  const store = new RecordStore();
  for (let i = 0; i < 100; i++) store.add({ ts: i, conn: 1 + (i % 2), transport: 'tcp', src: 'a:1', dst: 'b:2', msg: 'have', size: 9, piece: i });
  store.setFilter(compiled('piece >= 90'));
  assert.deepEqual(store.view, [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  // `conn` was not brought up to date in that pass; the next filter reads it.
  store.setFilter(compiled('conn == 2 and piece < 6'));
  assert.deepEqual(store.view, [1, 3, 5]);
  store.setFilter(compiled('piece >= 90'));
  assert.deepEqual(store.view, [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
});
