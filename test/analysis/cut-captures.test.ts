// Issue 18: findings judge only what the capture saw, in both directions. Every real sample is cut
// so that one direction loses the segment carrying its extended handshake, a have, an lt_donthave
// or a piece answering a request (samples/generate/cut-captures.ts; each direction in turn); --check
// on the cut capture must give no error or warning that the whole capture does not give. The kept
// cut files in samples/cut/ (one connection each, truncated) are held to the same rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { decodeCapture } from '../../src/inspect.js';
import { loadTorrent, type TorrentInfo } from '../../src/analysis/torrent.js';
import type { AnyRecord, EventRecord } from '../../src/model/record.js';
import { cutCapture, cutName } from '../../samples/generate/cut-captures.js';

// Every real capture here (lt-encrypted's messages lie in MSE-encrypted bytes: nothing to locate).
const SAMPLES = readdirSync('samples').filter((f) => /\.pcap(ng)?$/.test(f) && f !== 'lt-encrypted.pcap').sort();

interface Seen {
  findings: EventRecord[];
  gaps: number;
}

async function check(bytes: Uint8Array, torrent: TorrentInfo | undefined): Promise<Seen> {
  const seen: Seen = { findings: [], gaps: 0 };
  await decodeCapture(bytes, (r: AnyRecord) => {
    if (!('event' in r)) return;
    if (r.event === 'finding') seen.findings.push(r);
    else if (r.event === 'gap') seen.gaps++;
  }, { torrent });
  return seen;
}

/**
 * A finding about the same message: code, sender, receiver, piece. Not the time: after a gap the
 * reassembler delivers the segments it held at the time of the acknowledgment that revealed it.
 */
function key(f: EventRecord): string {
  return `${f.finding} ${f.src} -> ${f.dst}${f.piece !== undefined ? ` piece ${f.piece}` : ''}`;
}

function newWarnings(cut: Seen, whole: Seen): string[] {
  const known = new Set(whole.findings.map(key));
  return cut.findings.filter((f) => f.severity !== 'info' && !known.has(key(f))).map((f) => `${f.severity} ${key(f)}: ${f.message}`);
}

async function torrentOf(sample: string): Promise<TorrentInfo | undefined> {
  const path = `samples/${sample.replace(/\.pcap(ng)?$/, '')}.torrent`;
  return existsSync(path) ? loadTorrent(path) : undefined;
}

for (const sample of SAMPLES) {
  test(`${sample} cut in each direction: no error or warning the whole capture does not give`, async () => {
    const bytes = readFileSync(`samples/${sample}`);
    const torrent = await torrentOf(sample);
    const whole = await check(bytes, torrent);
    const cuts = await cutCapture(bytes, { whole: true });
    assert.ok(cuts.length >= 3, `only ${cuts.length} cuts`);
    for (const cut of cuts) {
      const seen = await check(cut.bytes, torrent);
      const name = cutName(sample, cut);
      // Dropping a segment the receiver acknowledged is a gap the reassembler reports (unless the
      // capture held a retransmission of the same bytes).
      assert.ok(seen.gaps > whole.gaps || cut.kind === 'piece' || sample.includes('lossy'), `${name}: no gap reported`);
      assert.deepEqual(newWarnings(seen, whole), [], name);
    }
  });
}

test('the kept cut captures in samples/cut/ give no error or warning their sample does not give', async () => {
  const files = existsSync('samples/cut') ? readdirSync('samples/cut').filter((f) => /\.pcap(ng)?$/.test(f)) : [];
  assert.ok(files.length > 0, 'no cut captures in samples/cut/');
  const wholes = new Map<string, Seen>();
  for (const file of files.sort()) {
    const sample = SAMPLES.find((s) => file.startsWith(`${s.replace(/\.pcap(ng)?$/, '')}.`));
    assert.ok(sample !== undefined, `${file}: no sample it was cut from`);
    const torrent = await torrentOf(sample);
    if (!wholes.has(sample)) wholes.set(sample, await check(readFileSync(`samples/${sample}`), torrent));
    const seen = await check(readFileSync(`samples/cut/${file}`), torrent);
    assert.ok(seen.gaps > 0, `${file}: no gap reported`);
    assert.deepEqual(newWarnings(seen, wholes.get(sample)!), [], file);
  }
});

test("the issue's case on real traffic: the receiver's extended handshake cut, its peer's extended messages are not judged but counted", async () => {
  const file = 'samples/cut/lt-magnet.ext-handshake-r2i.pcap';
  const records: EventRecord[] = [];
  await decodeCapture(readFileSync(file), (r: AnyRecord) => void ('event' in r && 'conn' in r && records.push(r)), { torrent: await torrentOf('lt-magnet.pcap') });
  assert.ok(records.some((r) => r.event === 'gap' && r.src === '127.0.0.1:48881'), 'the responder lost its extended handshake');
  assert.deepEqual(records.filter((r) => r.event === 'finding' && r.severity !== 'info').map((r) => r.finding), []);
  const unjudged = records.find((r) => r.event === 'unjudged');
  assert.deepEqual(unjudged?.unjudged?.['ext-before-handshake'], { 'receiver-lost-bytes': 2 });
});
