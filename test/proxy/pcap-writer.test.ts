import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from '../../src/proxy/relay.js';
import { PcapWriter, ipBytes } from '../../src/capture/pcap-writer.js';
import type { AnyRecord } from '../../src/model/record.js';
import { concat, donthave, extHandshake, handshake, have } from '../support/bt-bytes.js';
import { assertSameRecords, replaySaved } from './saved-records.js';

interface Pkt {
  ts: number;
  src: string;
  dst: string;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
}

/** Independent minimal reader: classic LE microsecond pcap, Ethernet, IPv4/IPv6, TCP. */
function readPcap(file: Buffer): Pkt[] {
  assert.equal(file.readUInt32LE(0), 0xa1b2c3d4);
  assert.equal(file.readUInt32LE(20), 1);
  const out: Pkt[] = [];
  for (let at = 24; at < file.length; ) {
    const ts = file.readUInt32LE(at) + file.readUInt32LE(at + 4) / 1e6;
    const incl = file.readUInt32LE(at + 8);
    assert.equal(file.readUInt32LE(at + 12), incl);
    const f = file.subarray(at + 16, at + 16 + incl);
    at += 16 + incl;
    const type = f.readUInt16BE(12);
    let ip = 14;
    let tcp: number;
    let src: string;
    let dst: string;
    if (type === 0x0800) {
      assert.equal(f.readUInt16BE(ip + 2), incl - 14, 'IPv4 total length');
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += f.readUInt16BE(ip + i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      assert.equal(sum, 0xffff, 'IPv4 header checksum');
      src = [...f.subarray(ip + 12, ip + 16)].join('.');
      dst = [...f.subarray(ip + 16, ip + 20)].join('.');
      tcp = ip + 20;
    } else {
      assert.equal(type, 0x86dd);
      assert.equal(f.readUInt16BE(ip + 4), incl - 54, 'IPv6 payload length');
      src = f.subarray(ip + 8, ip + 24).toString('hex');
      dst = f.subarray(ip + 24, ip + 40).toString('hex');
      tcp = ip + 40;
    }
    out.push({
      ts,
      src: `${src}:${f.readUInt16BE(tcp)}`,
      dst: `${dst}:${f.readUInt16BE(tcp + 2)}`,
      seq: f.readUInt32BE(tcp + 4),
      ack: f.readUInt32BE(tcp + 8),
      flags: f[tcp + 13]!,
      payload: f.subarray(tcp + 20),
    });
  }
  return out;
}

const SYN = 2, ACK = 0x10, FIN = 1, RST = 4;

test('--save writes a handshake, consistent seq/ack, split segments carrying the real bytes, FINs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-pcap-'));
  const save = join(dir, 'relay.pcap');
  const up = randomBytes(200_000);
  const down = randomBytes(150_000);
  const server = createServer({ allowHalfOpen: true }, (s: Socket) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => s.end(down));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: () => {}, save, decoder: () => ({ data() {}, gap() {}, end() {}, finish() {} }) });
  const c = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
  await once(c, 'connect');
  const got: Buffer[] = [];
  c.on('data', (d: Buffer) => got.push(d));
  c.end(up);
  await once(c, 'end');
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  await proxy.close();
  server.close();
  assert.deepEqual(Buffer.concat(got), down);

  const pkts = readPcap(readFileSync(save));
  const client = pkts[0]!.src;
  assert.equal(pkts[0]!.flags, SYN);
  assert.equal(pkts[1]!.flags, SYN | ACK);
  assert.equal(pkts[1]!.ack, (pkts[0]!.seq + 1) >>> 0);
  assert.equal(pkts[2]!.flags, ACK);
  assert.equal(pkts[2]!.seq, (pkts[0]!.seq + 1) >>> 0);
  assert.equal(pkts[2]!.ack, (pkts[1]!.seq + 1) >>> 0);
  assert.equal(pkts[0]!.dst, `127.0.0.1:${port}`);
  const next = new Map<string, number>([[client, pkts[2]!.seq], [pkts[0]!.dst, pkts[2]!.ack]]);
  const streams = new Map<string, Buffer[]>([[client, []], [pkts[0]!.dst, []]]);
  const fins: string[] = [];
  for (const p of pkts.slice(3)) {
    assert.equal(p.seq, next.get(p.src), 'each segment starts where the last ended');
    assert.ok(p.payload.length <= 65495);
    streams.get(p.src)!.push(p.payload);
    next.set(p.src, (p.seq + p.payload.length + (p.flags & FIN ? 1 : 0)) >>> 0);
    if (p.flags & FIN) fins.push(p.src);
    assert.equal(p.flags & RST, 0);
    assert.ok(p.ts >= pkts[0]!.ts);
  }
  const hash = (b: Buffer[]): string => createHash('sha1').update(Buffer.concat(b)).digest('hex');
  assert.equal(hash(streams.get(client)!), createHash('sha1').update(up).digest('hex'));
  assert.equal(hash(streams.get(pkts[0]!.dst)!), createHash('sha1').update(down).digest('hex'));
  assert.deepEqual(fins.sort(), [client, pkts[0]!.dst].sort());
});

