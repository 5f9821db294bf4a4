// Drives the real program in a real terminal: tmux runs `ltdh-inspect samples/wt-sample.pcap`, the test
// sends keys and reads the screen back with capture-pane. Skips when tmux is not installed. Runs twice:
// the sources through tsx, and the bundled program that `npm install` builds (dist/cli/main.js, what
// the `ltdh-inspect` bin runs), whose build settings (production React, the UI chunk) the sources lack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBuilt } from '../support/built-cli.js';

const root = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
/**
 * Each session gets a tmux server of its own: a new session on the socket of the server the test
 * before killed can reach it while it is still exiting ("server exited unexpectedly", once in CI).
 */
let sessions = 0;
let socket = '';
function newServer(): void {
  socket = `ltdh-e2e-${process.pid}-${++sessions}`;
}

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = (): string => tmux('capture-pane', '-p', '-t', 'e2e');
const alternateOn = (): boolean => tmux('display-message', '-p', '-t', 'e2e', '#{alternate_on}').trim() === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: (s: string) => boolean, ms = 20000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen();
    if (ok(s)) return s;
    if (/^EXIT=\d+$/m.test(s)) break;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${s}`);
}

function selectedRow(s: string): string | undefined {
  return s.split('\n').find((l) => l.startsWith('▶'));
}

function timelineRows(s: string): string[] {
  return s.split('\n').filter((l) => /^[▶> ][◆?✗~!· ] +(\+\d+\.\d{6}|\d\d:\d\d:\d\d\.\d{3}) /.test(l));
}

const programs: [string, string][] = [
  ['sources', 'node --import tsx src/cli/main.ts'],
  ['built program', 'node dist/cli/main.js'],
];

for (const [name, program] of programs) {
  test(`tmux (${name}): open a capture, n finds lt_donthave, / filters, q exits 0 and leaves the alternate screen`, { timeout: 300_000 }, async (t) => {
    if (!hasTmux) {
      t.skip('tmux is not installed');
      return;
    }
    if (program.includes('dist/')) ensureBuilt('cli');
    await driveProgram(program);
  });
}

async function driveProgram(program: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-e2e-'));
  const status = join(dir, 'status');
  const command = `cd '${root}' && printf 'BEFORE-TUI\\n' && ${program} samples/wt-sample.pcap; echo "EXIT=$?" > '${status}'; echo "EXIT=$(cat '${status}')"; sleep 60`;
  newServer();
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', '-e', 'TERM=xterm-256color', command);
  try {
    let s = await waitFor('the timeline to finish loading', (x) => / │ \d+\/\d+ │ .* │ done │/.test(x));
    assert.ok(alternateOn(), 'the UI should run on the alternate screen');
    assert.ok(!s.includes('BEFORE-TUI'), 'the shell output should be hidden while the UI runs');
    assert.match(selectedRow(s) ?? '', /handshake|\+0\.000000/);

    tmux('send-keys', '-t', 'e2e', 'n');
    s = await waitFor('n to select an lt_donthave row', (x) => /lt_donthave\s+piece=\d+/.test(selectedRow(x) ?? ''));
    const piece = /lt_donthave\s+piece=(\d+)/.exec(selectedRow(s)!)![1]!;
    assert.match(s, new RegExp(`piece: ${piece}\\b`), 'the details pane shows the piece');
    assert.match(s, /X/, 'the piece map marks a lost piece');

    tmux('send-keys', '-t', 'e2e', 'f');
    s = await waitFor('f to select a finding row', (x) => /FINDING\s+(warning|info|error) [a-z-]+/.test(selectedRow(x) ?? ''));
    tmux('send-keys', '-t', 'e2e', '!');
    s = await waitFor('the findings list', (x) => /Findings: \d+ errors, \d+ warnings, \d+ info/.test(x));
    tmux('send-keys', '-t', 'e2e', 'Escape');
    await waitFor('the timeline again', (x) => !/Findings: \d+ errors/.test(x));

    // A piece message is longer than what the UI keeps of it: the hex pane reads the rest back from
    // the file, down to its last line (16 bytes a line at this width, 1025 lines).
    tmux('send-keys', '-t', 'e2e', '/');
    await waitFor('the filter prompt', (x) => /^\/.*Enter apply/m.test(x));
    tmux('send-keys', '-t', 'e2e', '-l', 'piece and length == 16384');
    tmux('send-keys', '-t', 'e2e', 'Enter');
    await waitFor('the piece filter to apply', (x) => /│ filter: piece and length == 16384 │/.test(x));
    // Sent in one write, as a fast typist or a paste delivers them: each key must still count.
    tmux('send-keys', '-t', 'e2e', 'Tab', 'Tab', 'End');
    s = await waitFor('the last bytes of a piece', (x) => /Bytes \(16397 bytes, lines \d+-1025 of 1025\)/.test(x) && /\s4000( [0-9a-f]{2}){8} ( [0-9a-f]{2}){5}\s/.test(x));
    assert.doesNotMatch(s, /first 256 of/);
    tmux('send-keys', '-t', 'e2e', 'Escape');

    // The editor opens on the filter in force; Ctrl-U empties it.
    tmux('send-keys', '-t', 'e2e', '/');
    await waitFor('the filter prompt on the filter in force', (x) => /^\/piece and length == 16384 .*Enter apply/m.test(x));
    tmux('send-keys', '-t', 'e2e', 'C-u');
    tmux('send-keys', '-t', 'e2e', '-l', 'lt_donthave');
    tmux('send-keys', '-t', 'e2e', 'Enter');
    s = await waitFor('the filter to apply', (x) => /│ \d+\/\d+ │ filter: lt_donthave │/.test(x));
    const rows = timelineRows(s);
    assert.ok(rows.length > 0, `no timeline rows:\n${s}`);
    for (const row of rows) assert.match(row, /lt_donthave\s+piece=\d+/, `filtered row: ${row}`);
    const [, shown, total] = /│ (\d+)\/(\d+) │ filter/.exec(s)!;
    assert.ok(Number(shown) < Number(total), 'the filter hides other messages');

    tmux('send-keys', '-t', 'e2e', 'q');
    s = await waitFor('the program to exit', (x) => /EXIT=\d+/.test(x), 10000);
    assert.equal(readFileSync(status, 'utf8').trim(), 'EXIT=0');
    assert.ok(!alternateOn(), 'the alternate screen should be off after exit');
    assert.match(s, /BEFORE-TUI/, 'the shell screen is back');
    assert.doesNotMatch(s, /filter: lt_donthave/, 'no UI left on the normal screen');
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tmux (built program): a live capture on stdin (tcpdump -w - | ltdh-inspect -): keys come from the terminal, q exits 0 at once while stdin is still open', { timeout: 300_000 }, async (t) => {
  if (!hasTmux) {
    t.skip('tmux is not installed');
    return;
  }
  ensureBuilt('cli');
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-e2e-'));
  const status = join(dir, 'status');
  // The writer keeps stdin open for 40 s after the capture, as tcpdump does between packets.
  const command = `cd '${root}' && (cat samples/wt-sample.pcap; sleep 40) | (node dist/cli/main.js -; echo "EXIT=$?" > '${status}'; echo "EXIT=$(cat '${status}')"); sleep 60`;
  newServer();
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'e2e', '-x', '120', '-y', '40', '-e', 'TERM=xterm-256color', command);
  try {
    await waitFor('the timeline of the live capture', (x) => / stdin │ \d+\/\d+ │ no filter │ \d+ err \d+ warn \d+ info │ reading… │/.test(x));
    tmux('send-keys', '-t', 'e2e', 'n');
    await waitFor('n to select an lt_donthave row', (x) => /lt_donthave\s+piece=\d+/.test(selectedRow(x) ?? ''));
    tmux('send-keys', '-t', 'e2e', 'q');
    // The writer holds stdin open for 40 s: an exit seen within 30 s did not wait for stdin to close.
    await waitFor('the program to exit while stdin is still open', (x) => /EXIT=\d+/.test(x), 30000);
    assert.equal(readFileSync(status, 'utf8').trim(), 'EXIT=0');
    assert.ok(!alternateOn(), 'the alternate screen should be off after exit');
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(dir, { recursive: true, force: true });
  }
});
