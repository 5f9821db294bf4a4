// openCaptureStream and decompressIfGzip: files, stdin, transparent gunzip, and one-line InputErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { InputError, decompressIfGzip, openCaptureStream } from '../../src/capture/source.js';
import { readChunks } from './capture-bytes.js';

const sample = fileURLToPath(new URL('../../samples/wt-sample.pcap', import.meta.url));
const original = readFileSync(sample);
const dir = mkdtempSync(join(tmpdir(), 'ltdh-source-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string): Promise<{ bytes: Buffer; chunks: number; largest: number }> {
  const parts: Uint8Array[] = [];
  // A chunk is valid until the next is asked for (a plain file reuses one buffer): keep copies.
  for await (const chunk of await openCaptureStream(path)) parts.push(chunk.slice());
  return { bytes: Buffer.concat(parts), chunks: parts.length, largest: Math.max(0, ...parts.map((p) => p.length)) };
}

test('a plain file streams in chunks of at most 256 KiB', async () => {
  const got = await collect(sample);
  assert.ok(got.bytes.equals(original));
  assert.ok(got.chunks >= 3, `${got.chunks} chunks`);
  assert.ok(got.largest <= 256 * 1024);
});

test('a gzip-compressed capture is decompressed transparently, by magic not by name', async () => {
  const path = join(dir, 'capture.bin');
  writeFileSync(path, gzipSync(original));
  const got = await collect(path);
  assert.ok(got.bytes.equals(original));
  assert.equal(readChunks(got.bytes).packets.length, readChunks(original).packets.length);
});

test('a truncated gzip stream yields what it had; the reader then warns', async () => {
  const path = join(dir, 'cut.pcap.gz');
  const gz = gzipSync(original);
  writeFileSync(path, gz.subarray(0, gz.length >> 1));
  const got = await collect(path);
  assert.ok(got.bytes.length > 0 && got.bytes.length < original.length);
  assert.ok(original.subarray(0, got.bytes.length).equals(got.bytes));
  const seen = readChunks(got.bytes);
  assert.equal(seen.fatals.length, 0);
  assert.match(seen.warnings.at(-1)?.message ?? '', /^capture truncated at byte/);
});

test('corrupt gzip data is an InputError, one line', async () => {
  const path = join(dir, 'corrupt.pcap.gz');
  const gz = gzipSync(original);
  gz.fill(0x55, 20, 4000);
  writeFileSync(path, gz);
  await assert.rejects(collect(path), (err: Error) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.name, 'InputError');
    assert.match(err.message, /^corrupt gzip data/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});

test('tiny and empty files pass through (the reader judges them)', async () => {
  for (const bytes of [Buffer.of(), Buffer.of(0x1f), Buffer.of(0x1f, 0x00, 0x01)]) {
    const path = join(dir, `tiny-${bytes.length}`);
    writeFileSync(path, bytes);
    assert.ok((await collect(path)).bytes.equals(bytes));
  }
});

test('a missing file, a directory, an unreadable file: InputError before any reading', async () => {
  await assert.rejects(openCaptureStream(join(dir, 'nope.pcap')), new InputError('no such file'));
  await assert.rejects(openCaptureStream(join(dir, 'nope', 'deeper.pcap')), new InputError('no such file'));
  await assert.rejects(openCaptureStream(dir), new InputError('is a directory'));
  const locked = join(dir, 'locked.pcap');
  writeFileSync(locked, original.subarray(0, 100));
  chmodSync(locked, 0);
  if (process.getuid?.() !== 0) await assert.rejects(openCaptureStream(locked), new InputError('permission denied'));
});

test("'-' reads the given stdin, gzip included; without one it is an InputError", async () => {
  const expected = createHash('sha256').update(original).digest('hex');
  for (const input of [original, gzipSync(original)]) {
    const hash = createHash('sha256');
    // A pipe delivers the bytes in pieces.
    const pieces = [input.subarray(0, 1), input.subarray(1, 5000), input.subarray(5000)];
    for await (const chunk of await openCaptureStream('-', { stdin: Readable.from(pieces) })) hash.update(chunk);
    assert.equal(hash.digest('hex'), expected);
  }
  await assert.rejects(openCaptureStream('-'), new InputError('no standard input was given to read'));
});

// ---- gzip from any source, and damage after the first capture byte (regressions) ----

async function gunzipped(chunks: Uint8Array[], onDamage?: (message: string, offset: number) => void): Promise<Buffer> {
  async function* source(): AsyncGenerator<Uint8Array> {
    yield* chunks;
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of decompressIfGzip(source(), onDamage === undefined ? {} : { onDamage })) parts.push(chunk);
  return Buffer.concat(parts);
}

test('decompressIfGzip: any async iterable, the magic split across chunks; plain data passes through', async () => {
  const gz = gzipSync(original);
  assert.ok((await gunzipped([gz.subarray(0, 1), gz.subarray(1, 1000), gz.subarray(1000)])).equals(original));
  assert.ok((await gunzipped([original.subarray(0, 1), original.subarray(1)])).equals(original));
});

test('gzip damaged after capture bytes: onDamage gets a one-line reason and the offset, the stream ends there', async () => {
  const gz = gzipSync(original);
  const badCrc = Buffer.from(gz);
  badCrc[badCrc.length - 8]! ^= 0xff;
  const garbage = Buffer.concat([gz, Buffer.from('trailing garbage, not a gzip member')]);
  const cut = gz.subarray(0, gz.length >> 1);
  for (const [what, bytes, reason] of [
    ['bad CRC', badCrc, /^corrupt gzip data \(incorrect data check\); the rest of the file is not read$/],
    ['trailing garbage', garbage, /^corrupt gzip data \(incorrect header check\); the rest of the file is not read$/],
    ['cut', cut, /^gzip data is truncated$/],
  ] as const) {
    const damage: Array<[string, number]> = [];
    const got = await gunzipped([bytes], (message, offset) => damage.push([message, offset]));
    assert.equal(damage.length, 1, what);
    assert.match(damage[0]![0], reason, what);
    assert.equal(damage[0]![1], got.length, what);
    assert.ok(got.length > 0 && original.subarray(0, got.length).equals(got), what);
  }
  await assert.rejects(gunzipped([badCrc]), new InputError('corrupt gzip data (incorrect data check)'));
});

test('gzip cut before any capture byte is an InputError, also with onDamage', async () => {
  const gz = gzipSync(original);
  for (const n of [2, 9, 10, 12]) {
    await assert.rejects(
      gunzipped([gz.subarray(0, n)], () => assert.fail('not damage: nothing was read')),
      new InputError('gzip data is truncated before any capture byte'),
      `${n} bytes`,
    );
  }
});

test("'-' with a directory on stdin: 'is a directory', not empty input; a terminal is refused", async () => {
  // Node's stdin on a directory reads as empty: the descriptor is what tells. (The program with a
  // real directory as its stdin: test/cli/bad-input.test.ts.)
  const fd = openSync(dir, 'r');
  try {
    await assert.rejects(openCaptureStream('-', { stdin: Object.assign(Readable.from([]), { fd }) }), new InputError('is a directory'));
  } finally {
    closeSync(fd);
  }
  await assert.rejects(openCaptureStream('-', { stdin: Object.assign(Readable.from([]), { isTTY: true }) }), new InputError('stdin is a terminal; pipe a capture into it'));
});
