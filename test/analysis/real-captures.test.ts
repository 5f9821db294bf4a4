// Well-behaved real clients (webtorrent peers, libtorrent to libtorrent, over TCP, a lossy IPv6
// link and uTP) must give no error-level finding, with and without their torrent: no false errors
// on real traffic; a client's real violations (aria2's late bitfields) are pinned exactly. Also pins what real traffic does show (lt_donthave with rejects in lt-sample).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Pipeline } from '../../src/pipeline.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { loadTorrent, type TorrentInfo } from '../../src/analysis/torrent.js';
import type { AnyRecord, EventRecord } from '../../src/model/record.js';

// Every real capture with a truth file (real peers, well-behaved), whatever the colleagues add.
const SAMPLES = readdirSync('samples')
  .filter((f) => f.endsWith('.truth.ndjson'))
  .map((f) => f.replace(/\.truth\.ndjson$/, ''))
  .sort();
/**
 * The errors a real client really commits, pinned exactly (anything else, or one fewer, fails):
 * aria2 1.36 sends have_none, then a bitfield for each piece it completes, then have_all, on the
 * second connection (its debug log says "To: bitfield ..."; libtorrent accepts them).
 */
const TRUE_ERRORS: Record<string, string[]> = {
  'aria2-magnet': [
    ...Array<string>(9).fill('bitfield-not-first conn 2 from 127.0.0.1:48894: bitfield after its earlier have_none'),
    'bitfield-not-first conn 2 from 127.0.0.1:48894: have_all after its earlier have_none',
  ],
};
/** Captures known to carry a complete ut_metadata exchange and whole pieces (the hash checks must run). */
const VERIFIED = new Set(['wt-sample', 'lt-sample', 'lossy-sample']);

/** The capture through the pipeline and an Analyzer: its findings and what it verified. */
async function analyze(path: string, torrent?: TorrentInfo): Promise<{ findings: EventRecord[]; stats: ReturnType<Analyzer['stats']> }> {
  const findings: EventRecord[] = [];
  const analyzer = new Analyzer((r) => void (isFinding(r) && findings.push(r)), { torrent });
  const pipeline = new Pipeline(analyzer.record);
  pipeline.push(readFileSync(path));
  pipeline.end();
  assert.equal(pipeline.fatalError, undefined);
  analyzer.finish();
  return { findings, stats: analyzer.stats() };
}

async function findings(name: string, torrent?: TorrentInfo): Promise<EventRecord[]> {
  return (await analyze(`samples/${name}.pcap`, torrent)).findings;
}

function isFinding(r: AnyRecord): r is EventRecord {
  return 'event' in r && r.event === 'finding';
}

for (const name of SAMPLES) {
  const capture = ['pcap', 'pcapng'].map((e) => `samples/${name}.${e}`).find((p) => existsSync(p));
  test(`${name}: no error-level finding but its true ones, with and without --torrent`, { skip: capture === undefined && 'capture missing' }, async () => {
    const torrent = existsSync(`samples/${name}.torrent`) ? await loadTorrent(`samples/${name}.torrent`) : undefined;
    for (const t of torrent ? [undefined, torrent] : [undefined]) {
      const { findings: fs, stats } = await analyze(capture!, t);
      if (VERIFIED.has(name)) {
        // the hash checks really ran: pieces against the torrent (or the metadata fetched in the capture)
        assert.ok(stats.piecesVerified > 0, `no piece verified (${t ? 'with' : 'without'} torrent)`);
        assert.ok(stats.metadataVerified > 0, 'the ut_metadata exchange was not verified');
      }
      const errors = fs.filter((f) => f.severity === 'error');
      const said = errors.map((f) => `${f.finding} conn ${f.conn} from ${f.src}: ${/^\w+ after its earlier \w+/.exec(f.message?.replace(/ from \S+ after/, ' after') ?? '')?.[0] ?? f.message}`);
      assert.deepEqual(said, TRUE_ERRORS[name] ?? []);
      assert.ok(!fs.some((f) => f.finding === 'torrent-unmatched'), 'the sample torrent matches its capture');
    }
  });
}

test('lt-sample: lt_donthave with fast gets a reject for every dropped request', { skip: !existsSync('samples/lt-sample.pcap') && 'capture missing' }, async () => {
  const fs = await findings('lt-sample', await loadTorrent('samples/lt-sample.torrent'));
  const dropped = fs.filter((f) => f.finding === 'requests-dropped-by-donthave');
  assert.ok(dropped.length > 0, 'libtorrent withdraws pieces that had requests outstanding');
  for (const f of dropped) assert.match(f.message ?? '', /fast extension on, so BEP 54 expects a reject_request for each: \d+ rejected$/);
});
