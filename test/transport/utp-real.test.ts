// Real uTP captures (libtorrent 2.0): DHT datagrams on the uTP ports give no records, and the
// decoding does not depend on the order in which one direction's packets were captured. The pcap
// files are read here with a few lines of byte math, independent of src/capture and src/net.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { decodeLink } from '../../src/net/decode.js';
import { ST_DATA, UtpReassembler, parseUtpHeader } from '../../src/transport/utp-reassembler.js';
import { BtConnection } from '../../src/bittorrent/connection.js';
import type { StreamHandler } from '../../src/transport/types.js';
import { readTruth, score } from '../support/score.js';

interface RawPacket {
  /** The 16-byte record header (timestamp, lengths) and the frame. */
  header: Uint8Array;
  frame: Uint8Array;
  udp?: { src: string; dst: string; payload: Uint8Array };
}

interface RawCapture {
  globalHeader: Uint8Array;
  packets: RawPacket[];
}

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // the captures only use ::1 and fd77::a/b; a full RFC 5952 formatter is not needed to tell them apart
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Classic little-endian microsecond pcap, Ethernet, IPv4/IPv6 without extension headers. */
function readRaw(name: string): RawCapture {
  const d = readFileSync(`samples/${name}`);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  assert.equal(v.getUint32(0, true), 0xa1b2c3d4, `${name}: little-endian microsecond pcap`);
  assert.equal(v.getUint32(20, true), 1, `${name}: Ethernet`);
  const packets: RawPacket[] = [];
  for (let off = 24; off + 16 <= d.length; ) {
    const incl = v.getUint32(off + 8, true);
    const header = d.subarray(off, off + 16);
    const frame = d.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    const p: RawPacket = { header, frame };
    packets.push(p);
    const etherType = (frame[12]! << 8) | frame[13]!;
    let proto: number, l4: number, src: string, dst: string;
    if (etherType === 0x0800) {
      proto = frame[23]!;
      l4 = 14 + (frame[14]! & 0x0f) * 4;
      src = frame.subarray(26, 30).join('.');
      dst = frame.subarray(30, 34).join('.');
    } else if (etherType === 0x86dd) {
      proto = frame[20]!;
      l4 = 54;
      src = `[${ipv6Text(frame.subarray(22, 38))}]`;
      dst = `[${ipv6Text(frame.subarray(38, 54))}]`;
    } else continue;
    if (proto !== 17) continue;
    const sport = (frame[l4]! << 8) | frame[l4 + 1]!;
    const dport = (frame[l4 + 2]! << 8) | frame[l4 + 3]!;
    const udpLen = (frame[l4 + 4]! << 8) | frame[l4 + 5]!;
    p.udp = { src: `${src}:${sport}`, dst: `${dst}:${dport}`, payload: frame.subarray(l4 + 8, l4 + udpLen) };
  }
  return { globalHeader: d.subarray(0, 24), packets };
}

function writeRaw(cap: RawCapture, packets: RawPacket[]): Uint8Array {
  return Buffer.concat([cap.globalHeader, ...packets.flatMap((p) => [p.header, p.frame])]);
}

/** A DHT KRPC message: a bencoded dictionary with the "y" (message type) key. */
function isKrpc(payload: Uint8Array): boolean {
  const text = Buffer.from(payload).toString('latin1');
  return text.startsWith('d') && text.endsWith('e') && /1:y1:[qre]/.test(text);
}

/** A uTP ST_DATA by its first byte (type 0, version 1). */
const isUtpData = (payload: Uint8Array): boolean => payload.length > 20 && payload[0] === 0x01;

const pairKey = (a: string, b: string): string => [a, b].sort().join(' ');

async function decode(bytes: Uint8Array | string): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(bytes)) out.push(r);
  return out;
}

