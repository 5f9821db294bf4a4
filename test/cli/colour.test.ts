// The text timeline in colour when stdout is a terminal (`script` gives it one), with the terminal
// UI's colours: lt_donthave bold magenta, findings by severity. NO_COLOR turns
// it off; a pipe never gets an escape code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtCli } from '../support/built-cli.js';
import { runCli } from '../support/run-cli.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const skip = hasScript ? undefined : 'script (util-linux) is not installed';
const MAIN = `${process.execPath} ${builtCli().join(' ')}`;

/** Lines the program wrote to a terminal, escape codes and all. */
function onTerminal(args: string, env: Record<string, string> = {}): string[] {
  const r = spawnSync('script', ['-q', '-e', '-c', `${MAIN} ${args}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\r\n');
}

test('on a terminal --no-tui colours as the UI: lt_donthave bold magenta, a warning finding yellow, plain rows plain', { skip }, () => {
  const lines = onTerminal("samples/wt-swarm.pcap --no-tui --filter 'lt_donthave or finding or request' --no-summary");
  const donthave = lines.filter((l) => l.includes('lt_donthave piece='));
  assert.equal(donthave.length, 12);
  assert.ok(donthave.every((l) => l.startsWith('\x1b[1;35m') && l.endsWith('\x1b[0m')));
  const warning = lines.find((l) => l.includes('WARNING request-after-donthave'));
  assert.ok(warning?.startsWith('\x1b[33m'), warning);
  const request = lines.find((l) => / request piece=/.test(l));
  assert.ok(request !== undefined && !request.includes('\x1b['), request);
});

test('NO_COLOR=1 on a terminal: no colour', { skip }, () => {
  const lines = onTerminal('samples/wt-swarm.pcap --no-tui --no-summary', { NO_COLOR: '1' });
  assert.ok(lines.some((l) => l.includes('lt_donthave piece=')));
  assert.ok(!lines.some((l) => l.includes('\x1b[')));
});

test('into a pipe (in-process: stdout not a terminal): never an escape code, FORCE_COLOR or not', async () => {
  const forced = process.env.FORCE_COLOR;
  process.env.FORCE_COLOR = '1';
  try {
    const r = await runCli(['samples/wt-swarm.pcap', '--no-tui']);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.includes('lt_donthave piece='));
    assert.ok(!r.stdout.includes('\x1b['));
    assert.ok(!r.stderr.includes('\x1b['));
  } finally {
    if (forced === undefined) delete process.env.FORCE_COLOR;
    else process.env.FORCE_COLOR = forced;
  }
});
