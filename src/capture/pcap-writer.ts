// Capture file writing. The encoders (pcap file and record headers, pcapng blocks) are sans-I/O
// and shared by `--export`; PcapWriter writes relayed TCP connections as a classic pcap
// (microsecond, Ethernet): synthesized Ethernet/IP/TCP headers around the real bytes, streamed to
// a file with backpressure.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import type { Dir } from '../model/record.js';
import type { ExactTime } from './types.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../net/types.js';

const LINKTYPE_ETHERNET = 1;
/** IPv4 total length 65535 = 20 IP + 20 TCP + 65495 data; used for IPv6 too. */
export const MAX_SEGMENT = 65495;

export interface Endpoint {
  ip: string;
  port: number;
}

export class PcapWriter {
  private readonly out: WriteStream;
  private failed: Error | undefined;
  /** Bytes handed to the file so far: where the next record starts. */
  private written = 24;
  /** File offset of the payload of the last record written, or -1 (none, or the file failed). */
  lastPayloadAt = -1;
  private packets = 0;

  /** Number of the last packet written (frames count from 1, as Wireshark's), 0 once the file failed. */
  get frame(): number {
    return this.failed ? 0 : this.packets;
  }

  /** `onError`: the file failed after it was opened (disk full...); writing stops, the caller goes on. */
  constructor(path: string, onError?: (err: Error) => void) {
    this.out = createWriteStream(path);
    this.out.setMaxListeners(0);
    let isOpen = false;
    this.out.once('open', () => (isOpen = true));
    this.out.on('error', (err) => {
      this.failed ??= err;
      // Failing to open is for opened() to report.
      if (isOpen) onError?.(err);
    });
    this.out.write(globalHeader());
  }

  /** Resolves once the file is open (rejects when it cannot be created). */
  async opened(): Promise<void> {
    if (this.failed) throw this.failed;
    await Promise.race([once(this.out, 'ready'), once(this.out, 'error').then(([e]) => Promise.reject(e as Error))]);
  }

  get error(): Error | undefined {
    return this.failed;
  }

  /** Bytes written and not yet taken by the file. */
  get queued(): number {
    return this.out.writableLength;
  }

  /** A new TCP connection: writes its three-way handshake. */
  flow(client: Endpoint, server: Endpoint, ts: number): PcapFlow {
    return new PcapFlow(this, client, server, ts);
  }

  /** False when the file is behind: the caller waits for `drained()` before sending more. */
  write(header: Uint8Array, payload?: Uint8Array): boolean {
    if (this.failed) {
      this.lastPayloadAt = -1;
      return true;
    }
    this.lastPayloadAt = this.written + header.length;
    this.packets++;
    this.written += header.length + (payload?.length ?? 0);
    let ok = this.out.write(header);
    if (payload !== undefined && payload.length > 0) ok = this.out.write(payload);
    return ok;
  }

  drained(): Promise<void> {
    if (!this.out.writableNeedDrain || this.failed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('close', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('close', done);
    });
  }

  async close(): Promise<void> {
    if (this.out.closed) return;
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }
}

export class PcapFlow {
  private readonly ips: [Uint8Array, Uint8Array];
  private readonly ports: [number, number];
  private readonly v6: boolean;
  private readonly next: [number, number];
  private readonly finished: [boolean, boolean] = [false, false];

  constructor(
    private readonly writer: PcapWriter,
    client: Endpoint,
    server: Endpoint,
    ts: number,
  ) {
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: written as IPv4, as the live records show them.
    this.v6 = !(isIPv4Like(client.ip) && isIPv4Like(server.ip));
    this.ips = [ipBytes(client.ip, this.v6), ipBytes(server.ip, this.v6)];
    this.ports = [client.port, server.port];
    const isn0 = (Math.random() * 0x100000000) >>> 0;
    const isn1 = (Math.random() * 0x100000000) >>> 0;
    this.next = [isn0, isn1];
    this.segment(0, TCP_SYN, ts, undefined, 0);
    this.next[0] = (this.next[0] + 1) >>> 0;
  }

  /** Server accepted: SYN-ACK and ACK. */
  established(ts: number): void {
    this.segment(1, TCP_SYN | TCP_ACK, ts);
    this.next[1] = (this.next[1] + 1) >>> 0;
    this.segment(0, TCP_ACK, ts);
  }

