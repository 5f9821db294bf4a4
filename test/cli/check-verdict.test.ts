// `--check` as a CI step uses it: the exit status is the verdict whatever becomes of stdout (a
// reader that stops early: `| head -1`, `| grep -q`), and `--check --json` gives the findings as
// `--json` records and a verdict record. The real pipes, a closed stdout and /dev/full run the bundled
// program, as users do; the rest runs the program in-process (test/support/run-cli.ts), with a
// stdout that fails as a pipe whose reader left (EPIPE) where the test needs one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ensureBuilt } from '../support/built-cli.js';
import { failingStdout, runCli } from '../support/run-cli.js';

function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  ensureBuilt('cli');
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('--check | head -1 under pipefail: a failing capture exits 1 (the verdict), a clean one 0', () => {
  const fail = sh('set -o pipefail; node dist/cli/main.js samples/misbehave.pcap --check | head -1');
  assert.equal(fail.status, 1, fail.stdout + fail.stderr);
  assert.equal(fail.stdout.split('\n').length, 2, fail.stdout);
  assert.equal(fail.stderr, '');
  const pass = sh('set -o pipefail; node dist/cli/main.js samples/wt-sample.pcap --check --torrent samples/wt-sample.torrent | head -1');
  assert.equal(pass.status, 0, pass.stdout + pass.stderr);
});

test('--check whatever happens to stdout: grep -q, closed, a full disk', () => {
  for (const tail of ['| grep -q error', '>&-', '> /dev/full', '--json | head -c 10']) {
    const r = sh(`set -o pipefail; node dist/cli/main.js samples/misbehave.pcap --check ${tail}`);
    assert.equal(r.status, 1, `${tail}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Error|at /, tail);
  }
});

test('the timeline and --json still end quietly when the reader goes away', async () => {
  for (const mode of ['--no-tui', '--json']) {
    const r = await runCli(['samples/lossy-sample.pcap', mode], { stdout: failingStdout(100, 'EPIPE') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  }
  // ...and through a real pipe, the bundled program.
  const r = sh('set -o pipefail; node dist/cli/main.js samples/lossy-sample.pcap --json | head -1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.split('\n').length, 2);
});

test('--check in-process whatever happens to stdout: a reader that left, a full disk, a closed stdout', async () => {
  for (const code of ['EPIPE', 'ENOSPC', 'EBADF'] as const) {
    for (const json of [[], ['--json']]) {
      const stdout = failingStdout(10, code);
      const r = await runCli(['samples/misbehave.pcap', '--check', ...json], { stdout });
      assert.equal(r.code, 1, `${code} ${json.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', code);
      assert.equal(stdout.taken, 10);
    }
  }
});

test('in-process, stdout failing on a full disk: one line on stderr and exit 2', async () => {
  for (const mode of ['--no-tui', '--json']) {
    const r = await runCli(['samples/lossy-sample.pcap', mode], { stdout: failingStdout(0, 'ENOSPC') });
    assert.equal(r.code, 2, `${mode}: ${r.stderr}`);
    assert.equal(r.stderr, 'ltdh-inspect: cannot write to standard output: ENOSPC (no space left on device)\n', mode);
  }
});

test('the timeline and --json on a full disk: one line on stderr and exit 2, no stack trace', () => {
  for (const mode of ['--no-tui', '--json']) {
    const r = sh(`node dist/cli/main.js samples/lossy-sample.pcap ${mode} > /dev/full`);
    assert.equal(r.status, 2, `${mode}: ${r.stderr}`);
    assert.equal(r.stderr, 'ltdh-inspect: cannot write to standard output: ENOSPC (no space left on device)\n', mode);
  }
});

test('--check --json: the finding records exactly as --json prints them, then one verdict record', async () => {
  const check = await cli('samples/misbehave.pcap', '--check', '--json', '--torrent', 'samples/misbehave.torrent');
  assert.equal(check.status, 1, check.stderr);
  const lines = check.stdout.trimEnd().split('\n');
  const json = await cli('samples/misbehave.pcap', '--json', '--no-summary', '--torrent', 'samples/misbehave.torrent');
  const findings = json.stdout.trimEnd().split('\n').filter((l) => (JSON.parse(l) as { event?: string }).event === 'finding');
  assert.equal(findings.length, 24);
  assert.deepEqual(lines.slice(0, -1), findings);
  assert.deepEqual(JSON.parse(lines.at(-1)!), { event: 'verdict', verdict: 'FAIL', errors: 14, warnings: 6, info: 4, connections: 4 });
  // The text verdict says the same.
  const text = await cli('samples/misbehave.pcap', '--check', '--torrent', 'samples/misbehave.torrent');
  assert.equal(text.stdout.trimEnd().split('\n').at(-1), 'verdict: FAIL - 14 errors, 6 warnings, 4 info in 4 connections');
});

test('--check --json with --filter: only matching findings, counted; a clean capture passes with 0', async () => {
  const errors = await cli('samples/misbehave.pcap', '--check', '--json', '--filter', 'severity == warning');
  assert.equal(errors.status, 0, errors.stderr);
  const lines = errors.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; severity?: string; warnings?: number });
  assert.ok(lines.length > 1);
  for (const r of lines.slice(0, -1)) assert.equal(r.severity, 'warning');
  assert.deepEqual(lines.at(-1), { event: 'verdict', verdict: 'PASS', errors: 0, warnings: lines.length - 1, info: 0, connections: 4 });
  const clean = await cli('samples/wt-sample.pcap', '--check', '--json', '--torrent', 'samples/wt-sample.torrent');
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal((JSON.parse(clean.stdout.trimEnd().split('\n').at(-1)!) as { verdict: string }).verdict, 'PASS');
});

test('--filter with a misspelt field: exit 2, the error names it, suggests the close match and points at it', async () => {
  for (const args of [['--check', '--json'], ['--json'], ['--no-tui']]) {
    const r = await cli('samples/misbehave.pcap', ...args, '--filter', 'finding and sevrity == error');
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad --filter: unknown field 'sevrity': did you mean 'severity'\?\n {2}finding and sevrity == error\n {14}\^/);
  }
});
