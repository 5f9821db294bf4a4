// openCaptureStream: files, stdin, transparent gunzip, and one-line InputErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { InputError, openCaptureStream } from '../../src/capture/source.js';
import { readChunks } from './capture-bytes.js';

const sample = fileURLToPath(new URL('../../samples/wt-sample.pcap', import.meta.url));
const original = readFileSync(sample);
const dir = mkdtempSync(join(tmpdir(), 'ltdh-source-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string): Promise<{ bytes: Buffer; chunks: number; largest: number }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of await openCaptureStream(path)) parts.push(chunk);
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

test("'-' reads stdin, gzip included", () => {
  const script = `
    import { openCaptureStream } from ${JSON.stringify(new URL('../../src/capture/source.ts', import.meta.url).href)};
    import { createHash } from 'node:crypto';
    const hash = createHash('sha256');
    for await (const chunk of await openCaptureStream('-')) hash.update(chunk);
    process.stdout.write(hash.digest('hex'));
  `;
  const expected = createHash('sha256').update(original).digest('hex');
  for (const input of [original, gzipSync(original)]) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { input, encoding: 'utf8' });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, expected);
  }
});
