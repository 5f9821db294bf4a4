// The proxy judges stalls in wall-clock time while the connection is live: the real program with
// --stall 1 between a hand-made client whose request is never answered and a target that
// announces every piece and unchokes it, over loopback sockets. The finding must arrive while both
// sockets are still open (no byte moves after the request), then the piece ends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AnyRecord, EventRecord } from '../../src/model/record.js';
import { concat, handshake, msg, piece, request } from '../support/bt-bytes.js';
import { builtCli } from '../support/built-cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function records(text: string): AnyRecord[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AnyRecord);
}

function findings(text: string, code: string): EventRecord[] {
  return records(text).filter((r): r is EventRecord => 'event' in r && r.event === 'finding' && r.finding === code);
}

test('proxy --stall 1: request-stalled while the connection is live, request-stall-ended when the piece comes, stalls in the summary', { timeout: 60_000 }, async () => {
  let targetSide: Socket | undefined;
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (accept = resolve));
  const targetServer = createServer((s) => accept(s));
  targetServer.listen(0, '127.0.0.1');
  await once(targetServer, 'listening');
  const tport = (targetServer.address() as { port: number }).port;
  const p = spawn(process.execPath, [...builtCli(), 'proxy', '127.0.0.1:0', `127.0.0.1:${tport}`, '--json', '--no-tui', '--stall', '1'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = once(p, 'close').then(([code]) => code as number | null);
  let client: Socket | undefined;
  try {
    await until(`the banner (${err})`, () => /listening on 127\.0\.0\.1:\d+/.test(err));
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)![1]);
    client = connect({ host: '127.0.0.1', port });
    await once(client, 'connect');
    client.on('data', () => undefined);
    client.write(handshake({ ext: false, peerId: '-XX0001-requester000' }));
    targetSide = await accepted;
    targetSide.on('data', () => undefined);
    // the target: handshake, a bitfield with all 8 pieces, unchoke
    targetSide.write(concat(handshake({ ext: false, peerId: '-YY0001-silentpeer00' }), msg(5, Uint8Array.of(0xff)), msg(1)));
    await until('the unchoke through the proxy', () => records(out).some((r) => 'msg' in r && r.msg === 'unchoke'));
    const asked = Date.now();
    client.write(concat(msg(2), request(3, 0, 16384)));
    await until(`request-stalled (stdout: ${out.slice(-500)})`, () => findings(out, 'request-stalled').length > 0, 15_000);
    const waited = (Date.now() - asked) / 1000;
    // judged by the timer: nothing moved on the connection after the request
    assert.ok(waited >= 1, `raised after ${waited} s`);
    assert.ok(!client.destroyed && !targetSide.destroyed, 'both sockets still open');
    const f = findings(out, 'request-stalled')[0]!;
    assert.equal(f.severity, 'warning');
    assert.equal(f.piece, 3);
    assert.ok(f.seconds !== undefined && f.seconds > 1, String(f.seconds));
    assert.match(f.message ?? '', /has sent no piece, reject or choke for \d+\.\d s while 1 request\(s\) from 127\.0\.0\.1:\d+ wait, for piece 3; the oldest: piece 3 begin 0 length 16384\./);
    assert.match(f.message ?? '', /neither set the fast bit: BEP 54 leaves the peer no way to say it lost the piece except to disconnect/);
    assert.equal(findings(out, 'request-stalled').length, 1);
    // once per stall: still one a second later
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(findings(out, 'request-stalled').length, 1);
    // the piece ends it
    targetSide.write(piece(3, 0, new Uint8Array(16384)));
    await until('request-stall-ended', () => findings(out, 'request-stall-ended').length > 0);
    const e = findings(out, 'request-stall-ended')[0]!;
    assert.match(e.message ?? '', /pieces flow again$/);
    assert.ok(e.seconds! >= f.seconds!);
    client.destroy();
    targetSide.destroy();
    p.kill('SIGTERM');
    assert.equal(await status, 0, err);
    const summary = records(out).find((r): r is EventRecord => 'event' in r && r.event === 'summary');
    assert.equal(summary?.summary?.stalls?.count, 1);
    assert.equal(summary?.summary?.stalls?.longest, e.seconds);
  } finally {
    if (p.exitCode === null) p.kill('SIGKILL');
    client?.destroy();
    targetSide?.destroy();
    targetServer.close();
  }
});
