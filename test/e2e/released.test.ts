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

test('summaries count the released connection', async () => {
  const { delayed } = await scenario();
  const records = await decode(delayed);
  const summaries = (await output(records, 'json'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as EventRecord)
    .filter((r) => r.event === 'summary');
  assert.deepEqual(
    summaries.map((s) => [s.conn, s.summary?.released]),
    [
      [1, true],
      [2, undefined],
    ],
  );
  const text = await output(records, 'text');
  assert.match(text, /\n2 BitTorrent connections \(1 released after a silence\):\n/);
  assert.match(text, /gaps: \d+; released after a silence/);
  assert.match(text, /connection released: silent for 700 s \(limit 600 s\)/);
});
