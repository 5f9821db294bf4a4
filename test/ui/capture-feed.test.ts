// The UI's capture feed (issue 15 item 5): the first screen is due as soon as a screenful of records
// is in view, after a few KiB of a capture of tiny messages, not after a whole read chunk (about
// 14,000 of them); slicing the input changes no record; a filter that keeps nothing still paints
// after the first chunk, as before; the feed stops when told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST_SCREEN_SLICE, feedStore, sliceWhile } from '../../src/ui/capture-feed.js';
import { RecordStore } from '../../src/model/store.js';
import { decodeCapture } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';
import { writeSyntheticCapture } from '../support/synthetic-capture.js';

const SCREEN_ROWS = 40;
const CHUNK = 256 * 1024;

/** A synthetic capture of `messages` tiny messages (16-byte blocks, haves, requests), as bytes. */
async function tinyMessages(messages: number): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-feed-'));
  try {
    const file = join(dir, 'tiny.pcap');
    await writeSyntheticCapture(file, messages);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes in chunks of `size`, as a file stream delivers them. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const capture = tinyMessages(60_000);

test('the first screen is due after a screenful of records, long before the first chunk is decoded', async () => {
  const bytes = await capture;
  // What a whole first chunk holds: the records the first screen used to wait for.
  const store0 = new RecordStore();
  await decodeCapture(bytes.subarray(0, CHUNK), store0.add);
  assert.ok(store0.size > 10_000, `the first 256 KiB hold ${store0.size} records`);

  const store = new RecordStore();
  const feed = feedStore(chunked(bytes, CHUNK), store, { screenRows: SCREEN_ROWS, inspect: {} });
  await feed.firstScreen;
  const atFirstScreen = store.size;
  assert.ok(store.view.length >= SCREEN_ROWS, `a screenful in view: ${store.view.length}`);
  // The first slice holds the handshakes and two 512-byte bitfields; the second a screenful of tiny messages.
  assert.equal(feed.bytesRead(), 2 * FIRST_SCREEN_SLICE, 'two slices were enough');
  assert.ok(atFirstScreen < store0.size / 20, `${atFirstScreen} records decoded at the first screen, ${store0.size} in the first chunk`);
  await feed.feeding;
  assert.equal(feed.failure(), undefined);
  assert.equal(feed.bytesRead(), bytes.length);
  assert.ok(store.size > 60_000, `all read: ${store.size}`);
});

test('slicing the input changes no record', async () => {
  for (const file of ['samples/lt-sample.pcap', 'samples/utp-sample.pcap']) {
    const bytes = readFileSync(file);
    const whole: AnyRecord[] = [];
    const sliced: AnyRecord[] = [];
    await decodeCapture(chunked(bytes, CHUNK), (r) => void whole.push(r));
    // Odd slice sizes cut packet headers and records everywhere; the first three chunks are sliced.
    let slices = 0;
    await decodeCapture(sliceWhile(chunked(bytes, 65536), 1021, () => ++slices < 200), (r) => void sliced.push(r));
    assert.ok(slices >= 200, 'slices were cut, then chunks went whole');
    assert.equal(JSON.stringify(sliced), JSON.stringify(whole), file);
  }
});

test('a filter that keeps nothing: the first screen after the first chunk, as before', async () => {
  const bytes = await capture;
  const store = new RecordStore();
  store.setFilter(() => false);
  const feed = feedStore(chunked(bytes, 65536), store, { screenRows: SCREEN_ROWS, inspect: {} });
  await feed.firstScreen;
  assert.equal(feed.bytesRead(), 65536);
  assert.equal(store.view.length, 0);
  feed.stop();
  await feed.feeding;
  assert.ok(feed.bytesRead() < bytes.length, 'stop() ended the decoding early');
});

test('a capture shorter than a screenful: the first screen at its end', async () => {
  const bytes = readFileSync('samples/misbehave.pcap');
  const store = new RecordStore();
  const feed = feedStore(chunked(bytes, CHUNK), store, { screenRows: 10_000, inspect: {} });
  await feed.firstScreen;
  await feed.feeding;
  assert.equal(feed.bytesRead(), bytes.length);
  assert.ok(store.finished === false && store.size > 0);
});

test('not a capture: the error is in the store and in failure()', async () => {
  const store = new RecordStore();
  const feed = feedStore(chunked(Buffer.from('this is no capture file at all, just text'), CHUNK), store, { screenRows: SCREEN_ROWS, inspect: {} });
  await feed.firstScreen;
  await feed.feeding;
  assert.match(feed.failure() ?? '', /./);
  assert.equal(store.size, 1);
});
