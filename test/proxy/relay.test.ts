import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { startProxy, type DecoderFactory, type ProxyHandle } from '../../src/proxy/relay.js';
import { concat, donthave, extHandshake, handshake, have, msg, u32 } from '../support/bt-bytes.js';
import { prng } from '../capture/capture-bytes.js';
import type { AnyRecord, Dir, EventRecord } from '../../src/model/record.js';
// Below the ephemeral range: a port-0 listen (the proxy's own, or another test file's) cannot take it.
import { freePort } from '../support/free-port.js';

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

test('target down: the client is closed and a close event says why; once the target is up, a new connection relays', async () => {
  const deadPort = await freePort();
  const records: AnyRecord[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: deadPort }, sink: (r) => records.push(r), decoder: recordingDecoder([]) });
  const c = await dial(proxy.port);
  c.on('error', () => {});
  await Promise.race([once(c, 'end'), once(c, 'close')]);
  const ev = records.find((r) => 'event' in r && r.event === 'close');
  assert.ok(ev && 'conn' in ev && ev.conn === 1 && ev.src === `127.0.0.1:${c.localPort}` && ev.dst === `127.0.0.1:${deadPort}`, JSON.stringify(ev));
  assert.match((ev as EventRecord).message ?? '', /ECONNREFUSED/);

  const target = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  target.listen(deadPort, '127.0.0.1');
  await once(target, 'listening');
  const d = await dial(proxy.port);
  const payload = randomBytes(300_000);
  const echoed = collect(d);
  d.end(payload);
  assert.equal(sha(await echoed), sha(payload));
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  target.close();
  assert.deepEqual(reports.map((r) => [r.conn, r.end]), [[1, 'refused'], [2, 'closed']]);
  assert.equal(reports[1]!.bytesDown, payload.length);
});

test('faults: target closes mid-transfer, client resets mid-message, idle client, 200 at once, then a clean relay', async () => {
  const modes: string[] = [];
  let resetSeen: Promise<string | undefined> | undefined;
  const { server, port } = await listenServer((s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => {
      const mode = d.subarray(0, 5).toString();
      modes.push(mode);
      if (mode === 'CLOSE') s.destroy();
      else if (mode === 'RESET') {
        // The client resets: the proxy must pass the reset on, not a FIN.
        resetSeen = new Promise((resolve) => {
          s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
          s.once('end', () => resolve('FIN'));
        });
      } else {
        s.write(d);
        s.on('data', (more: Buffer) => s.write(more));
        s.on('end', () => s.end());
      }
    });
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });

  // Target closes while the client is still sending: the client sees its connection end.
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
  while (resetSeen === undefined) await new Promise((r) => setTimeout(r, 5));
  b.resetAndDestroy();
  assert.equal(await resetSeen, 'ECONNRESET', 'the target sees the client\'s reset');

  // A client that never sends stays open without blocking anyone.
  const idle = await dial(proxy.port);

  // 200 connections open at the same time, each echoing its own payload in two halves: every one
  // has its first half back before any sends the rest.
  let peak = 0;
  let arrived = 0;
  let release!: () => void;
  const barrier = new Promise<void>((resolve) => (release = resolve));
  const many = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const s = await dial(proxy.port);
      const payload = Buffer.concat([Buffer.from('ECHO:'), randomBytes(1000 + i)]);
      const half = payload.length >> 1;
      const got = collect(s);
      let received = 0;
      s.on('data', (d: Buffer) => (received += d.length));
      s.write(payload.subarray(0, half));
      while (received < half) await new Promise((r) => setTimeout(r, 5));
      if (++arrived === 200) {
        peak = proxy.active;
        release();
      }
      await barrier;
      s.end(payload.subarray(half));
      return { payload, got: await got };
    }),
  );
  assert.ok(peak >= 201, `the 200 and the idle client were all relayed at once (${peak} open)`);
  for (const { payload, got } of many) assert.equal(sha(got), sha(payload));

  // Afterwards a new connection relays correctly.
  const last = await dial(proxy.port);
  const lastPayload = Buffer.concat([Buffer.from('ECHO:'), randomBytes(100_000)]);
  const lastGot = collect(last);
  last.end(lastPayload);
  assert.equal(sha(await lastGot), sha(lastPayload));

  while (proxy.active > 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal(proxy.active, 1, 'only the idle client is still open');
  const reports = await proxy.close();
  server.close();
  idle.destroy();
  // Closed: it accepts nothing more.
  const late = connect({ host: '127.0.0.1', port: proxy.port });
  const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(reports.length, 204);
  assert.deepEqual(reports.map((r) => r.conn), Array.from({ length: 204 }, (_, i) => i + 1));
  assert.ok(['reset', 'closed'].includes(reports[0]!.end ?? ''), `target close: ${reports[0]!.end}`);
  assert.equal(reports[1]!.end, 'reset');
  assert.ok(taps[1]!.ends.includes('0:rst'));
  assert.equal(reports[2]!.end, 'aborted');
  assert.equal(reports[2]!.bytesUp, 0);
  assert.ok(reports.slice(3).every((r) => r.end === 'closed'));
});

