// The terminal going away under the UI: a killed tmux pane (the terminal is gone: writes fail with EIO,
// maybe a SIGHUP too) and `kill -HUP` with the terminal still there. Either way the program ends as a
// hang-up ends a program, by SIGHUP, and says nothing: before, it printed "cannot write to standard
// output: EIO" and Node aborted in ResetStdio restoring the modes of the dead terminal. A small
// wrapper in the pane runs the program (stderr to a file) and notes how it ended; it outlives the
// hang-up itself. Skips when tmux is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilt } from '../support/built-cli.js';

const root = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs node ARGS with stderr to ERR and writes {status, signal} to STATUS when it ends; the child's
 * pid goes to PID. It ignores SIGHUP, so it ends only 20 s after the child. DETACH=1 starts the child in a session of its own: no SIGHUP from the kernel
 * reaches it, only EIO from the dead terminal.
 */
const WRAPPER = `process.on('SIGHUP', () => {});
const { spawn } = require('child_process'); const fs = require('fs');
const [err, status, pid, ...args] = process.argv.slice(2);
const c = spawn(process.execPath, args, { stdio: ['inherit', 'inherit', fs.openSync(err, 'w')], detached: process.env.DETACH === '1' });
fs.writeFileSync(pid, String(c.pid));
c.on('exit', (code, signal) => {
  fs.writeFileSync(status, JSON.stringify({ code, signal }));
  // The pane stays a while, so the test can look at the screen; then the wrapper ends by itself.
  setTimeout(() => {}, 20000);
});`;

interface Ended {
  code: number | null;
  signal: string | null;
  stderr: string;
}

async function hangUp(how: 'kill-pane' | 'kill -HUP', detach: boolean): Promise<{ ended: Ended; alternateAfter: boolean | undefined }> {
  ensureBuilt('cli');
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-hup-'));
  const socket = `ltdh-hup-${process.pid}-${how === 'kill-pane' ? 'p' : 'h'}${detach ? 'd' : ''}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const [wrapper, err, status, pid] = ['wrapper.cjs', 'stderr', 'status', 'pid'].map((f) => join(dir, f)) as [string, string, string, string];
  writeFileSync(wrapper, WRAPPER);
  const command = `cd '${root}' && exec ${process.execPath} ${wrapper} ${err} ${status} ${pid} dist/cli/main.js samples/wt-sample.pcap`;
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'h', '-x', '120', '-y', '40', '-e', 'TERM=xterm-256color', '-e', `DETACH=${detach ? 1 : 0}`, command);
  try {
    const end = Date.now() + 30_000;
    while (!/│ \d+\/\d+ │ no filter │ .* │ done │/.test(tmux('capture-pane', '-p', '-t', 'h').stdout ?? '')) {
      if (Date.now() > end) assert.fail(`the UI did not show the capture:\n${tmux('capture-pane', '-p', '-t', 'h').stdout}`);
      await sleep(100);
    }
    let alternateAfter: boolean | undefined;
    if (how === 'kill-pane') tmux('kill-pane', '-t', 'h');
    else process.kill(Number(readFileSync(pid, 'utf8')), 'SIGHUP');
    for (const stop = Date.now() + 15_000; !existsSync(status) && Date.now() < stop; ) await sleep(100);
    assert.ok(existsSync(status), 'the program should end');
    if (how === 'kill -HUP') alternateAfter = tmux('display-message', '-p', '-t', 'h', '#{alternate_on}').stdout.trim() === '1';
    const { code, signal } = JSON.parse(readFileSync(status, 'utf8')) as { code: number | null; signal: string | null };
    return { ended: { code, signal, stderr: readFileSync(err, 'utf8') }, alternateAfter };
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ended by SIGHUP (or, where it is ignored, exit status 129: what a shell reports for it), silently. */
function assertHungUp(ended: Ended): void {
  assert.equal(ended.stderr, '', 'nothing on stderr (no EIO line, no assertion)');
  assert.ok(ended.signal === 'SIGHUP' || ended.code === 129, `ended by SIGHUP, not ${ended.signal ?? `status ${ended.code}`}`);
}

const cases: [string, 'kill-pane' | 'kill -HUP', boolean][] = [
  ['tmux kill-pane: the terminal is gone', 'kill-pane', false],
  ['tmux kill-pane with the program in a session of its own: only EIO tells it', 'kill-pane', true],
  ['kill -HUP with the terminal still there: it is given back, off the alternate screen', 'kill -HUP', false],
];

for (const [name, how, detach] of cases) {
  test(`tmux (built program), hang-up: ${name}; the program ends by SIGHUP and prints nothing`, { timeout: 120_000 }, async (t) => {
    if (!hasTmux) {
      t.skip('tmux is not installed');
      return;
    }
    const { ended, alternateAfter } = await hangUp(how, detach);
    assertHungUp(ended);
    if (how === 'kill -HUP') assert.equal(alternateAfter, false, 'the terminal is back on the normal screen');
  });
}
