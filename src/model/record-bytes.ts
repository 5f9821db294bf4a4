// The terminal UI's message bytes: the first bytes of each message copied into shared arenas
// (bounded, so a peer cannot grow memory beyond a fixed share per message), and for a longer
// message where its bytes lie in the capture file (a few offsets), read back from the file when the
// hex pane shows it: memory follows messages, not bytes. Per record a few typed-column entries.
import type { FramePacket } from '../capture/types.js';
import { MAX_EXTENT_PAIRS, type ByteExtents } from './record.js';
import { f64, u16, u32 } from './columns.js';

/** Bytes of a message kept for the hex pane. A bitfield keeps more so the piece map can read it. */
export const RAW_KEEP = 256;
export const RAW_KEEP_BITFIELD = 8192;
const ARENA_SIZE = 4 << 20;
/** Doubles per extents arena (each message: a count, then offset, length pairs). */
const EXTENTS_ARENA = 1 << 16;

/** Reads bytes of the capture back on demand (the hex pane); undefined when they cannot be read. */
export interface ByteSource {
  read(offset: number, length: number): Uint8Array | undefined;
}

const READ_FAILED = 'the rest could not be read back from the capture file';

export interface RecordBytes {
  bytes: Uint8Array;
  /** The message's size on the wire. */
  total: number;
  /** Why only the first bytes are shown, when bytes.length < total. */
  note?: string;
}

export class RecordByteStore {
  private readonly arenas: Uint8Array[] = [];
  private arenaUsed = ARENA_SIZE;
  /** Per record: where its kept bytes start (arena number * ARENA_SIZE + offset), or -1 for none. */
  private readonly rawAt = f64();
  private readonly rawLength = u16();
  /** Per record: the length of the bytes it came with (its size on the wire, or less for a piece). */
  private readonly rawFull = u32();
  /** Per record: where its extents start (arena number * EXTENTS_ARENA + offset), or -1. */
  private readonly extentsAt = f64();
  private readonly extentArenas: Float64Array[] = [];
  private extentsUsed = EXTENTS_ARENA;
  private byteSource: ByteSource | undefined;
  /** Why bytes cannot be read back (no byte source). */
  private noReadBack = 'only the first bytes of each message are kept';
  private lastRead: { index: number; bytes: RecordBytes } | undefined;
  /** Reads a capture packet back by frame number, for the details tree's lower layers; or why it cannot. */
  private frameReader: ((frame: number) => FramePacket | string) | string = 'the capture packets cannot be read back';

  /** Keeps the next record's bytes: at most `limit` of `raw`, and `where` when `raw` is not kept whole. */
  push(raw: Uint8Array | undefined, where: ByteExtents | undefined, limit: number): void {
    if (raw === undefined) {
      this.rawAt.push(-1);
      this.rawLength.push(0);
      this.rawFull.push(0);
      this.extentsAt.push(-1);
      return;
    }
    const n = Math.min(raw.length, limit);
    this.rawAt.push(this.keepRaw(raw, n));
    this.rawLength.push(n);
    this.rawFull.push(raw.length);
    this.extentsAt.push(where !== undefined && n < raw.length ? this.keepExtents(where, raw.length) : -1);
  }

  /** The first bytes kept of a record's message (all of it when short). */
  raw(index: number): RecordBytes | undefined {
    const at = this.rawAt.get(index);
    if (at === undefined || at < 0) return undefined;
    const arena = this.arenas[Math.floor(at / ARENA_SIZE)]!;
    const from = at % ARENA_SIZE;
    return { bytes: arena.subarray(from, from + this.rawLength.get(index)!), total: this.rawFull.get(index)! };
  }

  /** Where the bytes of long messages are read back from; `why` says why they cannot be, without one. */
  setByteSource(source: ByteSource | undefined, why?: string): void {
    this.byteSource = source;
    if (why !== undefined) this.noReadBack = why;
    this.lastRead = undefined;
  }

  /** Where the details tree reads a frame's packet from, or why it cannot (one line). */
  setFrameReader(reader: ((frame: number) => FramePacket | string) | string): void {
    this.frameReader = reader;
  }

  /** The packet of capture frame `frame`, read back, or why it cannot be. */
  framePacket(frame: number): FramePacket | string {
    return typeof this.frameReader === 'string' ? this.frameReader : this.frameReader(frame);
  }

  /**
   * A record's whole message: read back from the capture when only its first bytes are kept. What
   * is read must begin with the kept bytes (the file may have changed since); otherwise, or when
   * it cannot be read, the kept bytes come with a note.
   */
  bytes(index: number): RecordBytes | undefined {
    const kept = this.raw(index);
    if (kept === undefined || kept.bytes.length === kept.total) return kept;
    if (this.lastRead?.index === index) return this.lastRead.bytes;
    const result = this.readBack(index, kept);
    // A read that failed is tried again at the next render: a --save file being written may not
    // have the bytes yet.
    if (result.note !== READ_FAILED) this.lastRead = { index, bytes: result };
    return result;
  }

  private readBack(index: number, kept: RecordBytes): RecordBytes {
    const at = this.extentsAt.get(index) ?? -1;
    if (this.byteSource === undefined) return { ...kept, note: this.noReadBack };
    if (at < 0) return { ...kept, note: 'the rest was not located in the capture (decoded after a resync or a decryption)' };
    const arena = this.extentArenas[Math.floor(at / EXTENTS_ARENA)]!;
    let p = at % EXTENTS_ARENA;
    const count = arena[p++]!;
    // keepExtents kept only extents that add up to the message's size.
    const whole = new Uint8Array(kept.total);
    let filled = 0;
    for (let k = 0; k < count; k++, p += 2) {
      const part = this.byteSource.read(arena[p]!, arena[p + 1]!);
      if (part === undefined || part.length !== arena[p + 1]) return { ...kept, note: READ_FAILED };
      whole.set(part, filled);
      filled += part.length;
    }
    if (!startsWith(whole, kept.bytes)) {
      return { ...kept, note: 'the capture file has changed since it was read' };
    }
    return { bytes: whole, total: kept.total };
  }

  private keepRaw(raw: Uint8Array, n: number): number {
    if (this.arenas.length === 0 || this.arenaUsed + n > ARENA_SIZE) {
      this.arenas.push(new Uint8Array(ARENA_SIZE));
      this.arenaUsed = 0;
    }
    const arena = this.arenas.length - 1;
    const at = this.arenaUsed;
    this.arenas[arena]!.set(raw.subarray(0, n), at);
    this.arenaUsed += n;
    return arena * ARENA_SIZE + at;
  }

  private keepExtents(where: ByteExtents, size: number): number {
    const pairs = where.length >> 1;
    let sum = 0;
    for (let k = 1; k < where.length; k += 2) sum += where[k]!;
    if (pairs === 0 || pairs > MAX_EXTENT_PAIRS || sum !== size) return -1;
    const need = 1 + 2 * pairs;
    if (this.extentsUsed + need > EXTENTS_ARENA) {
      this.extentArenas.push(new Float64Array(EXTENTS_ARENA));
      this.extentsUsed = 0;
    }
    const arenaIndex = this.extentArenas.length - 1;
    const arena = this.extentArenas[arenaIndex]!;
    const at = this.extentsUsed;
    arena[at] = pairs;
    arena.set(where, at + 1);
    this.extentsUsed += need;
    return arenaIndex * EXTENTS_ARENA + at;
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
