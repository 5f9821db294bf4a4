import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { startProxy, type DecoderFactory } from '../../src/proxy/relay.js';
import type { AnyRecord, Dir } from '../../src/model/record.js';

interface Tapped {
  bytes: [number, number];
  hashes: [ReturnType<typeof createHash>, ReturnType<typeof createHash>];
  ends: string[];
  finished: boolean;
}

function recordingDecoder(taps: Tapped[]): DecoderFactory {
  return () => {
    const t: Tapped = { bytes: [0, 0], hashes: [createHash('sha1'), createHash('sha1')], ends: [], finished: false };
    taps.push(t);
    return {
      data: (dir: Dir, b: Uint8Array) => {
        t.bytes[dir] += b.length;
        t.hashes[dir].update(b);
      },
      gap: () => {},
      end: (dir: Dir, how: string) => void t.ends.push(`${dir}:${how}`),
      finish: () => void (t.finished = true),
    };
  };
}

async function listenServer(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

async function freePort(): Promise<number> {
  const { server, port } = await listenServer(() => {});
  await new Promise((r) => server.close(r));
  return port;
}

function collect(s: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

function sha(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(s, 'connect');
  return s;
}

test('bytes pass unchanged both ways, half-close passes through, the tap sees the same bytes', async () => {
  const up = randomBytes(3_000_000);
  const down = randomBytes(2_000_000);
  let gotTarget!: (b: Promise<Buffer>) => void;
  const atTarget = new Promise<Buffer>((resolve) => (gotTarget = (b) => void b.then(resolve)));
  const { server, port } = await listenServer((s) => {
    const got = collect(s);
    gotTarget(got);
    // The target keeps sending after the client's FIN: half-close must not cut it.
    void got.then(() => s.end(down));
  });
  const taps: Tapped[] = [];
  const records: AnyRecord[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), decoder: recordingDecoder(taps) });
  const c = await dial(proxy.port);
  const atClient = collect(c);
  c.end(up);
  const [gotUp, gotDown] = await Promise.all([atTarget, atClient]);
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  assert.equal(sha(gotUp), sha(up));
  assert.equal(sha(gotDown), sha(down));
  assert.equal(taps.length, 1);
  const t = taps[0]!;
  assert.deepEqual(t.bytes, [up.length, down.length]);
  assert.equal(t.hashes[0].digest('hex'), sha(up));
  assert.equal(t.hashes[1].digest('hex'), sha(down));
  assert.deepEqual(t.ends, ['0:fin', '1:fin']);
  assert.ok(t.finished);
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.bytesUp, up.length);
  assert.equal(reports[0]!.bytesDown, down.length);
  assert.equal(reports[0]!.end, 'closed');
  assert.equal(records.length, 0);
});

test('a throwing decoder never alters, delays or drops forwarded bytes', async () => {
  const up = randomBytes(500_000);
  let atTarget: Promise<Buffer> | undefined;
  const { server, port } = await listenServer((s) => {
    atTarget = collect(s);
    void atTarget.then(() => s.end());
  });
  const records: AnyRecord[] = [];
  let calls = 0;
  const decoder: DecoderFactory = () => ({
    data: () => {
      calls++;
      throw new Error('decoder bug');
    },
    gap: () => {},
    end: () => {},
    finish: () => {},
  });
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), decoder });
  const c = await dial(proxy.port);
  const done = collect(c);
  c.end(up);
  await done;
  assert.equal(sha((await atTarget)!), sha(up));
  const reports = await proxy.close();
  server.close();
  assert.equal(calls, 1, 'decoding stops after the first failure');
  assert.match(reports[0]!.decoderError ?? '', /decoder bug/);
  assert.ok(records.some((r) => 'event' in r && r.event === 'warning' && /decoder bug/.test(r.message ?? '')));
});

