// `-i lo`: ltdh-inspect runs tcpdump itself and decodes a real webtorrent exchange on loopback as it
// happens (the session of test/proxy/wt-session.ts: bittorrent-protocol Wires, lt_donthave both
// ways). Ctrl-C (SIGINT) stops tcpdump; what was captured is printed and the command exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { AnyRecord } from '../../src/model/record.js';
import { dial, received, seedServer, session } from '../proxy/wt-session.js';
import { builtCli } from '../support/built-cli.js';

const MAIN = builtCli();

function skipReason(): string | undefined {
  if (spawnSync('tcpdump', ['--version']).error !== undefined) return 'tcpdump is not installed';
  if (process.getuid?.() !== 0) return 'capturing on lo needs root';
  return undefined;
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('-i lo -f BPF catches a real webtorrent exchange on loopback; Ctrl-C stops tcpdump and prints what was captured', { skip: skipReason() }, async () => {
  const seeder = await seedServer();
  const cli = spawn(process.execPath, [...MAIN, '-i', 'lo', '-f', `tcp port ${seeder.port}`, '--json', '--no-summary'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cli.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  cli.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  try {
    await until('the capture to start', () => stderr.includes('capturing with tcpdump -i lo'));
    const client = await dial(seeder.port);
    const result = await session(client, await seeder.next());
    // tcpdump -U writes each packet as it comes: the last lt_donthave reaches the decoder.
    await until('the last lt_donthave in the output', () => (stdout.match(/"lt_donthave"/g) ?? []).length >= 2);
    const exit = once(cli, 'exit');
    cli.kill('SIGINT');
    const [code] = (await exit) as [number | null];
    assert.equal(code, 0, stderr);
    const records = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AnyRecord);
    const conn = records.find((r) => 'conn' in r && 'msg' in r)!.conn as number;
    const seederAddr = `127.0.0.1:${seeder.port}`;
    assert.deepEqual(received(records, conn, result.aAddr), result.a, 'the leecher Wire saw what was decoded toward it');
    assert.deepEqual(received(records, conn, seederAddr), result.b, 'the seeder Wire saw what was decoded toward it');
    assert.ok(result.a.some((s) => s.ext === 'lt_donthave' && s.piece === 6));
  } finally {
    cli.kill('SIGKILL');
    seeder.close();
  }
});

test('-i on an interface that does not exist: one line naming tcpdump and the reason, exit 2', { skip: skipReason() }, () => {
  const r = spawnSync(process.execPath, [...MAIN, '-i', 'ltdh-no-such0', '--no-tui'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^ltdh-inspect: tcpdump -i ltdh-no-such0 'tcp or udp': .*(No such device|doesn't exist)/m);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
});

test('-i without permission (run as nobody): one line that says so, exit 2', { skip: skipReason() ?? (spawnSync('setpriv', ['--version']).error ? 'setpriv is not installed' : undefined) }, () => {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...MAIN, '-i', 'lo', '--no-tui'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /permission denied: .* \(run as root, or give tcpdump the CAP_NET_RAW capability\)/);
});

test('-i with neither tcpdump nor dumpcap on PATH: one line naming both, exit 2', () => {
  const r = spawnSync(process.execPath, [...MAIN, '-i', 'lo', '--no-tui'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: '/ltdh-nothing-here' } });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'ltdh-inspect: -i needs tcpdump or dumpcap to capture, and neither is installed (apt install tcpdump)\n');
});