test('lt-mixed.pcap: real DHT datagrams on the uTP ports are not uTP, give no records, change nothing', async () => {
  const cap = readRaw('lt-mixed.pcap');
  const dht = cap.packets.filter((p) => p.udp !== undefined && isKrpc(p.udp.payload));
  const queries = dht.filter((p) => Buffer.from(p.udp!.payload).includes('1:y1:q'));
  assert.equal(dht.length, 114, 'DHT datagrams in the capture');
  assert.equal(queries.length, 58, 'of which queries (ping, get_peers, find_node...)');
  for (const p of dht) assert.equal(parseUtpHeader(p.udp!.payload), null);

  // every UDP datagram through the reassembler: exactly the DHT ones are "not uTP"
  const utp = new UtpReassembler(() => null);
  const reader = new CaptureReader({
    packet: (p) => {
      const net = decodeLink(p.linkType, p.data);
      if (net !== null && typeof net !== 'string' && net.proto === 'udp') utp.packet(p.ts, net);
    },
    warning: () => {},
    fatal: (m) => assert.fail(m),
  });
  reader.push(writeRaw(cap, cap.packets));
  reader.end();
  assert.equal(utp.notUtp, dht.length);

  const dhtPairs = new Set(dht.map((p) => pairKey(p.udp!.src, p.udp!.dst)));
  const utpPairs = new Set(cap.packets.filter((p) => p.udp !== undefined && isUtpData(p.udp.payload)).map((p) => pairKey(p.udp!.src, p.udp!.dst)));
  const dhtOnly = [...dhtPairs].filter((k) => !utpPairs.has(k));
  assert.ok(dhtOnly.includes(pairKey('127.0.0.1:48881', '127.0.0.1:48882')), 'a pair of peers that only talked DHT over UDP');
  assert.ok(dhtPairs.has(pairKey('[::1]:48881', '[::1]:48883')) && utpPairs.has(pairKey('[::1]:48881', '[::1]:48883')), 'DHT and uTP on the same ports');

  const records = await decode('samples/lt-mixed.pcap');
  const withEnds = records.filter((r): r is AnyRecord & { src: string; dst: string } => 'src' in r && 'dst' in r);
  for (const r of withEnds) assert.ok(!dhtOnly.includes(pairKey(r.src, r.dst)), `record on a DHT-only pair: ${JSON.stringify(r)}`);
  const utpRecords = withEnds.filter((r) => 'transport' in r && r.transport === 'utp');
  assert.ok(utpRecords.length > 100);
  for (const r of utpRecords) assert.ok(utpPairs.has(pairKey(r.src, r.dst)), `uTP record outside a uTP connection: ${JSON.stringify(r)}`);

  // the same capture without its DHT datagrams decodes to exactly the same records
  // (frame numbers aside: without the DHT packets the packets are numbered differently)
  const withoutDht = await decode(writeRaw(cap, cap.packets.filter((p) => !dht.includes(p))));
  assert.deepEqual(withoutDht.map(unframed), records.map(unframed));

  const s = score(readTruth('samples/lt-mixed.truth.ndjson'), records);
  assert.equal(s.recovered, s.messages);
  assert.equal(s.extra, 0);
  assert.equal(s.extNamedOk, s.extNamed);
  assert.ok(s.donthaveOk);
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random payloads behind a valid uTP DATA header reach the BitTorrent decoder but give no records', () => {
  const rand = rng(77);
  const records: AnyRecord[] = [];
  let conn = 1;
  let fed = 0;
  const utp = new UtpReassembler((info): StreamHandler => {
    const bt = new BtConnection(info, { sink: (r) => void records.push(r), assignConn: () => conn++, portHint: false });
    return {
      data: (dir, bytes, ts) => {
        fed += bytes.length;
        bt.data(dir, bytes, ts);
      },
      gap: (dir, bytes, ts) => bt.gap(dir, bytes, ts),
      end: (dir, how, ts) => bt.end(dir, how, ts),
      finish: (ts) => bt.finish(ts),
    };
  });
  let delivered = 0;
  for (let flow = 0; flow < 40; flow++) {
    const port = 20000 + flow;
    for (let i = 0; i < 30; i++) {
      const payload = Uint8Array.from({ length: 21 + Math.floor(rand() * 1400) }, () => Math.floor(rand() * 256));
      payload[0] = 0x01; // ST_DATA, version 1
      payload[1] = 0; // no extension
      payload[2] = 0x12; // connection id per flow
      payload[3] = flow;
      payload[16] = 0; // consecutive sequence numbers: the garbage is delivered as a stream
      payload[17] = i;
      delivered += payload.length - 20;
      const src = `192.0.2.1:${port}`;
      utp.packet(flow * 100 + i, { ipVersion: 4, srcIp: '192.0.2.1', dstIp: '192.0.2.2', srcPort: port, dstPort: 6881, src, dst: '192.0.2.2:6881', proto: 'udp', seq: 0, ack: 0, flags: 0, payload });
    }
  }
  utp.finish(1e6);
  assert.equal(utp.notUtp, 0);
  assert.ok(delivered > 500_000);
  assert.equal(fed, delivered, 'every datagram was delivered in order to the decoder');
  assert.deepEqual(records, []);
});

