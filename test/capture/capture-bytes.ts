// Byte builders for hand-made pcap/pcapng fixtures, and a handler that records what a reader reports.
import type { CaptureHandler, CapturedPacket } from '../../src/capture/types.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';

export { concat } from '../support/bt-bytes.js';

/** Writes fixed-width unsigned fields in one byte order. */
export class Bytes {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(...values: number[]): this {
    for (const v of values) this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v, v >> 8) : this.u8(v >> 8, v);
  }
  u32(v: number): this {
    return this.le ? this.u8(v, v >>> 8, v >>> 16, v >>> 24) : this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }
  bytes(b: Uint8Array): this {
    for (const v of b) this.parts.push(v);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface PcapOptions {
  le?: boolean;
  nano?: boolean;
  linkType?: number;
  snaplen?: number;
  version?: [number, number];
}

export interface PcapRecord {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
  /** Overrides the captured length field (for broken records). */
  caplen?: number;
}

export function pcapFile(opts: PcapOptions, records: PcapRecord[]): Uint8Array {
  const le = opts.le ?? true;
  const w = new Bytes(le)
    .u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(opts.version?.[0] ?? 2)
    .u16(opts.version?.[1] ?? 4)
    .u32(0)
    .u32(0)
    .u32(opts.snaplen ?? 262144)
    .u32(opts.linkType ?? 1);
  for (const r of records) {
    w.u32(r.sec).u32(r.frac).u32(r.caplen ?? r.data.length).u32(r.origLen ?? r.data.length).bytes(r.data);
  }
  return w.done();
}

/** A pcapng block: type, length, body padded to 4, length again. */
export function ngBlock(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  return new Bytes(le)
    .u32(type)
    .u32(12 + padded)
    .bytes(body)
    .pad4()
    .u32(12 + padded)
    .done();
}

export function ngOption(le: boolean, code: number, value: Uint8Array): Uint8Array {
  return new Bytes(le).u16(code).u16(value.length).bytes(value).pad4().done();
}

export function ngSection(le: boolean, options: Uint8Array[] = []): Uint8Array {
  const body = new Bytes(le).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff);
  for (const o of options) body.bytes(o);
  if (options.length > 0) body.u32(0);
  return ngBlock(le, 0x0a0d0d0a, body.done());
}

export function ngInterface(le: boolean, linkType: number, opts: { tsresol?: number; tsoffset?: bigint; snaplen?: number } = {}): Uint8Array {
  const body = new Bytes(le).u16(linkType).u16(0).u32(opts.snaplen ?? 0);
  const options: Uint8Array[] = [ngOption(le, 2, new TextEncoder().encode('eth0'))];
  if (opts.tsresol !== undefined) options.push(ngOption(le, 9, Uint8Array.of(opts.tsresol)));
  if (opts.tsoffset !== undefined) {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigInt64(0, opts.tsoffset, le);
    options.push(ngOption(le, 14, v));
  }
  for (const o of options) body.bytes(o);
  body.u32(0);
  return ngBlock(le, 1, body.done());
}

/** Enhanced packet block; `units` is the 64-bit timestamp in the interface's units. */
export function ngEpb(le: boolean, ifId: number, units: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const body = new Bytes(le)
    .u32(ifId)
    .u32(Number(units >> 32n))
    .u32(Number(units & 0xffffffffn))
    .u32(data.length)
    .u32(origLen)
    .bytes(data)
    .pad4();
  return ngBlock(le, 6, body.done());
}

/** Obsolete packet block (type 2). */
export function ngPb(le: boolean, ifId: number, units: bigint, data: Uint8Array): Uint8Array {
  const body = new Bytes(le)
    .u16(ifId)
    .u16(0)
    .u32(Number(units >> 32n))
    .u32(Number(units & 0xffffffffn))
    .u32(data.length)
    .u32(data.length)
    .bytes(data)
    .pad4();
  return ngBlock(le, 2, body.done());
}

export function ngSpb(le: boolean, data: Uint8Array, origLen = data.length): Uint8Array {
  return ngBlock(le, 3, new Bytes(le).u32(origLen).bytes(data).pad4().done());
}

export interface Seen {
  packets: { ts: number; linkType: number; data: number[]; origLen: number; offset: number; index: number }[];
  warnings: { message: string; offset: number }[];
  fatals: { message: string; offset: number }[];
}

export function recorder(): { handler: CaptureHandler; seen: Seen } {
  const seen: Seen = { packets: [], warnings: [], fatals: [] };
  const handler: CaptureHandler = {
    packet: (p: CapturedPacket) => seen.packets.push({ ts: p.ts, linkType: p.linkType, data: Array.from(p.data), origLen: p.origLen, offset: p.offset, index: p.index }),
    warning: (message, offset) => seen.warnings.push({ message, offset }),
    fatal: (message, offset) => seen.fatals.push({ message, offset }),
  };
  return { handler, seen };
}

/** Reads `bytes` pushed as the given chunks (split points), then end(). */
export function readChunks(bytes: Uint8Array, splits: number[] = []): Seen {
  const { handler, seen } = recorder();
  const reader = new CaptureReader(handler);
  let from = 0;
  for (const at of [...splits, bytes.length]) {
    reader.push(bytes.subarray(from, at));
    from = at;
  }
  reader.end();
  return seen;
}

export function readBytewise(bytes: Uint8Array): Seen {
  const { handler, seen } = recorder();
  const reader = new CaptureReader(handler);
  for (let i = 0; i < bytes.length; i++) reader.push(bytes.subarray(i, i + 1));
  reader.end();
  return seen;
}

/** Deterministic PRNG (mulberry32) for bit-flip tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
