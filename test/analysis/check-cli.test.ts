// `ltdh-inspect --check` end to end: the verdict line and the exit status (0 clean real traffic,
// 1 the misbehaving peer, 2 unreadable input or a bad torrent file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/run-cli.js';

/** The program, in-process. */
async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('--check on the misbehaving peer: every finding listed, FAIL, exit 1', async () => {
  const r = await cli('samples/misbehave.pcap', '--check', '--torrent', 'samples/misbehave.torrent');
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), 'verdict: FAIL - 14 errors, 6 warnings, 4 info in 4 connections');
  assert.ok(lines.some((l) => /^error {3}ext-id-own-mapping conn 1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:51515 at \d+\.\d{6} \(\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}Z\) frame \d+: id 1 is ut_pex in the receiver's mapping/.test(l)), r.stdout);
  assert.equal(lines.length, 25);
});

test('--check on well-behaved real peers: PASS, exit 0', async () => {
  const r = await cli('samples/wt-sample.pcap', '--check', '--torrent', 'samples/wt-sample.torrent');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^verdict: PASS - 0 errors, \d+ warnings?, \d+ info in 2 connections\n$/m);
});

test('--check: unreadable input and a bad torrent exit 2 with one line', async () => {
  const missing = await cli('samples/no-such.pcap', '--check');
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const bad = await cli('samples/wt-sample.pcap', '--check', '--torrent', 'samples/wt-sample.pcap');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^ltdh-inspect: samples\/wt-sample\.pcap: not a valid \.torrent: .*\n$/);
});

test('--check on a stall (rt-stall.pcap): a warning, PASS and exit 0; --fail-on warning: FAIL and exit 1; --stall 20: no stall', async () => {
  const plain = await cli('samples/rt-stall.pcap', '--check');
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stdout, /^warning request-stalled conn 1 127\.0\.0\.1:48892 -> 127\.0\.0\.1:\d+ at \d+\.\d{6} \(\S+Z\) frame \d+ piece 24 \(late: judged at \d+\.\d{6}, frame \d+\): /m);
  assert.match(plain.stdout, /^verdict: PASS - 0 errors, 1 warning, 2 info in 1 connection$/m);
  const strict = await cli('samples/rt-stall.pcap', '--check', '--fail-on', 'warning');
  assert.equal(strict.status, 1, strict.stderr);
  assert.match(strict.stdout, /^verdict: FAIL - 0 errors, 1 warning, 2 info in 1 connection \(--fail-on warning\)$/m);
  const json = await cli('samples/rt-stall.pcap', '--check', '--fail-on', 'warning', '--json');
  assert.equal(json.status, 1);
  assert.deepEqual(JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!), { event: 'verdict', verdict: 'FAIL', errors: 0, warnings: 1, info: 2, connections: 1 });
  const longer = await cli('samples/rt-stall.pcap', '--check', '--stall', '20');
  assert.equal(longer.status, 0);
  assert.doesNotMatch(longer.stdout, /request-stalled/);
  // well-behaved real peers pass --fail-on warning too
  const clean = await cli('samples/lt-sample.pcap', '--check', '--fail-on', 'warning', '--torrent', 'samples/lt-sample.torrent');
  assert.equal(clean.status, 0, clean.stdout);
});

test('--fail-on and --stall: bad values exit 2 with one line', async () => {
  for (const args of [['--fail-on', 'info'], ['--stall', '0'], ['--stall', 'ten'], ['--stall', '-1']]) {
    const r = await cli('samples/rt-stall.pcap', '--check', ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
