// Synthetic stress captures for the scale cases of the bench (bench/run.ts --only scale): classic
// pcap, Ethernet/IPv4/TCP, written in one pass with bounded memory.
//
//   node --import tsx bench/make-stress.ts KIND OUT [COUNT]
//
// KIND:
//   syn         COUNT (200,000) connections that send one SYN and nothing more, 1 ms apart
//   handshake   COUNT (100,000) connections: three-way handshake and both BitTorrent handshakes,
//               then silence (no FIN), 1 ms apart
//   ext         COUNT (200) extended handshakes of 1 MB each on one connection, whose m dict has
//               30,000 keys, in 64,000-byte segments
//   messages    COUNT (1,000,000) small messages (have, request, interested...) on 8 connections
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const SERVER_IP = [10, 0, 0, 1];
const SERVER_PORT = 6881;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

class PcapOut {
  private buf = Buffer.alloc(1 << 22);
  private at = 0;
  /** `write` takes each flushed batch (a view of a buffer reused after the call). */
  constructor(private readonly write: (bytes: Uint8Array) => void) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20);
    write(h);
  }

  /** One Ethernet/IPv4/TCP packet. */
  tcp(ts: number, src: number[], sport: number, dst: number[], dport: number, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): void {
    const len = 54 + payload.length;
    if (this.at + 16 + len > this.buf.length) this.flush();
    if (16 + len > this.buf.length) this.buf = Buffer.alloc(2 * (16 + len));
    const b = this.buf;
    let o = this.at;
    const sec = Math.floor(ts);
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(Math.round((ts - sec) * 1e6) % 1000000, o + 4);
    b.writeUInt32LE(len, o + 8);
    b.writeUInt32LE(len, o + 12);
    o += 16;
    b.fill(0, o, o + 54);
    b[o + 5] = 1; // MACs
    b[o + 11] = 2;
    b.writeUInt16BE(0x0800, o + 12);
    o += 14;
    b[o] = 0x45;
    b.writeUInt16BE(20 + 20 + payload.length, o + 2);
    b[o + 8] = 64;
    b[o + 9] = 6;
    for (let i = 0; i < 4; i++) {
      b[o + 12 + i] = src[i]!;
      b[o + 16 + i] = dst[i]!;
    }
    o += 20;
    b.writeUInt16BE(sport, o);
    b.writeUInt16BE(dport, o + 2);
    b.writeUInt32BE(seq >>> 0, o + 4);
    b.writeUInt32BE(ack >>> 0, o + 8);
    b[o + 12] = 0x50;
    b[o + 13] = flags;
    b.writeUInt16BE(65535, o + 14);
    o += 20;
    b.set(payload, o);
    this.at = o + payload.length;
  }

  flush(): void {
    this.write(this.buf.subarray(0, this.at));
    this.at = 0;
  }
}

function clientOf(i: number): [number[], number] {
  return [[10, 1 + ((i >> 16) & 0xff), (i >> 8) & 0xff, i & 0xff], 10000 + (i % 50000)];
}

function handshake(peer: number): Uint8Array {
  const b = Buffer.alloc(68);
  b[0] = 19;
  b.write('BitTorrent protocol', 1, 'latin1');
  b[25] = 0x10;
  b.fill(0xab, 28, 48);
  b.write(`-LT2000-${String(peer).padStart(12, '0')}`, 48, 'latin1');
  return b;
}

function message(id: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(5 + payload.length);
  b.writeUInt32BE(1 + payload.length, 0);
  b[4] = id;
  b.set(payload, 5);
  return b;
}

const T0 = 1_700_000_000;

function syn(out: PcapOut, count: number): void {
  for (let i = 0; i < count; i++) {
    const [ip, port] = clientOf(i);
    out.tcp(T0 + i / 1000, ip, port, SERVER_IP, SERVER_PORT, i * 7919, 0, SYN);
  }
}

function handshakes(out: PcapOut, count: number): void {
  for (let i = 0; i < count; i++) {
    const [ip, port] = clientOf(i);
    const t = T0 + i / 1000;
    const c = i * 7919;
    const s = i * 104729;
    out.tcp(t, ip, port, SERVER_IP, SERVER_PORT, c, 0, SYN);
    out.tcp(t + 0.0001, SERVER_IP, SERVER_PORT, ip, port, s, c + 1, SYN | ACK);
    out.tcp(t + 0.0002, ip, port, SERVER_IP, SERVER_PORT, c + 1, s + 1, ACK);
    out.tcp(t + 0.0003, ip, port, SERVER_IP, SERVER_PORT, c + 1, s + 1, ACK | PSH, handshake(i));
    out.tcp(t + 0.0004, SERVER_IP, SERVER_PORT, ip, port, s + 1, c + 69, ACK | PSH, handshake(i + 1_000_000));
  }
}