/** Keeps `s` writing pseudo-random 64 KiB blocks, never more than 4 MiB queued in its own buffer. */
function keepWriting(s: Socket): { stop: () => void; written: () => number; hash: () => string } {
  const h = createHash('sha1');
  let written = 0;
  let running = true;
  const block = randomBytes(1 << 16);
  void (async () => {
    while (running) {
      while (running && s.writableLength < 4 << 20) {
        block[written % block.length] = block[written % block.length]! ^ 0xa5;
        h.update(block);
        s.write(Buffer.from(block));
        written += block.length;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { stop: () => void (running = false), written: () => written, hash: () => h.digest('hex') };
}

/** A failed backpressure test must not leave a writer running (it would keep the test process alive, filling memory). */
function cleanUp(writer: { stop: () => void } | undefined, sockets: Array<Socket | undefined>, proxy: ProxyHandle, server: Server): Promise<unknown> {
  writer?.stop();
  for (const s of sockets) s?.destroy();
  server.close();
  return proxy.close();
}

/** The proxy no longer takes bytes (`relayed` stands still) while the writer still has bytes queued. */
async function assertStalled(relayed: () => number, writer: Socket, proxy: ProxyHandle, what: string): Promise<void> {
  // Wait until nothing more is relayed for 200 ms. Loopback fills the kernel buffers in a few
  // milliseconds on an idle machine but may take seconds on a busy one (a fixed 300 ms wait failed
  // there); a proxy that ignores backpressure keeps relaying for as long as the writer writes.
  const deadline = Date.now() + 20_000;
  let before = relayed();
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = relayed();
    if (now === before && now > 0) break;
    assert.ok(Date.now() < deadline, `${what}: the proxy kept reading (${now} bytes) although the other side reads nothing`);
    before = now;
  }
  assert.ok(writer.writableLength > 0, `${what}: the writer was made to wait`);
  // SOCKET_BUFFER (1 MiB) in the socket the proxy writes to, and at most one read beyond it.
  assert.ok(proxy.queued <= (1 << 20) + (1 << 17), `${what}: the proxy holds ${proxy.queued} bytes`);
}

test('backpressure: a target that stops reading pauses the client, the proxy holds at most its socket buffer', { timeout: 30_000 }, async (t) => {
  let target: Socket | undefined;
  const { server, port } = await listenServer((s) => {
    target = s;
    s.pause();
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });
  const c = await dial(proxy.port);
  const writer = keepWriting(c);
  t.after(() => cleanUp(writer, [c, target], proxy, server));
  await assertStalled(() => taps[0]?.bytes[0] ?? 0, c, proxy, 'client -> stalled target');
  writer.stop();
  // Once the target reads again, everything arrives, in order.
  const got = collect(target!);
  target!.resume();
  await new Promise((r) => setTimeout(r, 10));
  c.end();
  const all = await got;
  assert.equal(all.length, writer.written());
  assert.equal(sha(all), writer.hash());
  const reports = await proxy.close();
  server.close();
  assert.equal(reports[0]!.bytesUp, writer.written());
});

test('backpressure: a client that stops reading pauses the target, the proxy holds at most its socket buffer', { timeout: 30_000 }, async (t) => {
  let writer: ReturnType<typeof keepWriting> | undefined;
  let target: Socket | undefined;
  const { server, port } = await listenServer((s) => {
    target = s;
    writer = keepWriting(s);
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });
  const c = await dial(proxy.port);
  c.pause();
  while (target === undefined) await new Promise((r) => setTimeout(r, 5));
  t.after(() => cleanUp(writer, [c, target], proxy, server));
  await assertStalled(() => taps[0]?.bytes[1] ?? 0, target, proxy, 'target -> stalled client');
  writer!.stop();
  const got = collect(c);
  c.resume();
  await new Promise((r) => setTimeout(r, 10));
  target.end();
  const all = await got;
  assert.equal(all.length, writer!.written());
  assert.equal(sha(all), writer!.hash());
  c.end();
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  assert.equal(reports[0]!.bytesDown, writer!.written());
});

/**
 * Writes `data` in random pieces (often a few bytes, sometimes tens of KiB), with random pauses, then
 * FIN. The first OPENING bytes go first; the rest once the other side's opening has arrived.
 */
async function writeChunked(s: Socket, data: Uint8Array, rnd: () => number): Promise<void> {
  s.setNoDelay(true);
  let received = 0;
  s.on('data', (d: Buffer) => (received += d.length));
  for (let at = 0; at < data.length; ) {
    if (at >= OPENING) while (received < OPENING) await new Promise((r) => setTimeout(r, 2));
    const size = rnd() < 0.4 ? 1 + Math.floor(rnd() * 9) : 1 + Math.floor(rnd() * 40_000);
    const n = at < OPENING ? Math.min(size, OPENING - at) : size;
    const ok = s.write(data.subarray(at, at + n));
    at += n;
    if (!ok) await once(s, 'drain');
    else if (rnd() < 0.15) await new Promise((r) => setTimeout(r, Math.floor(rnd() * 3)));
  }
  s.end();
}

/** Handshake and extended handshake: the mapping each side's lt_donthave is named by. */
const OPENING = 68 + 63;

/** A stream that starts as BitTorrent and then stops making sense: a 4 GB length, an unknown id, noise. */
function confusing(peerId: string, extId: number): Uint8Array {
  return concat(
    handshake({ peerId, fast: true }),
    extHandshake({ m: { lt_donthave: extId, ut_metadata: 2 }, v: 'chunk test' }),
    have(1),
    donthave(extId === 3 ? 7 : 3, 1),
    msg(20, Uint8Array.of(99), randomBytes(40)),
    u32(0xfffffff0),
    Uint8Array.of(7),
    randomBytes(200_000),
    msg(42, randomBytes(10)),
    randomBytes(100_000),
  );
}

test('random chunking both ways at once, the real decoder fed sense and nonsense: every byte arrives unchanged and in order', { timeout: 60_000 }, async () => {
  const seeds = [1, 2, 3, 0xdecaf];
  const streams = new Map<number, { up: Uint8Array; down: Uint8Array }>();
  const atTarget = new Map<number, Promise<Buffer>>();
  const { server, port } = await listenServer((s) => {
    const got = collect(s);
    // The clients connect one after another: the n-th accepted is the n-th seed.
    const seed = seeds[atTarget.size]!;
    atTarget.set(seed, got);
    void writeChunked(s, streams.get(seed)!.down, prng(seed ^ 0x5555));
  });
  const records: AnyRecord[] = [];
  // With an info hash the proxy also sniffs each connection for MSE before it knows it is plaintext.
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), infoHashes: [new Uint8Array(20).fill(9)] });
  const results = [];
  for (const seed of seeds) {
    streams.set(seed, { up: confusing(`-CL${seed}-`, 3), down: confusing(`-TG${seed}-`, 7) });
    const c = await dial(proxy.port);
    while (!atTarget.has(seed)) await new Promise((r) => setTimeout(r, 2));
    const atClient = collect(c);
    void writeChunked(c, streams.get(seed)!.up, prng(seed));
    results.push(Promise.all([atTarget.get(seed)!, atClient]).then(([up, down]) => ({ seed, up, down })));
  }
  for (const { seed, up, down } of await Promise.all(results)) {
    assert.equal(sha(up), sha(streams.get(seed)!.up), `seed ${seed}: client -> target`);
    assert.equal(sha(down), sha(streams.get(seed)!.down), `seed ${seed}: target -> client`);
  }
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  assert.ok(reports.every((r) => r.end === 'closed' && r.decoderError === undefined), JSON.stringify(reports));
  // The decoder did follow both directions of each, lt_donthave included, and then lost its way.
  for (const conn of [1, 2, 3, 4]) {
    const mine = records.filter((r) => 'conn' in r && r.conn === conn);
    assert.equal(mine.filter((r) => 'msg' in r && r.msg === 'handshake').length, 2, `conn ${conn}: both handshakes`);
    assert.equal(mine.filter((r) => 'msg' in r && r.ext === 'lt_donthave').length, 2, `conn ${conn}: lt_donthave both ways`);
    assert.ok(mine.some((r) => 'event' in r && (r.event === 'malformed' || r.event === 'resync')), `conn ${conn}: the nonsense was noticed`);
  }
});

