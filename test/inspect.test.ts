// The library API on bad input: gzip from any source, damaged gzip as warnings after what could be
// decoded, and unreadable input always as the documented CaptureError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureError, decodeCapture, inspect, type CaptureSource } from '../src/inspect.js';
import type { AnyRecord, InputWarning } from '../src/model/record.js';

const original = new Uint8Array(readFileSync(new URL('../samples/wt-sample.pcap', import.meta.url)));
const gz = gzipSync(original);
const dir = mkdtempSync(join(tmpdir(), 'ltdh-inspect-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function collect(source: CaptureSource): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(source)) out.push(r);
  return out;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const warnings = (records: AnyRecord[]): InputWarning[] => records.filter((r): r is InputWarning => 'event' in r && r.event === 'warning' && !('conn' in r));
const json = (records: AnyRecord[]): string[] => records.map((r) => JSON.stringify(r));

test('gzip bytes and gzip chunks decode like the plain capture (the reader once said "decompress it first")', async () => {
  const plain = json(await collect(original));
  assert.ok(plain.length > 100);
  assert.deepEqual(json(await collect(gz)), plain);
  assert.deepEqual(json(await collect(chunks(gz, 1))), plain);
  const viaSink: AnyRecord[] = [];
  await decodeCapture(chunks(gz, 4093), (r) => void viaSink.push(r));
  assert.deepEqual(json(viaSink), plain);
});

test('a cut or corrupt gzip: the records before the damage, then a warning with the offset', async () => {
  const plain = await collect(original);
  const badCrc = Uint8Array.from(gz);
  badCrc[badCrc.length - 6]! ^= 0x01;
  const cut = gz.subarray(0, gz.length >> 1);
  for (const [what, bytes, reason] of [
    ['bad CRC', badCrc, /^corrupt gzip data \(incorrect data check\)/],
    ['cut', cut, /^gzip data is truncated$/],
  ] as const) {
    for (const source of [bytes, chunks(bytes, 65536)]) {
      const records = await collect(source);
      const damage = warnings(records).find((w) => reason.test(w.message));
      assert.ok(damage !== undefined, `${what}: ${JSON.stringify(warnings(records))}`);
      assert.ok(damage.offset !== undefined && damage.offset > 0 && damage.offset <= original.length, what);
      assert.ok(records.filter((r) => 'msg' in r).length > 0, what);
    }
  }
  // A bad CRC is found after all the data; zlib drops what its last step produced (at most a chunk).
  const crc = warnings(await collect(badCrc)).find((w) => /incorrect data check/.test(w.message));
  assert.ok(crc?.offset !== undefined && crc.offset >= original.length - 64 * 1024, `${crc?.offset}`);
  assert.ok(plain.length > 0);
});

test('unreadable input is a CaptureError with one line, from inspect and decodeCapture alike', async () => {
  const early = Uint8Array.from(gz);
  early.fill(0x55, 20, 4000);
  writeFileSync(join(dir, 'empty.pcap'), new Uint8Array(0));
  const cases: Array<[string, CaptureSource, RegExp]> = [
    ['missing file', join(dir, 'missing.pcap'), /^no such file$/],
    ['directory', dir, /^is a directory$/],
    ['empty file', join(dir, 'empty.pcap'), /^empty input$/],
    ['gzip corrupt from the start', early, /^corrupt gzip data/],
    ['gzip cut in its header', gz.subarray(0, 5), /^gzip data is truncated before any capture byte$/],
    ['junk', new TextEncoder().encode('this is not a capture'), /^not a pcap or pcapng capture/],
  ];
  for (const [what, source, message] of cases) {
    for (const run of [() => collect(source), () => decodeCapture(source, () => {})]) {
      await assert.rejects(run(), (err: Error) => {
        assert.ok(err instanceof CaptureError, `${what}: ${err.name}`);
        assert.match(err.message, message, what);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    }
  }
});