/** A bencoded extended handshake of about 1 MB whose m dict has `keys` keys (sorted, as bencode requires). */
function bigExtHandshake(keys: number): Buffer {
  const names = Array.from({ length: keys }, (_, i) => `ext_${String(i).padStart(6, '0')}`).sort();
  const parts: string[] = ['d1:md'];
  names.forEach((n, i) => parts.push(`${n.length}:${n}i${(i % 250) + 1}e`));
  parts.push('e');
  const head = parts.join('');
  // Pad with a long "v" string to reach 1 MB.
  const pad = Math.max(0, 1_000_000 - head.length - 20);
  const body = Buffer.from(`${head}1:v${pad}:${'x'.repeat(pad)}e`, 'latin1');
  const ext = Buffer.alloc(1 + body.length);
  ext[0] = 0;
  body.copy(ext, 1);
  return message(20, ext);
}

function stream(out: PcapOut, bytes: Uint8Array[], client: [number[], number], t: number, seg: number): void {
  const [ip, port] = client;
  let c = 1000;
  const s = 5000;
  out.tcp(t, ip, port, SERVER_IP, SERVER_PORT, c - 1, 0, SYN);
  out.tcp(t, SERVER_IP, SERVER_PORT, ip, port, s - 1, c, SYN | ACK);
  out.tcp(t, ip, port, SERVER_IP, SERVER_PORT, c, s, ACK);
  out.tcp(t, ip, port, SERVER_IP, SERVER_PORT, c, s, ACK | PSH, handshake(1));
  c += 68;
  out.tcp(t, SERVER_IP, SERVER_PORT, ip, port, s, c, ACK | PSH, handshake(2));
  let n = 0;
  for (const m of bytes) {
    for (let o = 0; o < m.length; o += seg) {
      const part = m.subarray(o, Math.min(m.length, o + seg));
      out.tcp(t + ++n / 1e5, ip, port, SERVER_IP, SERVER_PORT, c, s + 68, ACK, part);
      c += part.length;
    }
  }
}

function ext(out: PcapOut, count: number): void {
  const m = bigExtHandshake(30_000);
  stream(out, Array.from({ length: count }, () => m), clientOf(1), T0, 64_000);
}

function messages(out: PcapOut, count: number): void {
  const conns = 8;
  const per = Math.ceil(count / conns);
  for (let k = 0; k < conns; k++) {
    const kinds = [message(2, new Uint8Array(0)), message(4, Buffer.from([0, 0, 0, 7])), message(6, Buffer.alloc(12))];
    const batch: Buffer[] = [];
    for (let i = 0; i < per; i++) {
      const m = kinds[i % 3]!;
      if (i % 3 === 1) m.writeUInt32BE(i % 5000, 5);
      batch.push(Buffer.from(m));
    }
    // About 100 messages per segment.
    const segs: Buffer[] = [];
    for (let i = 0; i < batch.length; i += 100) segs.push(Buffer.concat(batch.slice(i, i + 100)));
    stream(out, segs, clientOf(k + 1), T0 + k, 1448);
  }
}

const KINDS: Record<string, [(out: PcapOut, count: number) => void, number]> = {
  syn: [syn, 200_000],
  handshake: [handshakes, 100_000],
  ext: [ext, 200],
  messages: [messages, 1_000_000],
};

/** A stress capture in memory (tests: a few thousand connections; the bench writes files with main()). */
export function stressCapture(kind: 'syn' | 'handshake' | 'ext' | 'messages', count: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const out = new PcapOut((b) => parts.push(Buffer.from(b)));
  KINDS[kind]![0](out, count);
  out.flush();
  return Buffer.concat(parts);
}

function main(): void {
  const [kind = '', path = '', countArg] = process.argv.slice(2);
  const chosen = KINDS[kind];
  if (chosen === undefined || path === '') {
    process.stderr.write('usage: node --import tsx bench/make-stress.ts syn|handshake|ext|messages OUT [COUNT]\n');
    process.exit(2);
  }
  const fd = openSync(path, 'w');
  const out = new PcapOut((b) => writeSync(fd, b));
  chosen[0](out, countArg === undefined ? chosen[1] : Number(countArg));
  out.flush();
  closeSync(fd);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