test('half-close from the target: its FIN reaches the client, which goes on sending', async () => {
  const down = randomBytes(200_000);
  const up = randomBytes(1_500_000);
  let atTarget: Promise<Buffer> | undefined;
  const { server, port } = await listenServer((s) => {
    atTarget = collect(s);
    s.end(down);
  });
  const taps: Tapped[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, decoder: recordingDecoder(taps) });
  const c = await dial(proxy.port);
  const gotDown = await collect(c);
  assert.equal(sha(gotDown), sha(down));
  assert.ok(!c.destroyed && c.writable, 'the client can still send after the target finished');
  c.end(up);
  assert.equal(sha(await atTarget!), sha(up));
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  assert.deepEqual(taps[0]!.ends, ['1:fin', '0:fin']);
  assert.equal(reports[0]!.end, 'closed');
});

test('resets are mirrored: a client reset reaches the target as a reset, a target reset the client; both are reset events', async () => {
  const targetErrors: Array<Promise<string>> = [];
  let resetTarget: (() => void) | undefined;
  const { server, port } = await listenServer((s) => {
    targetErrors.push(
      new Promise((resolve) => {
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        s.once('end', () => resolve('FIN'));
      }),
    );
    s.once('data', () => {
      if (targetErrors.length === 2) resetTarget = () => s.resetAndDestroy();
    });
  });
  const records: AnyRecord[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r) });
  const hs = handshake();

  const a = await dial(proxy.port);
  a.write(concat(hs, u32(13), Uint8Array.of(6, 0, 0)));
  while (targetErrors.length < 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 30));
  a.resetAndDestroy();
  assert.equal(await targetErrors[0], 'ECONNRESET', 'client reset -> target');

  const b = await dial(proxy.port);
  const clientSaw = new Promise<string>((resolve) => {
    b.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    b.once('end', () => resolve('FIN'));
  });
  b.write(hs);
  while (resetTarget === undefined) await new Promise((r) => setTimeout(r, 5));
  resetTarget();
  assert.equal(await clientSaw, 'ECONNRESET', 'target reset -> client');

  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  assert.deepEqual(reports.map((r) => r.end), ['reset', 'reset']);
  const resets = records.filter((r): r is EventRecord => 'event' in r && r.event === 'reset');
  const target = `127.0.0.1:${port}`;
  assert.deepEqual(resets.map((r) => [r.conn, r.src === target ? 'target' : 'client']), [[1, 'client'], [2, 'target']]);
});
