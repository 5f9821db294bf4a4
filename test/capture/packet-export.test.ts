// --export on real captures: each connection exported alone decodes to the records the original
// gave for it (conn numbers aside), with its packets' link type and exact timestamps; the whole
// export of a capture with only BitTorrent traffic is the capture itself; stdin works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCapture } from '../../src/inspect.js';
import { FlowLog, writeExport } from '../../src/capture/packet-export.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import type { AnyRecord } from '../../src/model/record.js';
import { builtCli } from '../support/built-cli.js';
import { runCli } from '../support/run-cli.js';

const SAMPLES = ['wt-swarm.pcap', 'wt-dumpcap.pcapng', 'wt-sll2.pcap', 'lt-mixed.pcap', 'lt-utp-lossy.pcap', 'wt-lossy6.pcap', 'lt-encrypted.pcap'];

async function decode(path: string, flows?: FlowLog): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  await decodeCapture(path, (r) => void out.push(r), { observer: flows });
  return out;
}

/**
 * A connection's records without their connection number, as JSON lines (findings included), nor
 * their frame numbers: the export numbers its own packets, and its end (when the findings judged at
 * the end of the capture are judged) is the connection's last packet.
 */
function recordsOf(records: AnyRecord[], conn: number): string[] {
  return records
    .filter((r) => 'conn' in r && r.conn === conn)
    .map((r) => {
      const { frame: _f, firstFrame: _ff, judgedFrame: _jf, judgedTs: _jt, ...rest } = r as AnyRecord & { firstFrame?: number; judgedFrame?: number; judgedTs?: number };
      return JSON.stringify({ ...rest, conn: 0 });
    });
}

/**
 * The same, for an export in the other format: a nanosecond pcapng's 64-bit count loses its last
 * digits in a double, the same time in a nanosecond pcap (seconds + fraction) does not. Times (and
 * the times findings quote) must agree to within a microsecond; packets() compares them exactly.
 */
function assertSameRecords(actual: string[], expected: string[], what: string): void {
  const times = (line: string): number[] => [...line.matchAll(/\d{9,}\.\d+/g)].map((m) => Number(m[0]));
  const shape = (line: string): string => line.replace(/\d{9,}\.\d+/g, 'T');
  assert.deepEqual(actual.map(shape), expected.map(shape), what);
  actual.forEach((line, i) => {
    const a = times(line);
    const e = times(expected[i]!);
    a.forEach((t, k) => assert.ok(Math.abs(t - e[k]!) < 1e-6, `${what}: ${t} vs ${e[k]} in ${line}`));
  });
}

/** [linkType, sec, nsec, caplen, origLen] of every packet, exactly as stored. */
function packets(path: string, keep: (index: number) => boolean = () => true): string[] {
  const out: string[] = [];
  const reader = new CaptureReader({
    packet: (p) => {
      if (!keep(p.index)) return;
      const t = reader.exactTime();
      out.push(`${p.linkType} ${t.sec}.${String(t.nsec).padStart(9, '0')} ${p.data.length} ${p.origLen} ${Buffer.from(p.data).toString('hex', 0, 64)}`);
    },
    warning: () => undefined,
    fatal: (m) => assert.fail(m),
  });
  reader.push(readFileSync(path));
  reader.end();
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'ltdh-export-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const sample of SAMPLES) {
  test(`${sample}: each connection exported alone decodes to the original's records for it, packets and times as stored`, async () => {
    const flows = new FlowLog();
    const original = await decode(`samples/${sample}`, flows);
    const conns = [...new Set(original.flatMap((r) => ('conn' in r && r.conn > 0 ? [r.conn] : [])))];
    assert.ok(conns.length > 0);
    for (const conn of conns) {
      for (const ext of ['pcap', 'pcapng']) {
        const out = join(dir, `${sample}-${conn}.${ext}`);
        const keep = (i: number): boolean => flows.connOfPacket(i) === conn;
        const result = await writeExport(`samples/${sample}`, out, keep);
        assert.ok(result.packets > 0);
        const exported = await decode(out);
        const exportedConns = new Set(exported.flatMap((r) => ('conn' in r ? [r.conn] : [])));
        assert.deepEqual([...exportedConns], [1], `${out}: one connection`);
        const what = `${sample} conn ${conn} as ${ext}`;
        if (sample.endsWith(ext)) assert.deepEqual(recordsOf(exported, 1), recordsOf(original, conn), what);
        else assertSameRecords(recordsOf(exported, 1), recordsOf(original, conn), what);
        assert.deepEqual(packets(out), packets(`samples/${sample}`, keep), `${sample} conn ${conn} as ${ext}: packets differ`);
      }
    }
  });
}

test('wt-dumpcap.pcapng keeps its nanosecond timestamps in both formats', async () => {
  const flows = new FlowLog();
  await decode('samples/wt-dumpcap.pcapng', flows);
  for (const ext of ['pcap', 'pcapng']) {
    const out = join(dir, `ns.${ext}`);
    await writeExport('samples/wt-dumpcap.pcapng', out, (i) => flows.connOfPacket(i) > 0);
    const ns = packets(out).filter((p) => !/\.\d{6}000 /.test(p));
    assert.ok(ns.length > 10, `${ext}: nanoseconds kept (${ns.length} packets with digits past the microsecond)`);
  }
});

test('misbehave.pcap exported whole is the capture itself, byte for byte', async () => {
  const flows = new FlowLog();
  await decode('samples/misbehave.pcap', flows);
  const out = join(dir, 'whole.pcap');
  await writeExport('samples/misbehave.pcap', out, (i) => flows.connOfPacket(i) > 0);
  assert.deepEqual(readFileSync(out), readFileSync('samples/misbehave.pcap'));
});

test('ltdh-inspect - --export with a filter: from stdin (the built program, a real pipe), only the matching connections', async () => {
  const out = join(dir, 'stdin.pcapng');
  // Other programs (the bench's cached captures) may have folders of that prefix: only this run's spool counts.
  const before = readdirTmp();
  const r = spawnSync(process.execPath, [...builtCli(), '-', '--filter', 'conn == 2 and lt_donthave', '--export', out], {
    input: readFileSync('samples/wt-swarm.pcap'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote .*stdin\.pcapng: \d+ packets of 1 connection/);
  assert.equal(r.stdout, '');
  assert.ok(statSync(out).size > 1000);
  const again = await runCli([out, '--json', '--no-summary']);
  assert.equal(again.code, 0, again.stderr);
  const records = again.stdout.trim().split('\n').map((l) => JSON.parse(l) as AnyRecord);
  assert.ok(records.some((r) => 'ext' in r && r.ext === 'lt_donthave'));
  assert.deepEqual([...new Set(records.map((r) => ('conn' in r ? r.conn : 0)))], [1]);
  // The spool is removed.
  assert.deepEqual(readdirTmp(), before);
});

function readdirTmp(): string[] {
  return spawnSync('sh', ['-c', `ls -d ${tmpdir()}/ltdh-inspect-* 2>/dev/null || true`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}