  /** Server refused: RST-ACK. */
  refused(ts: number): void {
    this.segment(1, TCP_RST | TCP_ACK, ts);
    this.finished[0] = this.finished[1] = true;
  }

  /**
   * Relayed bytes of one direction; false when the file is behind. `located`, when given, gets each
   * packet's part of the bytes with the file offset it is written at (-1 once the file has failed)
   * and its frame number (0 once the file has failed).
   */
  data(dir: Dir, bytes: Uint8Array, ts: number, located?: Array<[Uint8Array, number, number]>): boolean {
    let ok = true;
    for (let at = 0; at < bytes.length; at += MAX_SEGMENT) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + MAX_SEGMENT));
      ok = this.segment(dir, TCP_ACK | TCP_PSH, ts, part) && ok;
      located?.push([part, this.writer.lastPayloadAt, this.writer.frame]);
      this.next[dir] = (this.next[dir] + part.length) >>> 0;
    }
    return ok;
  }

  fin(dir: Dir, ts: number): void {
    if (this.finished[dir]) return;
    this.finished[dir] = true;
    this.segment(dir, TCP_FIN | TCP_ACK, ts);
    this.next[dir] = (this.next[dir] + 1) >>> 0;
  }

  rst(dir: Dir, ts: number): void {
    if (this.finished[0] && this.finished[1]) return;
    this.finished[0] = this.finished[1] = true;
    this.segment(dir, TCP_RST | TCP_ACK, ts);
  }

  private segment(dir: Dir, flags: number, ts: number, payload?: Uint8Array, ack?: number): boolean {
    const other = dir === 0 ? 1 : 0;
    const ipLen = this.v6 ? 40 : 20;
    const dataLen = payload?.length ?? 0;
    const frameLen = 14 + ipLen + 20 + dataLen;
    const h = new Uint8Array(16 + 14 + ipLen + 20);
    const v = new DataView(h.buffer);
    const sec = Math.floor(ts);
    setRecordHeader(v, sec, Math.min(999999, Math.round((ts - sec) * 1e6)), frameLen, frameLen);
    // Ethernet: locally administered MACs derived from the side.
    h.set([2, 0, 0, 0, 0, other + 1, 2, 0, 0, 0, 0, dir + 1], 16);
    v.setUint16(28, this.v6 ? 0x86dd : 0x0800);
    const ip = 30;
    if (this.v6) {
      v.setUint32(ip, 0x60000000);
      v.setUint16(ip + 4, 20 + dataLen);
      h[ip + 6] = 6;
      h[ip + 7] = 64;
      h.set(this.ips[dir], ip + 8);
      h.set(this.ips[other], ip + 24);
    } else {
      h[ip] = 0x45;
      v.setUint16(ip + 2, 20 + 20 + dataLen);
      v.setUint16(ip + 6, 0x4000);
      h[ip + 8] = 64;
      h[ip + 9] = 6;
      h.set(this.ips[dir], ip + 12);
      h.set(this.ips[other], ip + 16);
      v.setUint16(ip + 10, ipv4Checksum(h, ip));
    }
    const tcp = ip + ipLen;
    v.setUint16(tcp, this.ports[dir]);
    v.setUint16(tcp + 2, this.ports[other]);
    v.setUint32(tcp + 4, this.next[dir]);
    v.setUint32(tcp + 8, ack ?? (flags & TCP_ACK ? this.next[other] : 0));
    h[tcp + 12] = 0x50;
    h[tcp + 13] = flags;
    v.setUint16(tcp + 14, 0xffff);
    return this.writer.write(h, payload);
  }
}

function globalHeader(): Uint8Array {
  return pcapFileHeader(LINKTYPE_ETHERNET, false);
}

/** Classic pcap file header (little-endian; nanosecond magic when `nano`). */
export function pcapFileHeader(linkType: number, nano: boolean): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  v.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, linkType, true);
  return h;
}

/** A classic pcap record header: `frac` in the file's unit (micro- or nanoseconds). */
export function pcapRecordHeader(sec: number, frac: number, caplen: number, origLen: number): Uint8Array {
  const h = new Uint8Array(16);
  setRecordHeader(new DataView(h.buffer), sec, frac, caplen, origLen);
  return h;
}