test('target down: client closed, an event recorded, proxy still relays afterwards', async () => {
  const deadPort = await freePort();
  const records: AnyRecord[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: deadPort }, sink: (r) => records.push(r), decoder: recordingDecoder([]) });
  const c = await dial(proxy.port);
  c.on('error', () => {});
  await Promise.race([once(c, 'end'), once(c, 'close')]);
  const reports = await proxy.close();
  assert.equal(reports[0]!.end, 'refused');
  const ev = records.find((r) => 'event' in r && r.event === 'close');
  assert.ok(ev && 'event' in ev && 'conn' in ev && ev.conn === 1 && /ECONNREFUSED/.test(ev.message ?? ''));
});

test('faults: target closes mid-transfer, client resets mid-message, idle client, 200 at once, then a clean relay', async () => {
  const modes: string[] = [];
  const { server, port } = await listenServer((s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => {
      const mode = d.subarray(0, 5).toString();
      modes.push(mode);
      if (mode === 'CLOSE') s.destroy();
      else if (mode === 'RESET') { /* the client resets; wait */ }
      else {
        s.write(d);
        s.on('data', (more: Buffer) => s.write(more));
        s.on('end', () => s.end());
      }
    });
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });

  // Target closes while the client is still sending.
  const a = await dial(proxy.port);
  a.on('error', () => {});
  a.write('CLOSE');
  const big = randomBytes(4_000_000);
  a.write(big);
  await new Promise((r) => a.once('close', r).once('end', r));
  a.destroy();

  // Client resets in the middle of a message.
  const b = await dial(proxy.port);
  b.write('RESET' + '\x00\x00\x40\x09\x07partial');
  await new Promise((r) => setTimeout(r, 50));
  b.resetAndDestroy();

  // A client that never sends stays open without blocking anyone.
  const idle = await dial(proxy.port);

  // 200 concurrent connections, each echoing its own payload.
  const many = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const s = await dial(proxy.port);
      const payload = Buffer.concat([Buffer.from('ECHO:'), randomBytes(1000 + i)]);
      const got = collect(s);
      s.end(payload);
      return { payload, got: await got };
    }),
  );
  for (const { payload, got } of many) assert.equal(sha(got), sha(payload));

  // Afterwards a new connection relays correctly.
  const last = await dial(proxy.port);
  const lastPayload = Buffer.concat([Buffer.from('ECHO:'), randomBytes(100_000)]);
  const lastGot = collect(last);
  last.end(lastPayload);
  assert.equal(sha(await lastGot), sha(lastPayload));

  await new Promise((r) => setTimeout(r, 50));
  assert.equal(proxy.active, 1, 'only the idle client is still open');
  const reports = await proxy.close();
  server.close();
  idle.destroy();
  assert.equal(reports.length, 204);
  assert.deepEqual(reports.map((r) => r.conn), Array.from({ length: 204 }, (_, i) => i + 1));
  assert.ok(['reset', 'closed'].includes(reports[0]!.end ?? ''), `target close: ${reports[0]!.end}`);
  assert.equal(reports[1]!.end, 'reset');
  assert.ok(taps[1]!.ends.includes('0:rst'));
  assert.equal(reports[2]!.end, 'aborted');
  assert.equal(reports[2]!.bytesUp, 0);
});

test('backpressure: a target that stops reading pauses the client instead of buffering', async () => {
  let target: Socket | undefined;
  const { server, port } = await listenServer((s) => {
    target = s;
    s.pause();
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });
  const c = await dial(proxy.port);
  const block = Buffer.alloc(1 << 20, 1);
  let written = 0;
  // Keep the client's own buffer filled for a while: the proxy must stop reading.
  const deadline = Date.now() + 700;
  while (Date.now() < deadline) {
    if (c.writableLength < 8 << 20) {
      c.write(block);
      written += block.length;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const relayed = taps[0]!.bytes[0];
  assert.ok(written > 64 << 20 || c.writableLength > 0, 'the client was made to wait');
  assert.ok(relayed < 48 << 20, `proxy took ${relayed} bytes from the client while the target read nothing`);
  // Once the target reads again, everything arrives.
  let got = 0;
  target!.on('data', (d: Buffer) => (got += d.length));
  target!.resume();
  c.end();
  await once(target!, 'end');
  assert.equal(got, written);
  const reports = await proxy.close();
  server.close();
  assert.equal(reports[0]!.bytesUp, written);
});
