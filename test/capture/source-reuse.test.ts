// A plain capture file is read into one buffer that every chunk reuses (source.ts fileChunks): no
// stage may keep a view of a chunk past the next one. Every sample is decoded from chunks of a
// small reused buffer, overwritten with junk before each refill, and must give the records and
// bytes it gives decoded from one whole copy; and openCaptureStream really reuses its buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Pipeline } from '../../src/pipeline.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { loadTorrent } from '../../src/analysis/torrent.js';
import { openCaptureStream } from '../../src/capture/source.js';
import type { RecordSink } from '../../src/model/record.js';

const SAMPLES = [...readdirSync('samples').map((f) => `samples/${f}`), ...readdirSync('samples/cut').map((f) => `samples/cut/${f}`)].filter((f) => /\.pcap(ng)?$/.test(f)).sort();

/** Every record and the bytes handed with it, as the sink saw them when it was called. */
async function decode(path: string, feed: (p: Pipeline) => void): Promise<string[]> {
  const out: string[] = [];
  const torrentPath = path.replace(/\.pcap(ng)?$/, '.torrent');
  const torrent = await loadTorrent(torrentPath).catch(() => undefined);
  const sink: RecordSink = (r, raw) => void out.push(JSON.stringify(r) + (raw === undefined ? '' : ` ${createHash('sha1').update(raw).digest('hex')}`));
  const analyzer = new Analyzer(sink, { torrent });
  const pipeline = new Pipeline(analyzer.record, { clock: analyzer.advance });
  feed(pipeline);
  pipeline.end();
  analyzer.finish(pipeline.lastPacket);
  return out;
}

for (const path of SAMPLES) {
  test(`${path}: decoded from a reused 1500-byte buffer, as from one whole copy`, async () => {
    const bytes = readFileSync(path);
    const whole = await decode(path, (p) => p.push(bytes.slice()));
    const reused = await decode(path, (p) => {
      const buf = new Uint8Array(1500);
      for (let at = 0; at < bytes.length; at += buf.length) {
        const n = Math.min(buf.length, bytes.length - at);
        buf.set(bytes.subarray(at, at + n));
        p.push(n === buf.length ? buf : buf.subarray(0, n));
        // What a stage kept a view of is now junk.
        buf.fill(0xa5);
      }
    });
    assert.ok(whole.length > 0);
    assert.deepEqual(reused, whole);
  });
}

test('openCaptureStream reads a plain file into one reused buffer, in chunks of the size asked', async () => {
  const path = 'samples/wt-sample.pcap';
  const bytes = readFileSync(path);
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of await openCaptureStream(path, { chunkSize: 4096 })) {
    buffers.add(chunk.buffer);
    assert.ok(chunk.length <= 4096);
    parts.push(Buffer.from(chunk));
  }
  assert.ok(Buffer.concat(parts).equals(bytes));
  assert.ok(parts.length > 2);
  assert.equal(buffers.size, 1);
});

test('the chunks are plain Uint8Arrays: slice() copies (on a Buffer it would be a view into the reused buffer)', async () => {
  for await (const chunk of await openCaptureStream('samples/wt-sample.pcap')) {
    assert.ok(!Buffer.isBuffer(chunk));
    assert.notEqual(chunk.slice(0, 4).buffer, chunk.buffer);
  }
});
