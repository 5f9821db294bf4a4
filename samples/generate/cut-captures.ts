// Cut captures for issue 18: real captures from which one TCP segment (or uTP packet) is dropped,
// so that one direction of one connection loses the segment carrying its extended handshake, a
// have, an lt_donthave, or a piece answering a request. The capture then shows exactly what a
// capture that lost bytes shows: the receiver's acknowledgments cover bytes it never saw, and the
// reassembler reports a gap. Findings must judge only what the capture saw (--check on a cut capture
// gives no error or warning the whole capture does not give).
//
// A kept cut file holds only the packets of the connection it cuts, up to a few packets after the
// cut (KEEP_AFTER), so that the files stay small; the packets are copied byte for byte from the
// original (pcap records, or pcapng blocks with the file's section and interface blocks). With
// `whole` (the tests) the cut is the whole capture without that one packet.
//
//   node --import tsx samples/generate/cut-captures.ts [OUTDIR] [SAMPLE.pcap ...]
// writes OUTDIR/NAME.KIND-DIR.pcap (default samples/cut/; every sample but lt-encrypted, whose
// messages are encrypted), keeping only the cuts of at most MAX_KEPT bytes (the tests make every
// cut of every sample in memory; the files are the small ones, to open and read).
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeCapture } from '../../src/inspect.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { decodeLink } from '../../src/net/decode.js';
import type { AnyRecord, ByteExtents, MessageRecord } from '../../src/model/record.js';

export type CutKind = 'ext-handshake' | 'have' | 'lt_donthave' | 'piece';
export const CUT_KINDS: readonly CutKind[] = ['ext-handshake', 'have', 'lt_donthave', 'piece'];
/** Packets of the connection kept after the dropped one: enough to see what follows the loss. */
const KEEP_AFTER = 20;
/** Cut files larger than this are not written (loopback segments of pieces are up to 64 KiB). */
const MAX_KEPT = 60_000;

export interface Cut {
  kind: CutKind;
  /** Which direction lost the segment: the initiator's ('i2r') or the responder's ('r2i'). */
  dir: 'i2r' | 'r2i';
  /** The message the dropped packet carried (its sender and receiver). */
  src: string;
  dst: string;
  /** 1-based number of the dropped packet in the original capture. */
  dropped: number;
  /** The cut capture's bytes. */
  bytes: Uint8Array;
}

interface Packet {
  index: number;
  offset: number;
  dataOffset: number;
  end: number;
  /** "src dst" of the IP/TCP-or-UDP packet, or undefined when it is not one. */
  src?: string;
  dst?: string;
}

/** Every packet of a capture with its record's place in the file and its endpoints. */
function packetsOf(bytes: Uint8Array): { packets: Packet[]; headerEnd: number } {
  const packets: Packet[] = [];
  const reader = new CaptureReader({
    packet(p) {
      const net = decodeLink(p.linkType, p.data);
      const pk: Packet = { index: p.index, offset: p.offset, dataOffset: p.dataOffset, end: p.dataOffset + p.data.length };
      if (net !== null && typeof net !== 'string') {
        pk.src = net.src;
        pk.dst = net.dst;
      }
      packets.push(pk);
    },
    warning() {},
    fatal(message) {
      throw new Error(message);
    },
  });
  reader.push(bytes);
  reader.end();
  // A record ends where the next begins (pcap: padding-free; pcapng: the block's trailing length).
  for (let i = 0; i < packets.length; i++) packets[i]!.end = packets[i + 1]?.offset ?? bytes.length;
  return { packets, headerEnd: packets[0]?.offset ?? bytes.length };
}

interface Located {
  r: MessageRecord;
  at: number;
}

/** The decoded messages with the capture offset of their first byte. */
async function locateMessages(bytes: Uint8Array): Promise<{ messages: Located[]; initiators: Map<number, string> }> {
  const messages: Located[] = [];
  const initiators = new Map<number, string>();
  await decodeCapture(bytes, (r: AnyRecord, _raw?: Uint8Array, where?: ByteExtents) => {
    if (!('conn' in r)) return;
    // A connection's first record is its 'open' event, from the initiator (or its first message).
    if (!initiators.has(r.conn)) initiators.set(r.conn, r.src);
    if ('msg' in r && where !== undefined && where.length >= 2) messages.push({ r, at: where[0]! });
  }, { locate: true, findings: false });
  return { messages, initiators };
}