function setRecordHeader(v: DataView, sec: number, frac: number, caplen: number, origLen: number): void {
  v.setUint32(0, sec >>> 0, true);
  v.setUint32(4, frac, true);
  v.setUint32(8, caplen, true);
  v.setUint32(12, origLen, true);
}

/** The pcap record fraction of an exact time in a file of micro- (`nano` false) or nanoseconds. */
export function pcapFraction(t: ExactTime, nano: boolean): number {
  return nano ? t.nsec : Math.floor(t.nsec / 1000);
}

const PCAPNG_BYTE_ORDER = 0x1a2b3c4d;

/** A pcapng section header block of unknown section length (little-endian, version 1.0). */
export function pcapngSectionHeader(): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x0a0d0d0a, true);
  v.setUint32(4, 28, true);
  v.setUint32(8, PCAPNG_BYTE_ORDER, true);
  v.setUint16(12, 1, true);
  v.setUint16(14, 0, true);
  v.setInt32(16, -1, true);
  v.setInt32(20, -1, true);
  v.setUint32(24, 28, true);
  return b;
}

/** A pcapng interface description block: link type, and if_tsresol 9 (nanoseconds) when `nano`, else 6. */
export function pcapngInterface(linkType: number, nano: boolean): Uint8Array {
  // type, length, link type + reserved, snaplen, if_tsresol option (4 + 1 padded to 4), end of options, length
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1, true);
  v.setUint32(4, 32, true);
  v.setUint16(8, linkType, true);
  v.setUint32(12, 262144, true);
  v.setUint16(16, 9, true);
  v.setUint16(18, 1, true);
  b[20] = nano ? 9 : 6;
  v.setUint32(28, 32, true);
  return b;
}

/** A pcapng enhanced packet block on interface `ifId` whose resolution is nano- or microseconds. */
export function pcapngPacket(ifId: number, t: ExactTime, nano: boolean, data: Uint8Array, origLen: number): Uint8Array {
  const padded = (data.length + 3) & ~3;
  const length = 32 + padded;
  const b = new Uint8Array(length);
  const v = new DataView(b.buffer);
  // 64-bit count of units since the epoch, split in two 32-bit halves without losing integers.
  const perSecond = nano ? 1e9 : 1e6;
  const units = BigInt(t.sec) * BigInt(perSecond) + BigInt(pcapFraction(t, nano));
  v.setUint32(0, 6, true);
  v.setUint32(4, length, true);
  v.setUint32(8, ifId, true);
  v.setUint32(12, Number(units >> 32n), true);
  v.setUint32(16, Number(units & 0xffffffffn), true);
  v.setUint32(20, data.length, true);
  v.setUint32(24, origLen, true);
  b.set(data, 28);
  v.setUint32(length - 4, length, true);
  return b;
}

function ipv4Checksum(h: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = at; i < at + 20; i += 2) sum += ((h[i] ?? 0) << 8) | (h[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** An IPv4 address, plain or IPv4-mapped IPv6. */
function isIPv4Like(ip: string): boolean {
  return isIPv4(ip) || isIPv4(IPV4_MAPPED.exec(ip)?.[1] ?? '');
}

/** IPv4 as 4 bytes, or 16 when the flow is IPv6 (IPv4 then mapped as ::ffff:a.b.c.d). */
export function ipBytes(ip: string, v6: boolean): Uint8Array {
  const mapped = IPV4_MAPPED.exec(ip);
  const v4 = isIPv4(ip) ? ip : mapped?.[1];
  if (v4 !== undefined) {
    const b = v4.split('.').map(Number);
    return v6 ? Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b]) : Uint8Array.from(b);
  }
  if (!isIPv6(ip)) return new Uint8Array(v6 ? 16 : 4);
  const zoneless = ip.replace(/%.*$/, '');
  const [head = '', tail = ''] = zoneless.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').flatMap(groupWords));
  const hw = parse(head);
  const tw = zoneless.includes('::') ? parse(tail) : [];
  const words = [...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function groupWords(g: string): number[] {
  if (!g.includes('.')) return [parseInt(g, 16)];
  const b = g.split('.').map(Number);
  return [((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0)];
}
