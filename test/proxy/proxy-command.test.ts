import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyRecord, EventRecord } from '../../src/model/record.js';
import { concat, donthave, extHandshake, handshake, request } from '../support/bt-bytes.js';
import { dial, received, seedServer, session } from './wt-session.js';
import { assertSameRecords } from './saved-records.js';
import { builtCli } from '../support/built-cli.js';
import { memoryIo, runCli } from '../support/run-cli.js';
import { runProxyCommand } from '../../src/proxy/proxy-command.js';

interface Child {
  child: ReturnType<typeof spawn>;
  out: () => string;
  err: () => string;
  /** The exit status, once stdout and stderr are read to the end too ('exit' can come before them). */
  status: Promise<number | null>;
}

function child(args: string[]): Child {
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const status = once(c, 'close').then(([code]) => code as number | null);
  return { child: c, out: () => out, err: () => err, status };
}

/** runProxyCommand in-process (no TUI, summary on), on in-memory I/O: its status, stdout and stderr. */
async function runInProcess(listen: string, target: string, save?: string): Promise<{ status: number; out: string; err: string }> {
  const memory = memoryIo([listen, target]);
  const status = await runProxyCommand(listen, target, { save, tui: false, summary: true }, memory.io);
  return { status, out: memory.stdout(), err: memory.stderr() };
}

test('bad arguments, a port in use, a --save file that cannot be made: one line on stderr, exit 2', async () => {
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const port = (busy.address() as { port: number }).port;
  const inUse = await runInProcess(`127.0.0.1:${port}`, '127.0.0.1:1');
  const noSave = await runInProcess(':0', '127.0.0.1:1', '/nonexistent/dir/x.pcap');
  for (const [listen, target] of [['nonsense', '127.0.0.1:1'], [':0', 'no-port'], [':0', '[zz]:1']] as const) {
    const p = await runInProcess(listen, target);
    assert.equal(p.status, 2, `${listen} ${target}`);
    assert.equal(p.err.trim().split('\n').length, 1, p.err);
    assert.equal(p.out, '');
  }
  assert.equal(inUse.status, 2);
  assert.match(inUse.err, /address already in use/);
  assert.equal(inUse.err.trim().split('\n').length, 1);
  assert.equal(noSave.status, 2);
  assert.equal(noSave.err, 'ltdh-inspect: cannot write /nonexistent/dir/x.pcap: ENOENT\n');
  busy.close();
});

test('SIGTERM: stops, closes connections, prints the summary, exit 0', async () => {
  const target = createServer((s) => s.pipe(s));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const tport = (target.address() as { port: number }).port;
  const p = child([...builtCli(), 'proxy', '127.0.0.1:0', `127.0.0.1:${tport}`, '--json']);
  while (!/listening on/.test(p.err())) await new Promise((r) => setTimeout(r, 20));
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(p.err());
  assert.ok(m, p.err());
  const c = connect({ host: '127.0.0.1', port: Number(m[1]) });
  await once(c, 'connect');
  c.write('hello');
  await once(c, 'data');
  p.child.kill('SIGTERM');
  assert.equal(await p.status, 0, p.err());
  assert.match(p.err(), /conn 1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: 5 B up, 5 B down/);
  c.destroy();
  target.close();
});

const MAIN = builtCli();

/** The real program (commander and all), as a user runs it. */
function program(args: string[]): Child {
  return child([...MAIN, ...args]);
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function proxyPort(p: Child): Promise<number> {
  await until(`the banner, stderr: ${p.err()}`, () => /listening on/.test(p.err()) || p.child.exitCode !== null);
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(p.err());
  assert.ok(m, p.err());
  return Number(m[1]);
}

/**
 * A hand-made connection whose client withdraws a piece it never announced (a finding), using the
 * target's id for lt_donthave once the target's extended handshake is through, and leaves a request
 * unanswered (a finding made when the connection closes).
 */
async function findingConnection(proxyPortNumber: number, seedSocket: Promise<Socket>): Promise<void> {
  const c = await dial(proxyPortNumber);
  const closed = once(c, 'close');
  c.write(concat(handshake({ peerId: '-HM0001-cccccccccccc' }), extHandshake({ m: { lt_donthave: 3 } })));
  const t = await seedSocket;
  let fromTarget = 0;
  c.on('data', (d: Buffer) => (fromTarget += d.length));
  t.write(concat(handshake({ peerId: '-HM0001-tttttttttttt' }), extHandshake({ m: { lt_donthave: 5 } })));
  await until('the target\'s handshakes', () => fromTarget >= 68 + 30);
  let fromClient = 0;
  t.on('data', (d: Buffer) => (fromClient += d.length));
  c.end(concat(request(2, 0, 16384), donthave(5, 9)));
  await until('the lt_donthave', () => fromClient >= 68 + 30 + 17 + 10);
  t.end();
  await closed;
}

type Json = AnyRecord & { ts: number };
const parseLines = (text: string): Json[] => text.trimEnd().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Json);

