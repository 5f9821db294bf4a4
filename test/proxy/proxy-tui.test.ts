// The proxy's interactive timeline in a real terminal (tmux, skipped when it is missing): a port in
// use is a one-line error before the UI takes the screen, and `q` stops the proxy and exits 0 with
// the per-connection summary, also when no connection is open any more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, connect, type Server } from 'node:net';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, handshake, piece } from '../support/bt-bytes.js';
import { builtCli } from '../support/built-cli.js';

const root = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const socket = `ltdh-proxy-tui-${process.pid}`;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = (session: string): string => tmux('capture-pane', '-p', '-t', session);

async function waitFor(session: string, what: string, ok: (s: string) => boolean, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    s = screen(session);
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}; screen:\n${s}`);
}

async function listening(onConn: Parameters<typeof createServer>[1] = () => {}): Promise<{ server: Server; port: number }> {
  const server = createServer(onConn);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

function start(session: string, listen: string, target: string, extra = ''): void {
  const command = `cd '${root}' && node ${builtCli().join(' ')} proxy ${listen} ${target} ${extra}; echo "EXIT=$?"; sleep 60`;
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', '140', '-y', '40', '-e', 'TERM=xterm-256color', command);
}

test('proxy in the terminal UI: port in use is one line and exit 2; with --save the bytes pane shows a whole piece; q stops the proxy, prints the summary, exit 0', { skip: !hasTmux && 'tmux is not installed', timeout: 90_000 }, async (t) => {
  const echo = await listening((s) => s.pipe(s));
  const busy = await listening();
  t.after(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    echo.server.close();
    busy.server.close();
  });

  // A free port for the proxy: taken and given back (the UI shows no banner to read it from).
  const free = await listening();
  const port = free.port;
  await new Promise((r) => free.server.close(r));
  // The two programs at once, to keep the test short.
  start('busy', `127.0.0.1:${busy.port}`, `127.0.0.1:${echo.port}`);
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-proxy-tui-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  start('tui', `127.0.0.1:${port}`, `127.0.0.1:${echo.port}`, `--save '${join(dir, 'live.pcap')}'`);
  let s = await waitFor('busy', 'the port-in-use error', (x) => /EXIT=\d+/.test(x));
  assert.deepEqual(s.trim().split('\n'), [`ltdh-inspect: cannot listen on 127.0.0.1:${busy.port}: address already in use`, 'EXIT=2']);

  await waitFor('tui', 'the UI', (x) => /no records yet|\bproxy\b/.test(x) && !/EXIT=/.test(x));
  // The proxy listens before the UI takes the screen.
  const c = connect({ host: '127.0.0.1', port });
  await once(c, 'connect');
  const sent = concat(handshake(), piece(7, 0, randomBytes(16384)));
  let echoed = 0;
  c.on('data', (d: Buffer) => (echoed += d.length));
  c.write(sent);
  while (echoed < sent.length) await new Promise((r) => setTimeout(r, 20));
  c.end();
  await once(c, 'close');
  await waitFor('tui', 'both handshakes in the timeline', (x) => (x.match(/handshake/g) ?? []).length >= 2);
  // The piece (16,397 bytes; the UI keeps 256) is read back from the --save file, to its last line.
  tmux('send-keys', '-t', 'tui', '-l', '/piece');
  tmux('send-keys', '-t', 'tui', 'Enter');
  await waitFor('tui', 'the piece filter', (x) => /filter: piece/.test(x));
  tmux('send-keys', '-t', 'tui', 'Tab', 'Tab', 'End');
  // 16 bytes a line at this width: the last holds the piece's last 13 bytes.
  s = await waitFor('tui', 'the last line of the piece', (x) => /Bytes \(16397 bytes, lines \d+-1025 of 1025\)/.test(x) && /\s4000( [0-9a-f]{2}){8} ( [0-9a-f]{2}){5}\s/.test(x));
  assert.doesNotMatch(s, /first 256 of/);
  tmux('send-keys', '-t', 'tui', 'Escape');
  // No connection is open now: quitting must still stop the listener, or the process would stay.
  tmux('send-keys', '-t', 'tui', 'q');
  s = await waitFor('tui', 'the exit', (x) => /EXIT=\d+/.test(x));
  assert.match(s, /EXIT=0/);
  assert.match(s, new RegExp(`ltdh-inspect: conn 1 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${echo.port}: ${sent.length} B up, ${sent.length} B down, [\\d.]+ s, closed`));
});