test('PcapWriter splits large chunks at 65495 bytes, IPv6 flows, RST', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-pcap-'));
  const path = join(dir, 'v6.pcap');
  const w = new PcapWriter(path);
  await w.opened();
  const flow = w.flow({ ip: '::1', port: 40000 }, { ip: '2001:db8::7', port: 6881 }, 1000.5);
  flow.established(1000.6);
  flow.data(0, new Uint8Array(65495 * 2 + 10).fill(7), 1001);
  flow.rst(1, 1002);
  await w.close();
  const pkts = readPcap(readFileSync(path));
  assert.deepEqual(pkts.map((p) => p.payload.length), [0, 0, 0, 65495, 65495, 10, 0]);
  assert.equal(pkts[0]!.src, `${Buffer.from(ipBytes('::1', true)).toString('hex')}:40000`);
  assert.equal(pkts[0]!.dst, `20010db8000000000000000000000007:6881`);
  assert.equal(pkts[6]!.flags, RST | ACK);
  assert.equal(pkts[0]!.ts, 1000.5);
  assert.equal(pkts[5]!.seq, (pkts[3]!.seq + 2 * 65495) >>> 0);
});

test('IPv4 clients of a dual-stack listener (::ffff:a.b.c.d) are saved as IPv4, as the live records show them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-pcap-'));
  const path = join(dir, 'mapped.pcap');
  const w = new PcapWriter(path);
  await w.opened();
  const flow = w.flow({ ip: '::ffff:127.0.0.1', port: 40000 }, { ip: '127.0.0.1', port: 6881 }, 1000);
  flow.established(1000);
  flow.data(0, Uint8Array.of(1, 2, 3), 1001);
  const mixed = w.flow({ ip: '::ffff:10.0.0.1', port: 40001 }, { ip: '::1', port: 6881 }, 1002);
  mixed.established(1002);
  await w.close();
  const pkts = readPcap(readFileSync(path));
  assert.deepEqual(pkts.slice(0, 4).map((p) => [p.src, p.dst]), [
    ['127.0.0.1:40000', '127.0.0.1:6881'],
    ['127.0.0.1:6881', '127.0.0.1:40000'],
    ['127.0.0.1:40000', '127.0.0.1:6881'],
    ['127.0.0.1:40000', '127.0.0.1:6881'],
  ]);
  // IPv4 to an IPv6 target: one packet cannot be both, the client stays IPv4-mapped.
  assert.equal(pkts[4]!.src, '00000000000000000000ffff0a000001:40001');
});

test('a proxy listening on every interface: the saved pcap decodes to the records of the live run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-pcap-'));
  const save = join(dir, 'any.pcap');
  const server = createServer((s: Socket) => {
    s.once('data', () => s.end(concat(handshake({ peerId: '-TG0001-xxxxxxxxxxxx' }), extHandshake({ m: { lt_donthave: 3 } }), have(2), donthave(5, 2))));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const records: AnyRecord[] = [];
  // No host: node listens on :: (dual stack) where it can, and IPv4 clients come as ::ffff:127.0.0.1.
  const proxy = await startProxy({ listen: { port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), save });
  const c = connect({ host: '127.0.0.1', port: proxy.port });
  await once(c, 'connect');
  const clientAddr = `127.0.0.1:${c.localPort}`;
  c.end(concat(handshake(), extHandshake({ m: { lt_donthave: 5 } })));
  c.resume();
  await once(c, 'end');
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  await proxy.close();
  server.close();
  assert.ok(records.some((r) => 'msg' in r && r.dst === clientAddr && r.ext === 'lt_donthave' && r.piece === 2), JSON.stringify(records));
  assertSameRecords(replaySaved(save), records, 'dual-stack --save');
});

