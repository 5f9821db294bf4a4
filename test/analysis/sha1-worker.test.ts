// SHA-1 of pieces on the worker thread (src/analysis/sha1-worker.ts): the digests are the inline
// ones whatever the slicing, the ring's size and the interleaving of pieces; with the worker in use a
// real capture gives the same records, findings and order as hashed inline; without a worker pieces
// are still checked; and the bundled program ends as before when a worker runs at the end.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { HashRing, configureHashWorker, hashRing, hashWorkerCounts, hashWorkerReady } from '../../src/analysis/sha1-worker.js';
import { pieceHasher } from '../../src/analysis/piece-hash.js';
import { Pipeline } from '../../src/pipeline.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { loadTorrent, parseTorrent, type TorrentInfo } from '../../src/analysis/torrent.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { benc } from './bencode-encode.js';
import { ensureBuilt } from '../support/built-cli.js';

after(() => configureHashWorker({}));

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 7)) & 0xff;
  return b;
}

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

/** Ring sizes that wrap often (256 bytes: every slice is split), sometimes, and never in these tests. */
for (const ringBytes of [256, 4096, 1 << 20]) {
  test(`a ring of ${ringBytes} bytes: interleaved pieces in slices of odd sizes hash as inline, a piece larger than the ring too`, async () => {
    const ring = new HashRing(ringBytes, false);
    try {
      for (let i = 0; i < 2000 && !ring.usable(); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(ring.usable(), 'the worker started');
      const pieces = [0, 1, 2, 3].map((p) => ({ id: ring.newId(), data: bytes(70_000 + p * 4099, p), at: 0 }));
      const sizes = [1, 7, 13, 16, 17, 255, 1000, 4093, 16384, 16397, 3];
      // Round robin over the pieces, each fed a slice of the next size in turn.
      for (let k = 0, open = pieces.length; open > 0; k++) {
        const p = pieces[k % pieces.length]!;
        if (p.at >= p.data.length) continue;
        const n = Math.min(sizes[k % sizes.length]!, p.data.length - p.at);
        ring.data(p.id, p.data.subarray(p.at, p.at + n));
        p.at += n;
        if (p.at === p.data.length) {
          assert.equal(Buffer.from(ring.end(p.id)!).toString('hex'), sha1(p.data), `piece ${pieces.indexOf(p)}`);
          open--;
        }
      }
      // A piece dropped half way leaves nothing behind: the next one with its own id hashes alone.
      const dropped = ring.newId();
      ring.data(dropped, bytes(5000, 9));
      ring.drop(dropped);
      const next = ring.newId();
      const data = bytes(3 * ringBytes + 5, 11);
      ring.data(next, data);
      assert.equal(Buffer.from(ring.end(next)!).toString('hex'), sha1(data));
      // A piece with no bytes: the SHA-1 of nothing.
      assert.equal(Buffer.from(ring.end(ring.newId())!).toString('hex'), sha1(new Uint8Array(0)));
    } finally {
      ring.stop();
    }
  });
}

const PL = 3 * 16384 + 1000;
const DATA = bytes(PL * 5 - 777, 3);
const INFO = parseTorrent(
  benc({
    announce: 'http://t/a',
    info: { length: DATA.length, name: 'x.bin', 'piece length': PL, pieces: Buffer.concat([0, 1, 2, 3, 4].map((p) => createHash('sha1').update(DATA.subarray(p * PL, (p + 1) * PL)).digest())) },
  }),
);

/** Every piece of INFO through pieceHasher, piece 2 with one byte flipped: the verdicts. */
function verdicts(info: TorrentInfo): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let p = 0; p < 5; p++) {
    const data = DATA.slice(p * PL, (p + 1) * PL);
    if (p === 2) data[1234] = data[1234]! ^ 1;
    const h = pieceHasher(info, p);
    for (let at = 0; at < data.length; at += 5000) h.update(data.subarray(at, at + 5000));
    out.push(h.verdict());
  }
  return out;
}

