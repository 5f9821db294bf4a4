// Seeded mutants of the real captures in samples/ for the fuzz test: bit flips (anywhere, and in
// record/block and protocol headers), cuts, absurd lengths, duplicated and removed ranges, unknown
// pcapng blocks, and gzip (whole, cut, corrupt). Each mutant is a pure function of (seed, index),
// so a failure report names everything needed to reproduce it.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { prng } from '../capture/capture-bytes.js';
import { concat } from '../support/bt-bytes.js';

export const SAMPLE_NAMES = ['wt-sample.pcap', 'lt-sample.pcap', 'utp-sample.pcap', 'wt-dumpcap.pcapng', 'wt-sll2.pcap', 'lt-encrypted.pcap'];

export interface Sample {
  name: string;
  bytes: Uint8Array;
  ng: boolean;
  /** Offsets where a record or block starts, and the end: a cut there loses nothing mid-unit. */
  boundaries: number[];
  /** Offsets of the packet records/blocks. */
  packets: number[];
  /** End of the file header (pcap) or of the first section header block (pcapng). */
  headerEnd: number;
}

export type MutantKind =
  | 'flips'
  | 'header-flips'
  | 'cut'
  | 'absurd-lengths'
  | 'duplicate'
  | 'remove'
  | 'unknown-block'
  | 'combo'
  | 'gzip'
  | 'gzip-cut'
  | 'gzip-corrupt';

/** Mutants of each kind per sample (scaled by the caller). */
export const PLAN: ReadonlyArray<readonly [MutantKind, number]> = [
  ['flips', 45],
  ['header-flips', 60],
  ['cut', 40],
  ['absurd-lengths', 45],
  ['duplicate', 20],
  ['remove', 20],
  ['unknown-block', 15],
  ['combo', 25],
  ['gzip', 6],
  ['gzip-cut', 12],
  ['gzip-corrupt', 6],
];

export type Feed = 'bytes' | 'chunks' | 'path';

export interface Mutant {
  index: number;
  sample: Sample;
  kind: MutantKind;
  /** What was done, with offsets: enough to rebuild it by hand. */
  label: string;
  bytes: Uint8Array;
  /** Length of the capture once decompressed (warning offsets must lie within it); unknown for corrupt gzip. */
  plainLength: number;
  /** The only change is a cut of the plain capture here. */
  cut?: number;
  /** The gzip stream is cut short (no other change to it). */
  gzipCut?: boolean;
  /** Only well-formed unknown blocks were added: the records must not change. */
  sameRecords?: boolean;
  feed: Feed;
  /** Random chunk sizes for feed 'chunks'. */
  chunkSeed: number;
}

