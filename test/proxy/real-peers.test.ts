// webtorrent's bittorrent-protocol Wires talking through the proxy over real TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Protocol from 'bittorrent-protocol';
import ltDontHave from 'lt_donthave';
import utMetadata from 'ut_metadata';
import { startProxy, type DecoderFactory } from '../../src/proxy/relay.js';
import { BtConnection } from '../../src/bittorrent/connection.js';
import { Pipeline } from '../../src/pipeline.js';
import type { AnyRecord } from '../../src/model/record.js';

const INFO_HASH = '0123456789abcdef0123456789abcdef01234567';
const BLOCK = 16384;
const PIECES = 8;

interface Seen {
  msg: string;
  ext?: string;
  piece?: number;
}

type Wire = InstanceType<typeof Protocol> & Record<string, any>;

/** Every message a Wire received, in order, as (msg, ext, piece). */
function hook(wire: Wire): Seen[] {
  const seen: Seen[] = [];
  wire.on('handshake', () => seen.push({ msg: 'handshake' }));
  wire.on('unchoke', () => seen.push({ msg: 'unchoke' }));
  wire.on('interested', () => seen.push({ msg: 'interested' }));
  wire.on('bitfield', () => seen.push({ msg: 'bitfield' }));
  wire.on('have', (piece: number) => seen.push({ msg: 'have', piece }));
  wire.on('request', (piece: number) => seen.push({ msg: 'request', piece }));
  wire.on('piece', (piece: number) => seen.push({ msg: 'piece', piece }));
  wire.on('extended', (ext: string, buf: Uint8Array) =>
    seen.push(ext === 'handshake' ? { msg: 'extended', ext } : { msg: 'extended', ext, piece: ext === 'lt_donthave' ? Buffer.from(buf).readUInt32BE(0) : undefined }),
  );
  return seen;
}

function attach(socket: Socket, first: string[], second: string[]): Wire {
  const wire = new Protocol() as Wire;
  for (const name of first) wire.use(name === 'lt_donthave' ? ltDontHave() : utMetadata());
  void second;
  socket.pipe(wire).pipe(socket);
  return wire;
}

/** One session: B seeds pieces 0-7 to A; A fetches 0-3, announces them; lt_donthave both ways. */
async function session(sa: Socket, seedSocket: Socket): Promise<{ a: Seen[]; b: Seen[]; aAddr: string; bytes: number }> {
  const aAddr = `127.0.0.1:${sa.localPort}`;
  const a = attach(sa, ['ut_metadata', 'lt_donthave'], []);
  const b = attach(seedSocket, ['lt_donthave', 'ut_metadata'], []);
  const aSeen = hook(a);
  const bSeen = hook(b);
  const payload = (i: number): Buffer => Buffer.alloc(BLOCK, i + 1);
  b.on('request', (piece: number, offset: number, length: number, respond: (err: Error | null, buf?: Buffer) => void) => {
    respond(null, payload(piece).subarray(0, length));
  });
  b.on('interested', () => b.unchoke());
  const extA = once(a, 'extended');
  const extB = once(b, 'extended');
  a.handshake(INFO_HASH, Buffer.from('-WW0001-aaaaaaaaaaaa').toString('hex'), { dht: false });
  b.on('handshake', () => b.handshake(INFO_HASH, Buffer.from('-WW0001-bbbbbbbbbbbb').toString('hex'), { dht: false }));
  await Promise.all([extA, extB]);
  const bf = Buffer.alloc(1, 0xff);
  b.bitfield(bf);
  await once(a, 'bitfield');
  a.interested();
  await once(a, 'unchoke');
  let bytes = 0;
  await Promise.all(
    [0, 1, 2, 3].map(
      (i) =>
        new Promise<void>((resolve, reject) =>
          a.request(i, 0, BLOCK, (err: Error | null, buf: Buffer) => {
            if (err) return reject(err);
            if (Buffer.compare(Buffer.from(buf), payload(i)) !== 0) return reject(new Error(`piece ${i} corrupted`));
            bytes += buf.length;
            resolve();
          }),
        ),
    ),
  );
  for (const i of [0, 1, 2, 3]) a.have(i);
  while (bSeen.filter((s) => s.msg === 'have').length < 4) await new Promise((r) => setTimeout(r, 5));
  b.lt_donthave.donthave(6);
  a.lt_donthave.donthave(2);
  while (!aSeen.some((s) => s.ext === 'lt_donthave') || !bSeen.some((s) => s.ext === 'lt_donthave')) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20));
  a.destroy();
  b.destroy();
  return { a: aSeen, b: bSeen, aAddr, bytes };
}

function decoder(): DecoderFactory {
  return (info, ctx) => new BtConnection(info, ctx);
}

function received(records: AnyRecord[], conn: number, dst: string): Seen[] {
  return records
    .filter((r) => 'msg' in r && r.conn === conn && r.dst === dst && r.msg !== 'keep_alive')
    .map((r) => {
      const m = r as { msg: string; ext?: string | null; piece?: number };
      const s: Seen = { msg: m.msg };
      if (m.msg === 'extended') s.ext = m.ext ?? 'UNRESOLVED';
      if (m.piece !== undefined && (m.msg !== 'extended' || m.ext === 'lt_donthave')) s.piece = m.piece;
      return s;
    });
}

function strip(seen: Seen[]): Seen[] {
  return seen.map((s) => (s.piece === undefined ? { msg: s.msg, ...(s.ext ? { ext: s.ext } : {}) } : s));
}

test('real bittorrent-protocol peers through the proxy, 3 connections at once: records match what each peer parsed, --save replays the same', async () => {
  const seeds: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const server = createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else seeds.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const next = (): Promise<Socket> => new Promise((resolve) => (seeds.length > 0 ? resolve(seeds.shift()!) : waiting.push(resolve)));
  const records: AnyRecord[] = [];
  const save = join(mkdtempSync(join(tmpdir(), 'ltdh-proxy-')), 'session.pcap');
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), decoder: decoder(), save });
  // Sequential accepts keep conn numbers and seed sockets paired; the sessions then overlap.
  const results = [];
  for (let i = 0; i < 3; i++) {
    const sa = connect({ host: '127.0.0.1', port: proxy.port });
    await once(sa, 'connect');
    results.push(session(sa, await next()));
  }
  const done = await Promise.all(results);
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  server.close();
  const target = `127.0.0.1:${port}`;
  for (const [i, r] of done.entries()) {
    assert.equal(r.bytes, 4 * BLOCK);
    assert.ok(r.a.some((s) => s.ext === 'lt_donthave' && s.piece === 6));
    assert.ok(r.b.some((s) => s.ext === 'lt_donthave' && s.piece === 2));
    const rep = reports.find((x) => x.client === r.aAddr);
    assert.ok(rep, `report for ${r.aAddr}`);
    const conn = rep.conn;
    assert.deepEqual(received(records, conn, r.aAddr), strip(r.a), `conn ${conn} (session ${i}) target -> client`);
    assert.deepEqual(received(records, conn, target), strip(r.b), `conn ${conn} (session ${i}) client -> target`);
  }
  // --save reopened by the capture decoder gives the same message records as the live run.
  const replayed: AnyRecord[] = [];
  const pipeline = new Pipeline((r) => replayed.push(r));
  pipeline.push(readFileSync(save));
  pipeline.end();
  const messages = (rs: AnyRecord[]): unknown[] => rs.filter((r) => 'msg' in r).map(({ ts: _ts, ...rest }) => rest);
  assert.ok(messages(records).length > 0);
  assert.deepEqual(messages(replayed), messages(records));
});
