// Decode As on real traffic: lt-sample (two libtorrent 2.0.8 peers) cut to start mid-connection,
// after both extended handshakes, with editcap (or, without it, the capture reader). Without
// --ext-map its lt_donthave messages are unresolved ids; with the mapping the peers advertised they
// are all named, each with the piece the receiver's own log (the truth file) says it got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { readTruth } from '../support/score.js';
import { concat } from '../support/bt-bytes.js';
import { runCli } from '../support/run-cli.js';

const SAMPLE = 'samples/lt-sample.pcap';

/** 1-based number of the first packet at or after `seconds` into the capture, and all timestamps. */
function firstPacketAfter(file: Uint8Array, seconds: number): number {
  let start: number | undefined;
  let found = 0;
  const reader = new CaptureReader({
    packet(p) {
      start ??= p.ts;
      if (found === 0 && p.ts - start >= seconds) found = p.index;
    },
    warning() {},
    fatal(message) {
      throw new Error(message);
    },
  });
  reader.push(file);
  reader.end();
  return found;
}

/** The capture from packet `first` on: editcap when installed, else the same cut by the reader. */
function cutBefore(file: Uint8Array, first: number, out: string): string {
  const editcap = spawnSync('editcap', ['-F', 'pcap', '-r', SAMPLE, out, `${first}-100000000`], { encoding: 'utf8' });
  if (editcap.status === 0) return 'editcap';
  const kept: Uint8Array[] = [file.subarray(0, 24)];
  const reader = new CaptureReader({
    packet(p) {
      if (p.index >= first) kept.push(file.subarray(p.offset, p.dataOffset + p.data.length));
    },
    warning() {},
    fatal() {},
  });
  reader.push(file);
  reader.end();
  writeFileSync(out, concat(...kept));
  return 'capture reader';
}

/** The program (in-process) with --json. */
async function decode(...args: string[]): Promise<MessageRecord[]> {
  const r = await runCli([...args, '--json', '--no-summary']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as AnyRecord)
    .filter((r): r is MessageRecord => 'msg' in r);
}

test('lt-sample captured from the middle: --ext-map names every lt_donthave with its piece', async () => {
  const file = new Uint8Array(readFileSync(SAMPLE));
  const first = firstPacketAfter(file, 0.9);
  assert.ok(first >= 8, `cut at packet ${first}`);
  const cut = join(mkdtempSync(join(tmpdir(), 'ltdh-extmap-')), 'cut.pcap');
  const how = cutBefore(file, first, cut);

  const plain = await decode(cut);
  assert.ok(!plain.some((r) => r.msg === 'handshake' || r.ext === 'handshake'), `the cut (${how}) removed the handshakes`);
  const unresolved = plain.filter((r) => r.msg === 'extended' && r.ext === null);
  assert.ok(unresolved.length >= 32, `${unresolved.length} unresolved extended messages without --ext-map`);
  assert.equal(plain.filter((r) => r.ext === 'lt_donthave').length, 0);

  // The leecher (an ephemeral port) receives lt_donthave: named by IP, every port of it.
  const spec = '127.0.0.1=lt_donthave:7,ut_metadata:2,upload_only:3,ut_pex:1';
  const mapped = await decode(cut, '--ext-map', spec);
  const truth = readTruth('samples/lt-sample.truth.ndjson').filter((t) => t.ext === 'lt_donthave');
  assert.equal(truth.length, 32);
  const named = mapped.filter((r) => r.ext === 'lt_donthave');
  assert.deepEqual(
    named.map((r) => [r.src, r.dst, r.piece]),
    truth.map((t) => [t.src, t.dst, t.piece]),
  );
  assert.ok(named.every((r) => r.mappingFrom === `--ext-map ${spec}`));
  assert.equal(mapped.filter((r) => r.msg === 'extended' && r.ext === null).length, unresolved.length - 32 - mapped.filter((r) => r.ext === 'upload_only' || r.ext === 'ut_metadata' || r.ext === 'ut_pex').length);
});