test('real program, --json --save, real peers: records as they are decoded, findings, SIGTERM flushes; the saved pcap gives the same records', { timeout: 90_000 }, async (t) => {
  const seeds = await seedServer();
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-proxy-cli-'));
  const save = join(dir, 'live.pcap');
  const p = program(['proxy', '127.0.0.1:0', `127.0.0.1:${seeds.port}`, '--json', '--save', save]);
  t.after(() => {
    p.child.kill('SIGKILL');
    seeds.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await proxyPort(p);
  // conn 1 and 2: webtorrent sessions at once; conn 3: a finding; conn 4: still open at SIGTERM.
  const sessions = [];
  const clients: string[] = [];
  for (let i = 0; i < 2; i++) {
    const c = await dial(port);
    clients.push(`127.0.0.1:${c.localPort}`);
    sessions.push(session(c, await seeds.next()));
  }
  const results = await Promise.all(sessions);
  await findingConnection(port, seeds.next());
  const open = await dial(port);
  const openTarget = await seeds.next();
  open.write(handshake({ peerId: '-HM0001-oooooooooooo' }));
  openTarget.write(handshake({ peerId: '-HM0001-pppppppppppp' }));
  await until('records on stdout while the proxy runs', () => parseLines(p.out()).filter((r) => 'msg' in r && r.msg === 'handshake').length === 2 * 3 + 2);
  // A closed connection's findings come when it closes, not when the proxy stops.
  await until('the finding made at close', () => parseLines(p.out()).some((r) => 'finding' in r && r.finding === 'request-unanswered'));
  const before = parseLines(p.out());
  p.child.kill('SIGTERM');
  assert.equal(await p.status, 0, p.err());
  open.destroy();

  const live = parseLines(p.out());
  assert.deepEqual(live.slice(0, before.length), before, 'what was printed live stays as printed');
  const target = `127.0.0.1:${seeds.port}`;
  for (const [i, r] of results.entries()) {
    assert.deepEqual(received(live, i + 1, r.aAddr), r.a, `conn ${i + 1}: target -> client, as the client parsed it`);
    assert.deepEqual(received(live, i + 1, target), r.b, `conn ${i + 1}: client -> target, as the target parsed it`);
    assert.equal(r.aAddr, clients[i]);
  }
  const events = (name: string): EventRecord[] => live.filter((r): r is EventRecord & Json => 'conn' in r && 'event' in r && r.event === name);
  assert.deepEqual(events('finding').map((f) => [f.conn, f.finding]), [[3, 'donthave-not-announced'], [3, 'request-unanswered']]);
  assert.deepEqual(events('summary').map((r) => r.conn), [1, 2, 3, 4], 'a summary per connection, after SIGTERM');
  for (const conn of [1, 2, 3, 4]) assert.match(p.err(), new RegExp(`conn ${conn} 127\\.0\\.0\\.1:\\d+ -> ${target.replace(/\./g, '\\.')}: \\d+ B up, \\d+ B down, [\\d.]+ s, ${conn === 4 ? 'aborted' : 'closed'}`));

  const replay = spawnSync(process.execPath, [...MAIN, save, '--json'], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  assert.equal(replay.status, 0, replay.stderr);
  assertSameRecords(parseLines(replay.stdout), live, 'ltdh-inspect FILE.pcap --json');
});

test('real program, text timeline: lt_donthave lines as they pass, Ctrl-C (SIGINT) stops with the summary, exit 0', { timeout: 60_000 }, async (t) => {
  const seeds = await seedServer();
  const p = program(['proxy', '127.0.0.1:0', `127.0.0.1:${seeds.port}`]);
  t.after(() => {
    p.child.kill('SIGKILL');
    seeds.close();
  });
  const port = await proxyPort(p);
  const c = await dial(port);
  const client = `127.0.0.1:${c.localPort}`;
  const r = await session(c, await seeds.next());
  const target = `127.0.0.1:${seeds.port}`;
  // The session is over once the proxy has seen both sides close.
  await until(`the close of both sides, stdout:\n${p.out()}`, () => (p.out().match(/^ +[\d.]+ +#1 .* connection closed$/gm) ?? []).length === 2);
  const line = (from: string, to: string, piece: number): RegExp => new RegExp(`#1  ${from.replace(/\./g, '\\.')} -> ${to.replace(/\./g, '\\.')}  >> lt_donthave piece=${piece} `);
  await until(`both lt_donthave lines before the signal, stdout:\n${p.out()}`, () => line(target, client, 6).test(p.out()) && line(client, target, 2).test(p.out()));
  assert.equal(r.bytes, 4 * 16384);
  p.child.kill('SIGINT');
  assert.equal(await p.status, 0, p.err());
  assert.match(p.err(), /conn 1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: 234 B up, 65724 B down, [\d.]+ s, closed/);
  assert.match(p.out(), /lt_donthave/);
});

test('the program: bad proxy arguments are a one-line error, exit 2', async () => {
  for (const args of [['proxy', ':0'], ['proxy', ':0', '127.0.0.1:1', '--bogus']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