/**
 * Reorders and duplicates uTP packets the way a network can: only within a run of consecutive
 * packets in one direction (a packet never moves past the other side's ack of it), neighbours
 * swapped, and some packets (not SYN/RESET) captured twice at the end of their run. Each slot keeps
 * its original timestamp.
 */
function reorder(cap: RawCapture, rand: () => number): { packets: RawPacket[]; swaps: number; copies: number } {
  const out: RawPacket[] = [];
  let swaps = 0;
  let copies = 0;
  const dirOf = (p: RawPacket): string | undefined => (p.udp !== undefined && parseUtpHeader(p.udp.payload) !== null ? `${p.udp.src}>${p.udp.dst}` : undefined);
  for (let i = 0; i < cap.packets.length; ) {
    const dir = dirOf(cap.packets[i]!);
    let j = i + 1;
    if (dir !== undefined) while (j < cap.packets.length && dirOf(cap.packets[j]!) === dir) j++;
    const run = cap.packets.slice(i, j);
    const moved = [...run];
    for (let k = 0; k + 1 < moved.length; k++) {
      if (rand() < 0.5) {
        [moved[k], moved[k + 1]] = [moved[k + 1]!, moved[k]!];
        swaps++;
        k++;
      }
    }
    moved.forEach((p, k) => out.push(atTimeOf(p, run[k]!)));
    if (dir !== undefined) {
      for (const p of run) {
        const type = p.udp!.payload[0]! >> 4;
        if (type !== 3 && type !== 4 && rand() < 0.1) {
          out.push(atTimeOf(p, run.at(-1)!));
          copies++;
        }
      }
    }
    i = j;
  }
  return { packets: out, swaps, copies };
}

/** `p` with the timestamp of `slot` (the first 8 bytes of the record header). */
function atTimeOf(p: RawPacket, slot: RawPacket): RawPacket {
  const header = Uint8Array.from(p.header);
  header.set(slot.header.subarray(0, 8));
  return { ...p, header };
}

/**
 * A record without its frame numbers (packet positions in the file, which these tests change), nor
 * whether a finding was judged in a later packet than its message (the packets moved).
 */
function unframed(r: AnyRecord): AnyRecord {
  const { frame: _f, firstFrame: _ff, judgedFrame: _jf, late: _l, judgedTs: _jt, ...rest } = r as AnyRecord & { firstFrame?: number; judgedFrame?: number; late?: true; judgedTs?: number };
  return rest as AnyRecord;
}

/**
 * Records with their times and frames blanked (a held packet is delivered at a later packet's time and
 * number, and reordering renumbers packets; findings quote times).
 */
const withoutTs = (records: AnyRecord[]): string[] => records.map((r) => JSON.stringify(unframed(r)).replace(/\b1\d{9}(\.\d+)?\b/g, 'T'));

for (const name of ['lt-magnet-utp.pcap', 'lt-utp-lossy.pcap', 'utp-sample.pcap', 'lt-mixed.pcap']) {
  test(`${name}: neighbours swapped and packets duplicated within one direction's runs: the same records`, async () => {
    const cap = readRaw(name);
    const reference = withoutTs(await decode(`samples/${name}`));
    assert.ok(reference.length > 100);
    for (const seed of [1, 2, 3]) {
      const { packets, swaps, copies } = reorder(cap, rng(seed));
      assert.ok(swaps >= 20 && copies >= 10, `seed ${seed}: ${swaps} swaps, ${copies} copies`);
      assert.deepEqual(withoutTs(await decode(writeRaw(cap, packets))), reference, `seed ${seed}`);
    }
  });
}

