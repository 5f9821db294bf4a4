// Issue 13's small ones: `help` and `help proxy`, a .torrent given as the capture, plurals in the
// summary, and a proxied connection that never spoke BitTorrent is not summarised as one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/run-cli.js';
import { SummaryCollector } from '../../src/output/summary.js';
import { formatSummary } from '../../src/output/text-format.js';

/** The program, in-process. */
async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('ltdh-inspect help and help proxy print the help, exit 0', async () => {
  const top = await cli('help');
  assert.equal(top.status, 0, top.stderr);
  assert.match(top.stdout, /^Usage: ltdh-inspect \[options\] \[command\] \[capture\]/);
  assert.match(top.stdout, /--check/);
  const proxy = await cli('help', 'proxy');
  assert.equal(proxy.status, 0, proxy.stderr);
  assert.match(proxy.stdout, /^Usage: ltdh-inspect proxy \[options\] <listen> <target>/);
  assert.match(proxy.stdout, /--save/);
});

test('a .torrent given as the capture: one line that says to use --torrent, exit 2', async () => {
  const r = await cli('samples/wt-sample.torrent');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'ltdh-inspect: samples/wt-sample.torrent: a bencoded dictionary (a .torrent file?), not a pcap or pcapng capture: give a .torrent with --torrent FILE, beside the capture\n');
});

test('the summary says "1 warning", "2 errors"', async () => {
  const r = await cli('samples/misbehave.pcap', '--no-tui');
  assert.match(r.stdout, /findings: \d+ errors?, \d+ warnings?, \d+ info/);
  assert.doesNotMatch(r.stdout, /\b1 (errors|warnings)\b|\b([02-9]|\d\d+) (error|warning),/);
  const s = new SummaryCollector();
  const base = { ts: 1, conn: 1, transport: 'tcp' as const, src: 'a:1', dst: 'b:2' };
  s.record({ ...base, event: 'open' });
  s.record({ ...base, event: 'finding', severity: 'warning', finding: 'x' });
  s.record({ ...base, event: 'finding', severity: 'error', finding: 'x' });
  s.record({ ...base, event: 'finding', severity: 'error', finding: 'x' });
  assert.equal(formatSummary(s.summaries()[0]!).at(-1), '    gaps: 0; findings: 2 errors, 1 warning, 0 info');
});

test('a proxied connection that never spoke BitTorrent is not a BitTorrent connection', () => {
  const s = new SummaryCollector();
  // What the relay says of a client whose upstream refused: a close event, no open, no message.
  s.record({ event: 'close', ts: 1, conn: 1, transport: 'tcp', src: '127.0.0.1:5', dst: '127.0.0.1:6', message: 'upstream 127.0.0.1:6 unreachable: ECONNREFUSED' });
  s.record({ event: 'open', ts: 2, conn: 2, transport: 'tcp', src: '127.0.0.1:7', dst: '127.0.0.1:6' });
  assert.deepEqual(s.summaries().map((r) => r.conn), [2]);
});
