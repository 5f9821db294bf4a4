// StreamOutput's bound for live sources: a reader that stops reading costs records, not memory, and
// the loss is said once the reader keeps up again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { StreamOutput } from '../../src/output/stream-output.js';
import type { MessageRecord } from '../../src/model/record.js';

/** A stdout whose reader has stopped: nothing it is given is ever written until `release`. */
function stuckStream(): { out: Writable; written: string[]; release(): void } {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  let stuck = true;
  const out = new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _enc, done) {
      written.push(chunk.toString());
      if (stuck) pending.push(done);
      else done();
    },
  });
  return { out, written, release: () => ((stuck = false), pending.splice(0).forEach((d) => d())) };
}

const record = (i: number): MessageRecord => ({ ts: 1000 + i, conn: 1, transport: 'tcp', src: '10.0.0.1:1', dst: '10.0.0.2:2', msg: 'have', size: 9, piece: i });

test('maxQueued: past the bound records are dropped and counted, then reported once the reader keeps up', async () => {
  const stream = stuckStream();
  const output = new StreamOutput(stream.out, { format: 'json', maxQueued: 1 << 20, summary: false });
  for (let i = 0; i < 100_000; i++) {
    output.record(record(i));
    if (i % 1000 === 0) void output.flush();
  }
  assert.ok(stream.out.writableLength <= (1 << 20) + (1 << 17), `queued ${stream.out.writableLength} bytes`);
  const dropped = output.droppedRecords;
  assert.ok(dropped > 80_000, `dropped ${dropped}`);
  stream.release();
  await new Promise((r) => setImmediate(r));
  output.record(record(100_000));
  await output.end();
  const lines = stream.written.join('').trimEnd().split('\n');
  const warning = lines.map((l) => JSON.parse(l) as { event?: string; message?: string; piece?: number }).find((r) => r.event === 'warning');
  assert.ok(warning, 'a warning says records were dropped');
  assert.match(warning.message!, new RegExp(`^output did not keep up: ${dropped} record\\(s\\) dropped`));
  assert.equal((JSON.parse(lines.at(-1)!) as { piece?: number }).piece, 100_000);
});

test('without maxQueued (captures, which wait for the reader) nothing is dropped', async () => {
  const stream = stuckStream();
  const output = new StreamOutput(stream.out, { format: 'json', summary: false });
  for (let i = 0; i < 20_000; i++) output.record(record(i));
  void output.flush();
  assert.equal(output.droppedRecords, 0);
  stream.release();
  await output.end();
  assert.equal(stream.written.join('').trimEnd().split('\n').length, 20_000);
});

test('flushes while the reader is behind share one wait for drain (no listener per flush)', async () => {
  const stream = stuckStream();
  const output = new StreamOutput(stream.out, { format: 'json', summary: false });
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 50; i++) {
    for (let k = 0; k < 2000; k++) output.record(record(i * 2000 + k));
    waits.push(output.flush());
  }
  assert.ok(stream.out.listenerCount('drain') <= 2, `${stream.out.listenerCount('drain')} drain listeners`);
  stream.release();
  await Promise.all(waits);
  await output.end();
  assert.equal(stream.written.join('').trimEnd().split('\n').length, 100_000);
});