/** Every uTP packet of a capture through a UtpReassembler; `keep` may leave some out. */
function reassembleUtp(name: string, keep: (key: string) => boolean) {
  type Event = string; // the name of a delivered packet, or 'GAP'
  const flows: { info: string; dirs: [Event[], Event[]]; gapsAtFinish: number }[] = [];
  let finishing = false;
  const utp = new UtpReassembler((info): StreamHandler => {
    const f = { info: `${info.initiator} ${info.responder}`, dirs: [[], []] as [Event[], Event[]], gapsAtFinish: 0 };
    flows.push(f);
    return {
      data: (dir, bytes) => void f.dirs[dir].push(Buffer.from(bytes).toString('latin1')),
      gap: (dir, bytes) => {
        assert.equal(bytes, 0, 'uTP cannot know the size of a missing packet');
        if (finishing) f.gapsAtFinish++;
        if (f.dirs[dir].at(-1) !== 'GAP') f.dirs[dir].push('GAP');
      },
      end: () => {},
      finish: () => {},
    };
  });
  let lastTs = 0;
  const reader = new CaptureReader({
    packet: (p) => {
      lastTs = p.ts;
      const net = decodeLink(p.linkType, p.data);
      if (net === null || typeof net === 'string' || net.proto !== 'udp') return;
      const h = parseUtpHeader(net.payload);
      if (h === null) return;
      const key = `${net.src}>${net.dst}#${h.connId}/${h.type}/${h.seq}`;
      if (!keep(key)) return;
      // Piece data repeats, so each packet's payload is replaced by its own name: every delivered
      // chunk then says which packet it was (the reassembler never looks at payload bytes).
      const payload = h.type === ST_DATA ? Buffer.concat([net.payload.subarray(0, h.payloadOffset), Buffer.from(key)]) : net.payload;
      utp.packet(p.ts, { ...net, payload });
    },
    warning: () => {},
    fatal: (m) => assert.fail(m),
  });
  reader.push(readFileSync(`samples/${name}`));
  reader.end();
  finishing = true;
  utp.finish(lastTs);
  return flows;
}

for (const name of ['lt-utp-lossy.pcap', 'utp-sample.pcap', 'lt-magnet-utp.pcap', 'lt-mixed.pcap']) {
  test(`${name}: capture loss (every 23rd data packet, all its copies, removed): one gap per hole, declared at once, every other packet in place`, () => {
    const complete = reassembleUtp(name, () => true);
    const delivered = complete.flatMap((f) => f.dirs.flat());
    assert.equal(new Set(delivered).size, delivered.length, 'each packet delivered once');
    assert.ok(complete.every((f) => f.dirs.every((d) => !d.includes('GAP'))), 'no gap in the complete capture');
    const dataKeys = new Set<string>();
    const dropped = new Set<string>();
    const lossy = reassembleUtp(name, (key) => {
      if (!key.includes('/0/')) return true; // ST_DATA only
      if (!dataKeys.has(key)) {
        dataKeys.add(key);
        if (dataKeys.size % 23 === 0) dropped.add(key);
      }
      return !dropped.has(key);
    });
    assert.ok(dropped.size >= 10, `${dropped.size} packets removed`);
    assert.equal(lossy.length, complete.length);
    lossy.forEach((f, i) => {
      assert.equal(f.gapsAtFinish, 0, 'the receiver acked past every hole: each gap is declared when the ack is seen');
      for (const dir of [0, 1] as const) {
        const expected: string[] = [];
        for (const chunk of complete[i]!.dirs[dir]) {
          if (!dropped.has(chunk)) expected.push(chunk);
          else if (expected.at(-1) !== 'GAP') expected.push('GAP');
        }
        assert.deepEqual(f.dirs[dir], expected, `flow ${f.info} dir ${dir}`);
      }
    });
  });
}
