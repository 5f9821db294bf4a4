// `ltdh-inspect --check` end to end: the verdict line and the exit status (0 clean real traffic,
// 1 the misbehaving peer, 2 unreadable input or a bad torrent file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--check on the misbehaving peer: every finding listed, FAIL, exit 1', () => {
  const r = cli('samples/misbehave.pcap', '--check', '--torrent', 'samples/misbehave.torrent');
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), 'verdict: FAIL - 14 errors, 6 warnings, 4 info in 4 connections');
  assert.ok(lines.some((l) => /^error {3}ext-id-own-mapping conn 1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:51515 at \d+\.\d{6} \(\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}Z\) frame \d+: id 1 is ut_pex in the receiver's mapping/.test(l)), r.stdout);
  assert.equal(lines.length, 25);
});

test('--check on well-behaved real peers: PASS, exit 0', () => {
  const r = cli('samples/wt-sample.pcap', '--check', '--torrent', 'samples/wt-sample.torrent');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^verdict: PASS - 0 errors, \d+ warnings?, \d+ info in 2 connections\n$/m);
});

test('--check: unreadable input and a bad torrent exit 2 with one line', () => {
  const missing = cli('samples/no-such.pcap', '--check');
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  const bad = cli('samples/wt-sample.pcap', '--check', '--torrent', 'samples/wt-sample.pcap');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^ltdh-inspect: samples\/wt-sample\.pcap: not a valid \.torrent: .*\n$/);
});
