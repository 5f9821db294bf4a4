// The hex pane's read-back on real captures: the store keeps the first bytes of each long message
// and where the rest lies in the file; what it reads back must be the very bytes the decoder had.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeCapture } from '../../src/inspect.js';
import { RAW_KEEP, RecordStore } from '../../src/model/store.js';
import { openFileBytes } from '../../src/capture/file-bytes.js';

const SAMPLES = new URL('../../samples/', import.meta.url).pathname;

interface Loaded {
  store: RecordStore;
  /** Record index -> the whole message as the decoder passed it, for the long ones. */
  full: Map<number, Uint8Array>;
  close(): void;
}

async function load(path: string, locate = true): Promise<Loaded> {
  const store = new RecordStore();
  const bytes = openFileBytes(path);
  store.setByteSource(bytes.source, bytes.why);
  const full = new Map<number, Uint8Array>();
  await decodeCapture(
    path,
    (r, raw, where) => {
      if (raw !== undefined && raw.length > RAW_KEEP) full.set(store.size, raw.slice());
      store.add(r, raw, where);
    },
    { locate },
  );
  return { store, full, close: bytes.close };
}

/** Long messages read back whole and equal to the decoder's bytes; the rest counted by their note. */
function check(loaded: Loaded): { whole: number; notes: Map<string, number> } {
  let whole = 0;
  const notes = new Map<string, number>();
  for (const [index, expected] of loaded.full) {
    const got = loaded.store.bytes(index)!;
    assert.equal(got.total, expected.length, `record ${index}: total`);
    if (got.note !== undefined) {
      assert.ok(got.bytes.length < got.total);
      assert.deepEqual(got.bytes, expected.subarray(0, got.bytes.length), `record ${index}: kept prefix`);
      notes.set(got.note, (notes.get(got.note) ?? 0) + 1);
      continue;
    }
    assert.equal(Buffer.compare(got.bytes, expected), 0, `record ${index}: read-back bytes differ from what was decoded`);
    whole++;
  }
  return { whole, notes };
}

for (const [name, what] of [
  ['wt-sample.pcap', 'webtorrent peers, classic pcap'],
  ['wt-lossy6.pcap', 'IPv6 with loss: retransmitted and out-of-order segments'],
  ['lossy-sample.pcap', 'webtorrent peers over a lossy link'],
  ['lt-encrypted.pcap', 'libtorrent with MSE, plaintext after the key exchange'],
  ['wt-dumpcap.pcapng', 'pcapng from dumpcap'],
  ['wt-sll2.pcap', 'Linux cooked v2'],
  ['lt-sample.pcap', 'libtorrent over TCP'],
  ['lt-utp-lossy.pcap', 'libtorrent over uTP with loss'],
  ['lt-mixed.pcap', 'TCP and uTP, IPv4 and IPv6'],
] as const) {
  test(`hex read-back on ${name} (${what}): every long message comes back whole and exact`, async () => {
    const loaded = await load(join(SAMPLES, name));
    try {
      const { whole, notes } = check(loaded);
      assert.ok(loaded.full.size >= 10, `${name} has long messages (${loaded.full.size})`);
      // Only messages decoded out of a resync window (after a gap) may lack a location.
      for (const note of notes.keys()) assert.match(note, /not located/);
      assert.ok(whole >= loaded.full.size * 0.9, `${whole} of ${loaded.full.size} read back`);
      console.log(`${name}: ${whole} of ${loaded.full.size} long messages read back whole`, Object.fromEntries(notes));
    } finally {
      loaded.close();
    }
  });
}

test('hex read-back: without locate, or from stdin or a gzip file, the first bytes come with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-readback-'));
  const plain = join(SAMPLES, 'wt-sample.pcap');
  const unlocated = await load(plain, false);
  const [first] = unlocated.full.keys();
  assert.match(unlocated.store.bytes(first!)!.note!, /not located/);
  unlocated.close();

  const gz = join(dir, 'wt-sample.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  const zipped = await load(gz);
  assert.ok(zipped.full.size > 0);
  for (const index of zipped.full.keys()) {
    const got = zipped.store.bytes(index)!;
    assert.equal(got.bytes.length, RAW_KEEP);
    assert.match(got.note!, /gzip-compressed/);
  }
  zipped.close();
  assert.match(openFileBytes('-').why!, /stdin/);
  assert.match(openFileBytes(dir).why!, /not a regular file/);
});

test('hex read-back: a capture file changed or cut short since it was read is not trusted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-readback-'));
  const copy = join(dir, 'capture.pcap');
  copyFileSync(join(SAMPLES, 'wt-sample.pcap'), copy);
  const loaded = await load(copy);
  const [index] = [...loaded.full.keys()].slice(-1);
  assert.equal(loaded.store.bytes(index!)!.note, undefined);
  // Overwrite the file with other bytes of the same length: the kept prefix no longer matches.
  const bytes = readFileSync(copy);
  writeFileSync(copy, bytes.map((b) => b ^ 0xff));
  loaded.store.setByteSource(openFileBytes(copy).source);
  assert.match(loaded.store.bytes(index!)!.note!, /changed/);
  writeFileSync(copy, bytes.subarray(0, 1000));
  loaded.store.setByteSource(openFileBytes(copy).source);
  assert.match(loaded.store.bytes(index!)!.note!, /could not be read back/);
  loaded.close();
});
