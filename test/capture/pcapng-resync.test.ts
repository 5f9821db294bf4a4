// pcapng blocks of types the reader does not parse, with an absurd length or one running past the
// end of the capture: skipped with a warning, reading resumes at the next valid block. Hand-built
// bytes for each case, then a real sample with such a block inserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Bytes, concat, ngBlock, ngEpb, ngInterface, ngSection, readBytewise, readChunks } from './capture-bytes.js';
import { inspect } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';

const A = Uint8Array.from({ length: 60 }, (_, i) => i);
const B = Uint8Array.from({ length: 37 }, (_, i) => 200 - i);

/** Section, interface, one packet; then `broken`; then `after` packets. */
function withBrokenBlock(broken: Uint8Array, after = 3): { bytes: Uint8Array; at: number } {
  const head = concat(ngSection(true), ngInterface(true, 1), ngEpb(true, 0, 1n, A));
  const tail = Array.from({ length: after }, (_, i) => ngEpb(true, 0, BigInt(2 + i), i % 2 ? A : B));
  return { bytes: concat(head, broken, ...tail), at: head.length };
}

/** The header of a block of an unknown type claiming `length`. */
function unknownHeader(length: number): Uint8Array {
  return new Bytes(true).u32(0x7777).u32(length).done();
}

function splitsOf(size: number, length: number): number[] {
  const splits: number[] = [];
  for (let at = size; at < length; at += size) splits.push(at);
  return splits;
}

test('pcapng: an unknown block of an absurd length: warning, reading resumes at the next block, for any chunking', () => {
  const { bytes, at } = withBrokenBlock(unknownHeader(0xfffffff0));
  const whole = readChunks(bytes);
  assert.deepEqual(whole.packets.map((p) => p.data.length), [60, 37, 60, 37]);
  assert.deepEqual(whole.warnings, [
    { message: `pcapng block type 30583 at byte ${at} has an absurd length 4294967280; looking for the next block`, offset: at },
    { message: `resynchronized at byte ${at + 8} after skipping 8 bytes`, offset: at + 8 },
  ]);
  assert.deepEqual(readBytewise(bytes), whole);
  for (const size of [3, 64, 1000]) assert.deepEqual(readChunks(bytes, splitsOf(size, bytes.length)), whole, `chunks of ${size}`);
});

test('pcapng: an unknown block too large to buffer, running past the end with blocks inside it: they are read', () => {
  for (const length of [4 << 20, 200 << 20]) {
    const { bytes, at } = withBrokenBlock(unknownHeader(length));
    for (const seen of [readChunks(bytes), readBytewise(bytes), readChunks(bytes, splitsOf(77, bytes.length))]) {
      assert.deepEqual(seen.packets.map((p) => p.data.length), [60, 37, 60, 37]);
      assert.equal(seen.warnings[0]!.message, `pcapng block type 30583 at byte ${at} claims length ${length} but blocks follow inside it; looking for the next block`);
      assert.equal(seen.warnings.length, 2);
    }
  }
  // One block after it, up to the end of the capture.
  const { bytes } = withBrokenBlock(unknownHeader(4 << 20), 1);
  assert.deepEqual(readChunks(bytes).packets.map((p) => p.data.length), [60, 37]);
});

test('pcapng: an unknown block small enough to buffer whose length is damaged: the blocks inside it are read', () => {
  // Runs past the end of the capture (rescued at the end), or ends inside the following blocks
  // (its trailing length does not match).
  for (const length of [64 << 10, 252]) {
    const { bytes, at } = withBrokenBlock(unknownHeader(length), length === 252 ? 6 : 3);
    const expected = length === 252 ? 7 : 4;
    for (const seen of [readChunks(bytes), readBytewise(bytes)]) {
      assert.ok(seen.packets.length >= expected - 1, `${length}: ${seen.packets.length} packets ${JSON.stringify(seen.warnings)}`);
      assert.equal(seen.packets[0]!.data.length, 60);
      assert.match(seen.warnings[0]!.message, new RegExp(`^pcapng block at byte ${at}`));
    }
    assert.equal(readChunks(bytes).packets.length, expected, `${length} bytes`);
  }
});

test('pcapng: a real unknown block, large or small, is still skipped silently', () => {
  for (const size of [100, 300 << 10, 3 << 20]) {
    const { bytes } = withBrokenBlock(ngBlock(true, 0x7777, new Uint8Array(size).fill(0x55)));
    const seen = readChunks(bytes, splitsOf(65536, bytes.length));
    assert.deepEqual(seen.warnings, []);
    assert.equal(seen.packets.length, 4);
  }
});

const sample = new URL('../../samples/wt-dumpcap.pcapng', import.meta.url);

/** Records without what depends on where they lie in the file, and without the capture warnings. */
async function records(bytes: Uint8Array): Promise<{ kept: string[]; warnings: string[] }> {
  const kept: string[] = [];
  const warnings: string[] = [];
  for await (const r of inspect(bytes)) {
    const record = r as AnyRecord & { event?: string; message?: string };
    if (record.event === 'warning') warnings.push(record.message ?? '');
    else kept.push(JSON.stringify(record));
  }
  return { kept, warnings };
}

test('wt-dumpcap.pcapng with a block of an absurd length inserted after its interface block: every record as before', async () => {
  const original = readFileSync(sample);
  const firstPacketAt = 264;
  assert.equal(original.readUInt32LE(firstPacketAt), 6, 'an enhanced packet block starts at byte 264');
  const before = await records(original);
  assert.deepEqual(before.warnings, []);
  assert.ok(before.kept.filter((r) => r.includes('"msg"')).length >= 90);
  for (const length of [0xfffffff0, 0x00400000]) {
    const damaged = concat(original.subarray(0, firstPacketAt), unknownHeader(length), original.subarray(firstPacketAt));
    const after = await records(damaged);
    assert.deepEqual(after.kept, before.kept, `length ${length}`);
    assert.equal(after.warnings.length, 2, after.warnings.join('\n'));
    assert.match(after.warnings[1]!, /^resynchronized at byte 272 after skipping 8 bytes$/);
  }
});