test('pieceHasher on the worker gives the inline verdicts, word for word; without a worker pieces are hashed inline', async () => {
  configureHashWorker({ use: false });
  assert.equal(hashRing(), undefined);
  const inline = verdicts(INFO);
  assert.equal(inline.filter((v) => v !== undefined).length, 1);
  assert.match(inline[2]!, /^SHA-1 [0-9a-f]{40}, the torrent says [0-9a-f]{40}$/);

  configureHashWorker({ use: true, ringBytes: 4096, pauses: false });
  assert.ok(await hashWorkerReady());
  assert.deepEqual(verdicts(INFO), inline);
  assert.equal(hashWorkerCounts()?.worker, 5);

  // A worker that cannot be made (here: a ring size that is not a power of two): inline, same verdicts.
  configureHashWorker({ use: true, ringBytes: 1000 });
  assert.equal(await hashWorkerReady(), false);
  assert.equal(hashRing(), undefined);
  assert.deepEqual(verdicts(INFO), inline);
});

/** A real capture through the pipeline and the analyzer: every record, with the SHA-1 of its bytes, in order. */
function decode(path: string, torrent: TorrentInfo, tamper: (r: MessageRecord, raw: Uint8Array) => Uint8Array): string[] {
  const out: string[] = [];
  const analyzer = new Analyzer((r: AnyRecord, raw?: Uint8Array) => void out.push(JSON.stringify(r) + (raw === undefined ? '' : ` ${sha1(raw)}`)), { torrent });
  const pipeline = new Pipeline((r, raw, where, context) => {
    if ('msg' in r && r.msg === 'piece' && raw !== undefined) raw = tamper(r, raw);
    analyzer.record(r, raw, where, context);
  }, { clock: analyzer.advance });
  pipeline.push(readFileSync(path));
  pipeline.end();
  analyzer.finish(pipeline.lastPacket);
  return out;
}

for (const name of ['lt-sample', 'lt-magnet', 'wt-sample', 'lossy-sample']) {
  test(`${name} with one block's byte flipped: the worker gives the records of inline hashing, the hash-mismatch in the same place`, { skip: !existsSync(`samples/${name}.pcap`) && 'capture missing' }, async () => {
    const torrent = await loadTorrent(`samples/${name}.torrent`);
    const flipFifth = () => {
      let n = 0;
      return (_r: MessageRecord, raw: Uint8Array) => {
        if (++n !== 5) return raw;
        const copy = raw.slice();
        copy[13 + 100] = copy[13 + 100]! ^ 0x40;
        return copy;
      };
    };
    configureHashWorker({ use: false });
    const inline = decode(`samples/${name}.pcap`, torrent, flipFifth());
    // A small ring: blocks wrap around it and wait for room.
    configureHashWorker({ use: true, ringBytes: 8192, pauses: false });
    assert.ok(await hashWorkerReady());
    const worker = decode(`samples/${name}.pcap`, torrent, flipFifth());
    assert.ok(hashWorkerCounts()!.worker > 0, 'the worker hashed pieces');
    assert.equal(inline.filter((l) => l.includes('"hash-mismatch"')).length, 1);
    assert.deepEqual(worker, inline);
  });
}

test('the bundled program with a worker running at the end: same output, status and stderr; ends when its reader leaves', () => {
  ensureBuilt('cli');
  const run = (env: string, args: string) => spawnSync('bash', ['-c', `set -o pipefail; ${env} node dist/cli/main.js ${args}`], { encoding: 'utf8', timeout: 60_000 });
  const cases = [
    'samples/lt-sample.pcap --torrent samples/lt-sample.torrent --json',
    'samples/lt-magnet.pcap --check',
    'samples/lt-magnet.pcap --check | head -1',
    'samples/lt-sample.pcap --torrent samples/lt-sample.torrent --json | head -c 10',
  ];
  for (const args of cases) {
    const inline = run('LTDH_HASH_WORKER=0', args);
    const worker = run('LTDH_HASH_WORKER=1', args);
    assert.notEqual(worker.status, null, `${args}: ended (${worker.signal})`);
    assert.equal(worker.status, inline.status, args);
    assert.equal(worker.stderr, inline.stderr, args);
    assert.equal(worker.stdout, inline.stdout, args);
  }
});
