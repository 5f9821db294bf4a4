// Connections released after a silence, on a real capture: lt-sample with everything after its
// 100th message moved 700 s later. The connection is released when capture time passes its limit
// (600 s for an established one): a `released` record, and its later packets are decoded as a
// connection first seen mid-stream. The summaries count it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { inspect, type InspectOptions } from '../../src/inspect.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { StreamOutput } from '../../src/output/stream-output.js';
import { SummaryCollector } from '../../src/output/summary.js';
import { NEVER_IDLE } from '../../src/transport/idle.js';
import type { AnyRecord, EventRecord, MessageRecord } from '../../src/model/record.js';

const SAMPLE = 'samples/lt-sample.pcap';
const SILENCE = 700;

async function decode(bytes: Uint8Array, options: InspectOptions = {}): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(bytes, options)) out.push(r);
  return out;
}

const messages = (rs: AnyRecord[]): MessageRecord[] => rs.filter((r): r is MessageRecord => 'msg' in r);
const events = (rs: AnyRecord[], name: string): EventRecord[] => rs.filter((r): r is EventRecord => 'event' in r && r.event === name);

/** The classic pcap with every packet after `after` (capture time) moved `by` seconds later. */
function delayAfter(file: Uint8Array, after: number, by: number): Uint8Array {
  const out = Uint8Array.from(file);
  const view = new DataView(out.buffer);
  const le = view.getUint32(0, true) === 0xa1b2c3d4;
  const reader = new CaptureReader({
    packet(p) {
      if (p.ts > after) view.setUint32(p.offset, view.getUint32(p.offset, le) + by, le);
    },
    warning() {},
    fatal(message) {
      throw new Error(message);
    },
  });
  reader.push(file);
  reader.end();
  return out;
}

async function scenario(): Promise<{ original: AnyRecord[]; delayed: Uint8Array; split: number }> {
  const file = new Uint8Array(readFileSync(SAMPLE));
  const original = await decode(file);
  const split = messages(original)[100]!.ts;
  return { original, delayed: delayAfter(file, split, SILENCE), split };
}

test('lt-sample silent for 700 s mid-transfer: released (limit 600 s), then picked up as a connection first seen mid-stream', async () => {
  const { original, delayed, split } = await scenario();
  const after = await decode(delayed);
  const released = events(after, 'released');
  assert.equal(released.length, 1);
  assert.equal(released[0]!.conn, 1);
  assert.match(released[0]!.message!, /^silent for 700 s \(limit 600 s\): its state is released \(/);
  // Everything before the silence is decoded as before.
  const before = messages(original).filter((r) => r.ts <= split);
  assert.deepEqual(
    messages(after).filter((r) => r.conn === 1),
    before,
  );
  // Its later packets: a new connection, its start not captured, found again by a resync.
  const opened = events(after, 'open').filter((r) => r.conn === 2);
  assert.equal(opened.length, 1);
  assert.equal(opened[0]!.message, 'connection start not captured');
  assert.ok(after.indexOf(opened[0]!) > after.indexOf(released[0]!));
  const later = messages(after).filter((r) => r.conn === 2);
  const expected = messages(original).filter((r) => r.ts > split);
  assert.ok(later.length >= expected.length - 5, `${later.length} of ${expected.length} later messages decoded`);
  assert.ok(later.every((r) => r.resync === true));
  // In each direction, what is decoded is what the original had from the resync point on.
  for (const src of new Set(expected.map((r) => r.src))) {
    // (Not their times: those decoded from the resync window take the time the boundary was found.)
    const got = later.filter((r) => r.src === src).map((r) => [r.msg, r.piece, r.size]);
    const want = expected.filter((r) => r.src === src).map((r) => [r.msg, r.piece, r.size]);
    assert.ok(got.length > 0, `messages from ${src} after the silence`);
    assert.deepEqual(got, want.slice(want.length - got.length), src);
  }
});

test('lt-sample silent for 700 s with --idle-timeout 0 (NEVER_IDLE): one connection, every message', async () => {
  const { original, delayed } = await scenario();
  const after = await decode(delayed, { idle: NEVER_IDLE });
  assert.equal(events(after, 'released').length, 0);
  assert.deepEqual(
    messages(after).map((r) => [r.conn, r.msg, r.size]),
    messages(original).map((r) => [r.conn, r.msg, r.size]),
  );
});

async function output(records: AnyRecord[], format: 'json' | 'text'): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const stream = new StreamOutput(out, { format });
  for (const r of records) stream.record(r);
  await stream.end();
  return text;
}

async function jsonOutput(records: AnyRecord[]): Promise<EventRecord[]> {
  return (await output(records, 'json'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as EventRecord);
}

test('summaries count the released connection', async () => {
  const { delayed } = await scenario();
  const records = await decode(delayed);
  const summaries = (await jsonOutput(records)).filter((r) => r.event === 'summary');
  assert.deepEqual(
    summaries.map((s) => [s.conn, s.summary?.released]),
    [
      [1, true],
      [2, undefined],
    ],
  );
  const text = await output(records, 'text');
  assert.match(text, /\n2 BitTorrent connections \(1 released after a silence, each summarised in the timeline where it was released\):\n/);
  assert.match(text, /gaps: \d+; released after a silence/);
  assert.match(text, /connection released: silent for 700 s \(limit 600 s\)/);
});

test('a released connection is summarised as soon as it is final, and only counted from then on', async () => {
  const { delayed } = await scenario();
  const records = await decode(delayed);
  const lines = await jsonOutput(records);
  // Its summary follows its last record (the released event and what the analyzer said then), and
  // comes before anything of the connection that follows.
  const released = lines.findIndex((r) => r.event === 'released' && r.conn === 1);
  const summary = lines.findIndex((r) => r.event === 'summary' && r.conn === 1);
  const lastOfConn1 = lines.findLastIndex((r) => r.conn === 1 && r.event !== 'summary');
  assert.ok(released >= 0 && summary > released, 'summary after the released record');
  assert.equal(summary, lastOfConn1 + 1, 'the summary right after the last record of the connection');
  assert.ok(lines.slice(summary + 1).every((r) => r.conn !== 1), 'nothing of conn 1 after its summary');
  assert.equal(lines.filter((r) => r.event === 'summary').length, 2);
  // The same summary as a collector that keeps every tally to the end (the report's and --stats').
  const kept = new SummaryCollector();
  for (const r of records) kept.record(r);
  assert.deepEqual(lines[summary], kept.summaries()[0]);
  // Text: its summary lines stand in the timeline after the released line, before the summaries at the end.
  const text = await output(records, 'text');
  const at = text.indexOf('connection released: silent for 700 s');
  const block = text.indexOf(`#1 ${lines[summary]!.transport} `);
  const header = text.indexOf('\n2 BitTorrent connections');
  assert.ok(at >= 0 && block > at && header > block, 'summary of #1 between its released line and the final summaries');
  assert.equal(text.split('\n').filter((l) => l.startsWith('#1 ')).length, 1);
  // The collector that hands summaries over counts them and keeps no tally for them.
  const handed: EventRecord[] = [];
  const counting = new SummaryCollector({ onFinal: (s) => handed.push(s) });
  for (const r of records) counting.record(r);
  assert.deepEqual(handed.map((s) => s.conn), [1]);
  assert.equal(counting.size, 2);
  assert.equal(counting.released, 1);
  assert.equal(counting.finalCount, 1);
  assert.deepEqual(counting.summaries().map((s) => s.conn), [2]);
});