export function loadSample(name: string): Sample {
  const bytes = new Uint8Array(readFileSync(new URL(`../../samples/${name}`, import.meta.url)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ng = view.getUint32(0) === 0x0a0d0d0a;
  const boundaries: number[] = [];
  const packets: number[] = [];
  if (ng) {
    let le = true;
    for (let p = 0; p + 8 <= bytes.length; ) {
      if (view.getUint32(p) === 0x0a0d0d0a) le = view.getUint32(p + 8, true) === 0x1a2b3c4d;
      const type = view.getUint32(p, le);
      if (type === 6 || type === 3 || type === 2) packets.push(p);
      boundaries.push(p);
      p += view.getUint32(p + 4, le);
    }
  } else {
    const le = view.getUint32(0, true) === 0xa1b2c3d4 || view.getUint32(0, true) === 0xa1b23c4d;
    for (let p = 24; p + 16 <= bytes.length; p += 16 + view.getUint32(p + 8, le)) {
      boundaries.push(p);
      packets.push(p);
    }
  }
  boundaries.push(bytes.length);
  const headerEnd = ng ? view.getUint32(4, view.getUint32(8, true) === 0x1a2b3c4d) : 24;
  return { name, bytes, ng, boundaries, packets, headerEnd };
}

/** The mutant list: every kind of PLAN for every sample, `scale` times over. */
export function planMutants(samples: readonly Sample[], scale: number): Array<{ sample: Sample; kind: MutantKind }> {
  const out: Array<{ sample: Sample; kind: MutantKind }> = [];
  for (const sample of samples) {
    for (const [kind, n] of PLAN) for (let i = 0; i < Math.max(1, Math.round(n * scale)); i++) out.push({ sample, kind });
  }
  return out;
}

type Random = () => number;

export function makeMutant(seed: number, index: number, sample: Sample, kind: MutantKind): Mutant {
  const rnd = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const feedRoll = rnd();
  const feed: Feed = feedRoll < 0.45 ? 'bytes' : feedRoll < 0.9 ? 'chunks' : 'path';
  const base = { index, sample, kind, feed, chunkSeed: Math.floor(rnd() * 2 ** 32) };
  const src = sample.bytes;
  switch (kind) {
    case 'cut': {
      const cut = int(rnd, src.length);
      return { ...base, label: `cut at ${cut}`, bytes: src.subarray(0, cut), plainLength: cut, cut };
    }
    case 'unknown-block': {
      const [bytes, label] = sample.ng ? insertUnknownBlocks(rnd, sample) : insertJunk(rnd, sample);
      return { ...base, label, bytes, plainLength: bytes.length, sameRecords: sample.ng };
    }
    case 'gzip':
    case 'gzip-cut':
    case 'gzip-corrupt': {
      const [plain, what] = rnd() < 0.5 ? [src, 'clean'] : applyOne(rnd, sample, src, pick(rnd, SIMPLE_KINDS));
      const gz = gzipSync(plain, { level: 1 });
      if (kind === 'gzip') return { ...base, label: `gzip of ${what}`, bytes: gz, plainLength: plain.length };
      if (kind === 'gzip-cut') {
        const cut = 1 + int(rnd, gz.length - 1);
        return { ...base, label: `gzip of ${what}, cut at ${cut} of ${gz.length}`, bytes: gz.subarray(0, cut), plainLength: plain.length, gzipCut: true };
      }
      const bad = gz.slice();
      const at = 10 + int(rnd, bad.length - 10);
      const n = 1 + int(rnd, 64);
      bad.fill(rnd() < 0.5 ? 0xff : int(rnd, 256), at, at + n);
      // Damaged deflate data may inflate to anything, of any length.
      return { ...base, label: `gzip of ${what}, ${n} bytes at ${at} overwritten`, bytes: bad, plainLength: Number.POSITIVE_INFINITY };
    }
    case 'combo': {
      let bytes = src;
      const labels: string[] = [];
      for (let k = 2 + int(rnd, 2); k > 0; k--) {
        const [next, what] = applyOne(rnd, sample, bytes, pick(rnd, SIMPLE_KINDS));
        bytes = next;
        labels.push(what);
      }
      if (rnd() < 0.3) {
        const cut = int(rnd, bytes.length);
        bytes = bytes.subarray(0, cut);
        labels.push(`cut at ${cut}`);
      }
      return { ...base, label: labels.join(', then '), bytes, plainLength: bytes.length };
    }
    default: {
      const [bytes, label] = applyOne(rnd, sample, src, kind);
      return { ...base, label, bytes, plainLength: bytes.length };
    }
  }
}

const SIMPLE_KINDS: readonly MutantKind[] = ['flips', 'header-flips', 'absurd-lengths', 'duplicate', 'remove'];

function applyOne(rnd: Random, sample: Sample, src: Uint8Array, kind: MutantKind): [Uint8Array, string] {
  switch (kind) {
    case 'flips':
      return flip(rnd, src, 1 + int(rnd, 32), () => int(rnd, src.length), 'anywhere');
    case 'header-flips': {
      // Record/block header, then link, IP, TCP/UDP, uTP and the start of the BitTorrent message.
      const span = (sample.ng ? 28 : 16) + 96;
      return flip(rnd, src, 1 + int(rnd, 6), () => pick(rnd, sample.packets) + int(rnd, span), 'in headers');
    }
    case 'absurd-lengths': {
      const out = src.slice();
      const spots: string[] = [];
      for (let k = 1 + int(rnd, 4); k > 0; k--) {
        // Record/block length fields, IP/UDP lengths, BitTorrent length prefixes: all lie near a
        // unit start; a few anywhere.
        const at = rnd() < 0.8 ? pick(rnd, sample.boundaries) + int(rnd, 80) : int(rnd, out.length);
        const n = 1 + int(rnd, 8);
        const value = rnd() < 0.6 ? 0xff : 0x00;
        out.fill(value, at, at + n);
        spots.push(`${n}x${value.toString(16)}@${at}`);
      }
      return [out, `overwritten ${spots.join(' ')}`];
    }
    case 'duplicate': {
      const from = int(rnd, src.length);
      const length = 1 + int(rnd, rnd() < 0.5 ? 64 : 20000);
      const piece = src.subarray(from, from + length);
      const at = int(rnd, src.length);
      return [concat(...[src.subarray(0, at), piece, src.subarray(at)]), `${piece.length} bytes from ${from} copied to ${at}`];
    }
    case 'remove': {
      const from = int(rnd, src.length);
      const length = 1 + int(rnd, rnd() < 0.5 ? 64 : 20000);
      return [concat(...[src.subarray(0, from), src.subarray(from + length)]), `${Math.min(length, src.length - from)} bytes at ${from} removed`];
    }
    default:
      throw new Error(`not a simple mutation: ${kind}`);
  }
}

function flip(rnd: Random, src: Uint8Array, count: number, where: () => number, what: string): [Uint8Array, string] {
  const out = src.slice();
  const spots: string[] = [];
  for (let k = 0; k < count; k++) {
    const at = Math.min(where(), out.length - 1);
    const bit = int(rnd, 8);
    out[at] = out[at]! ^ (1 << bit);
    spots.push(`${at}.${bit}`);
  }
  return [out, `${count} bits flipped ${what} (${spots.join(' ')})`];
}

/** Well-formed blocks of types no reader knows, at block boundaries after the section header. */
function insertUnknownBlocks(rnd: Random, sample: Sample): [Uint8Array, string] {
  const src = sample.bytes;
  const le = new DataView(src.buffer, src.byteOffset).getUint32(8, true) === 0x1a2b3c4d;
  const cuts = sample.boundaries.filter((b) => b >= sample.headerEnd);
  const at = [...new Set(Array.from({ length: 1 + int(rnd, 3) }, () => pick(rnd, cuts)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  const labels: string[] = [];
  let from = 0;
  for (const p of at) {
    parts.push(src.subarray(from, p));
    const type = pick(rnd, [0x00000bad, 0x40000bad, 0x80000001, 0x00000777, 0x7fff1234]);
    const body = Uint8Array.from({ length: int(rnd, 5000) }, () => int(rnd, 256));
    parts.push(block(le, type, body));
    labels.push(`type 0x${type.toString(16)} with ${body.length} bytes at ${p}`);
    from = p;
  }
  parts.push(src.subarray(from));
  return [concat(...parts), `unknown blocks inserted: ${labels.join(', ')}`];
}

/** Classic pcap has no skippable blocks: junk between records (the reader must resynchronise). */
function insertJunk(rnd: Random, sample: Sample): [Uint8Array, string] {
  const src = sample.bytes;
  const at = pick(rnd, sample.boundaries.filter((b) => b >= sample.headerEnd));
  const junk = Uint8Array.from({ length: 1 + int(rnd, 3000) }, () => (rnd() < 0.3 ? 0 : int(rnd, 256)));
  return [concat(...[src.subarray(0, at), junk, src.subarray(at)]), `${junk.length} junk bytes inserted at ${at}`];
}

function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, le);
  view.setUint32(4, out.length, le);
  out.set(body, 8);
  view.setUint32(out.length - 4, out.length, le);
  return out;
}

/** Splits `bytes` into chunks of random size (sometimes tiny), as a stream would deliver them. */
export async function* randomChunks(bytes: Uint8Array, seed: number): AsyncGenerator<Uint8Array> {
  const rnd = prng(seed);
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + int(rnd, rnd() < 0.15 ? 16 : 70000);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

function int(rnd: Random, n: number): number {
  return Math.floor(rnd() * n);
}

function pick<T>(rnd: Random, from: readonly T[]): T {
  return from[int(rnd, from.length)]!;
}