test('--save failing mid-run (disk full): relaying goes on, a warning says what is not saved', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const server = createServer({ allowHalfOpen: true }, (s: Socket) => s.pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const records: AnyRecord[] = [];
  const logs: string[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port }, sink: (r) => records.push(r), save: '/dev/full', onLog: (l) => logs.push(l) });
  const payload = randomBytes(2_000_000);
  const c = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
  await once(c, 'connect');
  const got: Buffer[] = [];
  c.on('data', (d: Buffer) => got.push(d));
  c.end(payload);
  await once(c, 'end');
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const [report] = await proxy.close();
  server.close();
  assert.equal(createHash('sha1').update(Buffer.concat(got)).digest('hex'), createHash('sha1').update(payload).digest('hex'));
  assert.equal(report!.end, 'closed');
  assert.deepEqual(logs.filter((l) => /save|write/.test(l)), ['cannot write /dev/full: ENOSPC; relaying goes on, the rest is not saved']);
  assert.equal(records.filter((r) => 'event' in r && r.event === 'warning' && /cannot write \/dev\/full: ENOSPC/.test(r.message ?? '')).length, 1);
});

test('with locate, the records carry where each message lies in the --save file: the UI store reads every long one back exactly, as it comes', async () => {
  const { RecordStore, RAW_KEEP } = await import('../../src/model/store.js');
  const { openFileBytes } = await import('../../src/capture/file-bytes.js');
  const { piece, extended } = await import('../support/bt-bytes.js');
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-pcap-'));
  const save = join(dir, 'relay.pcap');
  const blocks = (n: number, seed: number) => Array.from({ length: n }, (_, i) => piece(i, 0, randomBytes(16384 + ((seed * 7 + i * 131) % 3000))));
  const up = concat(handshake({ peerId: '-UP0001-uuuuuuuuuuuu' }), extHandshake({ m: { lt_donthave: 3 } }), ...blocks(40, 1), donthave(5, 2));
  // More than the 65,495 bytes a saved packet carries in one write: messages span saved packets,
  // one (an extension message of 70,000 bytes) spans two or three.
  const down = concat(handshake({ peerId: '-DN0001-dddddddddddd' }), extHandshake({ m: { lt_donthave: 5 } }), ...blocks(60, 2), have(3), extended(9, randomBytes(70_000)), have(4));
  const server = createServer({ allowHalfOpen: true }, (s: Socket) => {
    s.resume();
    s.on('end', () => s.end(down));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const store = new RecordStore();
  const fileBytes = openFileBytes(save);
  const full = new Map<number, Uint8Array>();
  let located = 0;
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port },
    save,
    locate: true,
    sink: (r, raw, where) => {
      if (raw !== undefined && raw.length > RAW_KEEP) full.set(store.size, raw.slice());
      if (where !== undefined) located++;
      store.add(r, raw, where);
    },
  });
  store.setByteSource(openFileBytes(save).source);
  const c = connect({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
  await once(c, 'connect');
  c.resume();
  c.end(up);
  await once(c, 'end');
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  await proxy.close();
  server.close();
  fileBytes.close();
  assert.ok(full.size >= 100, `${full.size} long messages`);
  assert.ok(located >= full.size);
  assert.ok([...full.values()].some((raw) => raw.length > 70_000), 'the 70,000-byte message is among them');
  for (const [index, want] of full) {
    const got = store.bytes(index)!;
    assert.equal(got.note, undefined, `record ${index}: ${got.note}`);
    assert.equal(Buffer.compare(got.bytes, want), 0, `record ${index}: read back other bytes`);
  }
});
