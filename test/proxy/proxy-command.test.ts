import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const runner = fileURLToPath(new URL('./run-proxy-command.ts', import.meta.url));

function run(args: string[]): { child: ReturnType<typeof spawn>; out: () => string; err: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

async function exitCode(child: ReturnType<typeof spawn>): Promise<number | null> {
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

test('bad arguments and a port in use: one line on stderr, exit 2', async () => {
  for (const args of [['nonsense', '127.0.0.1:1'], [':0', 'no-port'], [':0', '[zz]:1']]) {
    const p = run(args);
    assert.equal(await exitCode(p.child), 2, args.join(' '));
    assert.equal(p.err().trim().split('\n').length, 1, p.err());
  }
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const port = (busy.address() as { port: number }).port;
  const p = run([`127.0.0.1:${port}`, '127.0.0.1:1']);
  assert.equal(await exitCode(p.child), 2);
  assert.match(p.err(), /address already in use/);
  assert.equal(p.err().trim().split('\n').length, 1);
  busy.close();
});

test('SIGTERM: stops, closes connections, prints the summary, exit 0', async () => {
  const target = createServer((s) => s.pipe(s));
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const tport = (target.address() as { port: number }).port;
  const p = run(['127.0.0.1:0', `127.0.0.1:${tport}`, '--json']);
  while (!/listening on/.test(p.err())) await new Promise((r) => setTimeout(r, 20));
  const m = /listening on 127\.0\.0\.1:(\d+)/.exec(p.err());
  assert.ok(m, p.err());
  const c = connect({ host: '127.0.0.1', port: Number(m[1]) });
  await once(c, 'connect');
  c.write('hello');
  await once(c, 'data');
  p.child.kill('SIGTERM');
  assert.equal(await exitCode(p.child), 0, p.err());
  assert.match(p.err(), /conn 1 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: 5 B up, 5 B down/);
  c.destroy();
  target.close();
});