/** The first message of `kind` from each side, per connection, in capture order. */
function targets(messages: Located[], kind: CutKind): Located[] {
  const found: Located[] = [];
  const seen = new Set<string>();
  const requested = new Set<string>();
  for (const m of messages) {
    const r = m.r;
    if (r.msg === 'request') requested.add(`${r.conn} ${r.dst} ${r.piece}:${r.begin}`);
    const hit =
      kind === 'ext-handshake' ? r.msg === 'extended' && r.ext === 'handshake'
      : kind === 'have' ? r.msg === 'have'
      : kind === 'lt_donthave' ? r.msg === 'extended' && r.ext === 'lt_donthave'
      : r.msg === 'piece' && requested.has(`${r.conn} ${r.src} ${r.piece}:${r.begin}`);
    const key = `${r.src} ${r.dst}`;
    if (!hit || seen.has(key)) continue;
    seen.add(key);
    found.push(m);
  }
  return found;
}

/** Every cut of one capture: per kind, per direction that sends that kind, the first such message. */
export async function cutCapture(bytes: Uint8Array, opts: { whole?: boolean } = {}): Promise<Cut[]> {
  const { packets, headerEnd } = packetsOf(bytes);
  const { messages, initiators } = await locateMessages(bytes);
  const cuts: Cut[] = [];
  for (const kind of CUT_KINDS) {
    const done = new Set<string>();
    for (const t of targets(messages, kind)) {
      const r = t.r;
      // One cut per kind and direction (initiator's, responder's) over the whole capture.
      const dir = initiators.get(r.conn) === r.src ? 'i2r' : 'r2i';
      if (done.has(dir)) continue;
      const drop = packets.find((p) => t.at >= p.dataOffset && t.at < p.end);
      if (drop === undefined) continue;
      done.add(dir);
      const kept = opts.whole === true ? wholeBytes(bytes, packets, drop) : cutBytes(bytes, headerEnd, packets, drop, r.src, r.dst);
      cuts.push({ kind, dir, src: r.src, dst: r.dst, dropped: drop.index, bytes: kept });
    }
  }
  return cuts;
}

/** The connection's packets up to KEEP_AFTER after `drop`, without `drop`, behind the file's header. */
function cutBytes(bytes: Uint8Array, headerEnd: number, packets: Packet[], drop: Packet, a: string, b: string): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, headerEnd)];
  let after = -1;
  for (const p of packets) {
    const mine = (p.src === a && p.dst === b) || (p.src === b && p.dst === a);
    if (!mine) continue;
    if (p === drop) {
      after = 0;
      continue;
    }
    if (after >= 0 && ++after > KEEP_AFTER) break;
    parts.push(bytes.subarray(p.offset, p.end));
  }
  return Buffer.concat(parts);
}

/** The whole capture without `drop` (every connection, to the end). */
function wholeBytes(bytes: Uint8Array, packets: Packet[], drop: Packet): Uint8Array {
  const next = packets.find((p) => p.offset > drop.offset)?.offset ?? bytes.length;
  return Buffer.concat([bytes.subarray(0, drop.offset), bytes.subarray(next)]);
}

/** The name of a cut capture: NAME.KIND-DIR.pcap (or .pcapng). */
export function cutName(sample: string, cut: Cut): string {
  const ext = sample.endsWith('.pcapng') ? '.pcapng' : '.pcap';
  return `${basename(sample).replace(/\.pcap(ng)?$/, '')}.${cut.kind}-${cut.dir}${ext}`;
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? 'samples/cut';
  const given = process.argv.slice(3);
  const samples = given.length > 0 ? given : readdirSync('samples').filter((f) => /\.pcap(ng)?$/.test(f) && f !== 'lt-encrypted.pcap').map((f) => join('samples', f));
  mkdirSync(outDir, { recursive: true });
  for (const sample of samples) {
    const cuts = await cutCapture(readFileSync(sample));
    for (const cut of cuts) {
      const name = cutName(sample, cut);
      if (cut.bytes.length > MAX_KEPT) continue;
      writeFileSync(join(outDir, name), cut.bytes);
      console.log(`${name}: packet ${cut.dropped} dropped (${cut.kind} ${cut.src} -> ${cut.dst}), ${cut.bytes.length} bytes`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(basename(process.argv[1]))) await main();
