// The real command line: options reach the command they are written after. Commander takes a
// top-level option from anywhere on the line unless told otherwise, so `proxy A B --json` once set
// the capture command's --json and the proxy printed text. The proxy (stopped by a signal) and a
// reader that goes away run the built program; the rest runs in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { builtCli } from '../support/built-cli.js';
import { runCli } from '../support/run-cli.js';

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('capture options before or after the file', async () => {
  for (const args of [['samples/wt-sample.pcap', '--json', '--no-summary'], ['--json', '--no-summary', 'samples/wt-sample.pcap']]) {
    const r = await cli(...args);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.ok(lines.length > 100);
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
  }
});

test('proxy --json and --filter through the real program: JSON records, filtered', async (t) => {
  const target = createServer((s) => s.pipe(s));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const tport = (target.address() as { port: number }).port;
  const child = spawn(process.execPath, [...builtCli(), 'proxy', '127.0.0.1:0', `127.0.0.1:${tport}`, '--json', '--filter', 'handshake'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    child.kill('SIGKILL');
    target.close();
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await until('the banner', () => /listening on/.test(err) || child.exitCode !== null);
  assert.equal(child.exitCode, null, err);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)![1]);
  const c = connect({ host: '127.0.0.1', port });
  await once(c, 'connect');
  const handshake = Buffer.alloc(68);
  handshake[0] = 19;
  handshake.write('BitTorrent protocol', 1, 'latin1');
  c.write(Buffer.concat([handshake, Buffer.from([0, 0, 0, 1, 2])]));
  let echoed = 0;
  c.on('data', (d: Buffer) => (echoed += d.length));
  await until('the echo', () => echoed >= 73);
  await until(`JSON handshake records on stdout, got: ${out.slice(0, 200)}`, () => out.includes('"msg":"handshake"'), 5_000);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, err);
  const records = out.trimEnd().split('\n').map((l) => JSON.parse(l) as { msg?: string; event?: string; ts: number });
  const messages = records.filter((r) => r.msg !== undefined);
  // The echo server sends the handshake back: one each way, and no `interested` (filtered out).
  assert.deepEqual(messages.map((r) => r.msg), ['handshake', 'handshake']);
  assert.ok(records.some((r) => r.event === 'summary'));
  c.destroy();
});

test('usage errors: one line on stderr naming the problem and where help is, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--bogus', 'x.pcap'], /^ltdh-inspect: unknown option '--bogus' \(see ltdh-inspect --help\)\n$/],
    [['-p', '0', 'x.pcap'], /^ltdh-inspect: option '-p, --port <port>' argument '0' is invalid\. a port is a number from 1 to 65535 \(see ltdh-inspect --help\)\n$/],
    [['proxy', ':0'], /^ltdh-inspect: missing required argument 'target' \(see ltdh-inspect proxy --help\)\n$/],
  ];
  for (const [args, expected] of cases) {
    const r = await cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, expected);
    assert.equal(r.stdout, '', args.join(' '));
  }
  const help = await cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: ltdh-inspect \[options\] \[command\] \[capture\]/);
});

test('a reader that goes away (| head) ends the program quietly, exit 0', async () => {
  for (const args of [['--help'], ['samples/wt-swarm.pcap', '--no-tui'], ['samples/wt-swarm.pcap', '--json']]) {
    const child = spawn(process.execPath, [...builtCli(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, `${args.join(' ')}: ${err}`);
    assert.doesNotMatch(err, /EPIPE|\n\s+at /, args.join(' '));
  }
});
