// pcapng: per-section byte order, the interface table with if_tsresol/if_tsoffset, EPB/SPB/obsolete
// PB; every other block skipped by its length once its trailing length agrees, or, too large to
// buffer, unless its length is absurd or blocks follow inside it. A damaged length anywhere means a
// warning and a scan in 4-byte steps for the next valid block.
import { PCAPNG_SHB } from './capture-format.js';
import { MAX_CAPLEN, u16, u32, u32be, type FormatReader, type ReaderState } from './reader-core.js';

/**
 * Largest pcapng block that is buffered whole (packet blocks, IDB, SHB, and other blocks up to this
 * size, whose trailing length is then checked); larger blocks of other types are skipped by streaming.
 */
const MAX_PARSED_BLOCK = 1 << 20;
/** A block claiming more than this is no block: reading is out of step (no writer makes them). */
const ABSURD_BLOCK = 256 << 20;
/** Bytes of a large block of another type looked through for blocks inside it before it is skipped. */
const SKIP_LOOKAHEAD = 256 * 1024;
const MAX_INTERFACES = 65536;
/** Section header fields before its options: type, length, byte-order magic, version, section length. */
const SHB_FIXED = 24;
/** Bytes of an interface block with a damaged length read for its link type and options. */
const DAMAGED_IDB_READ = 256;
const PCAPNG_IDB = 1;
const PCAPNG_PB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
/** Block types a resync may land on: IDB, PB, SPB, NRB, ISB, EPB, DSB. */
const PCAPNG_RESYNC_TYPES = new Set([1, 2, 3, 4, 5, 6, 10]);

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSecond: number;
  /** Seconds added to every timestamp. */
  tsOffset: number;
}

export class PcapngReader implements FormatReader {
  readonly unit = 'pcapng block';
  resyncFrom: number | undefined = undefined;
  /** Byte order of the current section. */
  private le = true;
  private sections = 0;
  /** The current section's interfaces. */
  private interfaces: Interface[] = [];

  constructor(private readonly r: ReaderState) {}

  step(b: Uint8Array, p: number, e: number): number {
    return this.resyncFrom === undefined ? this.block(b, p, e) : this.resync(b, p, e);
  }

  headerMissing(): string | undefined {
    return this.resyncFrom === undefined && this.sections === 0 ? 'incomplete pcapng section header' : undefined;
  }

  private block(b: Uint8Array, p: number, e: number): number {
    if (e - p < 8) return this.r.needs(8);
    const at = this.r.offset;
    const type = u32(b, p, this.le);
    if (type === PCAPNG_SHB || (this.sections === 0 && u32be(b, p) === PCAPNG_SHB)) return this.sectionHeader(b, p, e);
    // Reserved, never written: reading is out of step (skipping by its "length" would lose the rest).
    if (type === 0) return this.lostSync(`pcapng block at byte ${at} has the reserved type 0`, at);
    const length = u32(b, p + 4, this.le);
    const parsed = type === PCAPNG_IDB || type === PCAPNG_EPB || type === PCAPNG_SPB || type === PCAPNG_PB;
    if (type === PCAPNG_IDB && (length < 12 || length % 4 !== 0 || length > MAX_PARSED_BLOCK) && e - p < DAMAGED_IDB_READ && !this.r.eof) {
      return this.r.needs(DAMAGED_IDB_READ);
    }
    if (length < 12 || length % 4 !== 0) {
      return this.lostBlock(b, p, Math.min(e - p, DAMAGED_IDB_READ), `pcapng block at byte ${at} has an invalid length ${length}`, at);
    }
    if (!parsed && length > MAX_PARSED_BLOCK) return this.largeBlock(b, p, e, type, length, at);
    // Packet and interface blocks are small: a huge length means reading went out of step.
    if (length > MAX_PARSED_BLOCK) {
      return this.lostBlock(b, p, Math.min(e - p, DAMAGED_IDB_READ), `pcapng block type ${type} at byte ${at} has an impossible length ${length}`, at);
    }
    if (e - p < length) return this.r.needs(length);
    if (u32(b, p + length - 4, this.le) !== length) {
      return this.lostBlock(b, p, length, `pcapng block at byte ${at}: trailing length does not match ${length}`, at);
    }
    switch (type) {
      case PCAPNG_IDB:
        this.interfaceBlock(b, p, length, at);
        break;
      case PCAPNG_EPB:
        this.packetBlock(b, p, length, at, u32(b, p + 8, this.le), 28);
        break;
      case PCAPNG_PB:
        this.packetBlock(b, p, length, at, u16(b, p + 8, this.le), 28);
        break;
      case PCAPNG_SPB:
        this.simplePacketBlock(b, p, length, at);
        break;
      default:
        // Another type, read whole for its trailing length only: a damaged length is caught here.
        break;
    }
    return length;
  }

  /**
   * A block of a type not parsed, larger than what is buffered: skipped by streaming, unless its
   * length is absurd or the blocks after its header chain on inside it (its length is damaged:
   * skipping it would lose them, up to the rest of the capture when it runs past the end).
   */
  private largeBlock(b: Uint8Array, p: number, e: number, type: number, length: number, at: number): number {
    if (length > ABSURD_BLOCK) return this.lostSync(`pcapng block type ${type} at byte ${at} has an absurd length ${length}`, at);
    const window = Math.min(length, SKIP_LOOKAHEAD);
    if (e - p < window && !this.r.eof) return this.r.needs(window);
    if (this.chainWithin(b, p + 8, Math.min(e, p + window))) {
      return this.lostSync(`pcapng block type ${type} at byte ${at} claims length ${length} but blocks follow inside it`, at);
    }
    return length;
  }

  /**
   * Whether b[from, e) holds, at a 4-byte step, two complete blocks in a row, or at the end of
   * input one that ends it (the odds of either inside a real block's body are negligible).
   */
  private chainWithin(b: Uint8Array, from: number, e: number): boolean {
    const interfaces = this.interfaces.length;
    for (let q = from; q + 12 <= e; q += 4) {
      const first = this.completeBlock(b, q, e, interfaces);
      if (first === 0) continue;
      if (this.r.eof && q + first === e) return true;
      if (q + first + 12 <= e && this.completeBlock(b, q + first, e, interfaces) > 0) return true;
    }
    return false;
  }

  private blockWithin(b: Uint8Array, from: number, e: number): boolean {
    for (let q = from; q + 12 <= e; q += 4) if (this.completeBlock(b, q, e, this.interfaces.length) > 0) return true;
    return false;
  }

  /** Length of the complete packet or interface block at b[r, e) whose two lengths agree, else 0. */
  private completeBlock(b: Uint8Array, r: number, e: number, interfaces: number): number {
    const type = u32(b, r, this.le);
    if (!PCAPNG_RESYNC_TYPES.has(type)) return 0;
    const length = u32(b, r + 4, this.le);
    if (length < 12 || length % 4 !== 0 || length > MAX_PARSED_BLOCK || length > e - r) return 0;
    if (u32(b, r + length - 4, this.le) !== length) return 0;
    if (type === PCAPNG_EPB && u32(b, r + 8, this.le) >= interfaces) return 0;
    return length;
  }

  private sectionHeader(b: Uint8Array, p: number, e: number): number {
    const at = this.r.offset;
    if (e - p < 12) return this.r.needs(12);
    const bom = u32be(b, p + 8);
    let le: boolean;
    if (bom === 0x1a2b3c4d) le = false;
    else if (bom === 0x4d3c2b1a) le = true;
    else {
      return this.lostSync(`pcapng section header at byte ${at} has a bad byte-order magic`, at);
    }
    if (e - p < 28) return this.r.needs(28);
    const major = u16(b, p + 12, le);
    const minor = u16(b, p + 14, le);
    if (major !== 1) {
      this.stopWith(`unsupported pcapng version ${major}.${minor}`, at);
      return 0;
    }
    const length = u32(b, p + 4, le);
    const sane = length >= 28 && length % 4 === 0 && length <= MAX_PARSED_BLOCK;
    if (sane && e - p < length && !this.r.eof) return this.r.needs(length);
    this.le = le;
    this.sections++;
    this.interfaces = [];
    // Byte-order magic and version say this is a section header; skipping by a damaged length
    // would take every block after it along (one flipped bit lost whole captures). Running past
    // the end of input, it is damaged only if blocks follow inside it; else the capture is cut short.
    const complete = e - p >= length;
    if (!sane || (complete && u32(b, p + length - 4, le) !== length) || (!complete && this.blockWithin(b, p + SHB_FIXED, e))) {
      this.r.warn(`pcapng section header at byte ${at} has a damaged length ${length}; looking for the next block`, at);
      this.resyncFrom = at;
      return SHB_FIXED;
    }
    return length;
  }

  /**
   * A block whose lengths are damaged: look for the next good block. An interface block among them
   * is still read from its first `span` bytes, or every packet naming its interface would be lost.
   */
  private lostBlock(b: Uint8Array, p: number, span: number, message: string, at: number): number {
    const used = this.lostSync(message, at);
    if (this.resyncFrom !== undefined && u32(b, p, this.le) === PCAPNG_IDB) this.damagedInterface(b, p, span, at);
    return used;
  }

  private damagedInterface(b: Uint8Array, p: number, span: number, at: number): void {
    if (span < 20) return;
    this.r.warn(`pcapng interface block at byte ${at} read despite its damaged length (interface ${this.interfaces.length})`, at);
    this.interfaceBlock(b, p, span & ~3, at);
  }

  /** A broken block in the first section header is fatal; later, look for the next good block. */
  private lostSync(message: string, at: number): number {
    if (this.sections === 0) {
      this.r.fail(message, at);
      return 0;
    }
    this.r.warn(`${message}; looking for the next block`, at);
    this.resyncFrom = at;
    return 4;
  }

  /** Fatal when nothing was read yet, else a warning; either way reading stops. */
  private stopWith(message: string, at: number): void {
    if (this.r.hadPackets || this.sections > 0) {
      this.r.warn(message, at);
      this.r.done = true;
    } else {
      this.r.fail(message, at);
    }
  }

  /** Scans in 4-byte steps for a block whose both length fields agree (or a section header). */
  private resync(b: Uint8Array, p: number, e: number): number {
    if (e - p < 12) return this.r.needs(12);
    // Positions whose type is no block's are skipped here, not one step each.
    let q = p;
    while (q + 12 <= e && u32(b, q, this.le) !== PCAPNG_SHB && !PCAPNG_RESYNC_TYPES.has(u32(b, q, this.le))) q += 4;
    if (q > p) return q - p;
    const type = u32(b, p, this.le);
    if (type === PCAPNG_SHB) {
      const bom = u32be(b, p + 8);
      if (bom !== 0x1a2b3c4d && bom !== 0x4d3c2b1a) return 4;
      return this.resynced(b, p, e);
    }
    if (!PCAPNG_RESYNC_TYPES.has(type)) return 4;
    const length = u32(b, p + 4, this.le);
    if (length < 12 || length % 4 !== 0 || length > MAX_PARSED_BLOCK) return 4;
    if (e - p < length) return this.r.eof ? 4 : this.r.needs(length);
    if (u32(b, p + length - 4, this.le) !== length) return 4;
    if (type === PCAPNG_EPB && u32(b, p + 8, this.le) >= this.interfaces.length) return 4;
    return this.resynced(b, p, e);
  }

  private resynced(b: Uint8Array, p: number, e: number): number {
    this.r.warn(`resynchronized at byte ${this.r.offset} after skipping ${this.r.offset - this.resyncFrom!} bytes`, this.r.offset);
    this.resyncFrom = undefined;
    return this.block(b, p, e);
  }

  /**
   * The same rescue as for a pcap record, for a pcapng packet or interface block: a damaged length
   * made it run past the end of input if a chain of complete blocks inside it ends exactly there.
   */
  rescueTail(b: Uint8Array, p: number, e: number): number {
    if (this.resyncFrom !== undefined || e - p < 12) return -1;
    const idb = u32(b, p, this.le) === PCAPNG_IDB;
    const interfaces = this.interfaces.length + (idb ? 1 : 0);
    const failed = new Uint8Array(e - p);
    for (let q = p + 4; q + 12 <= e; q += 4) {
      let r = q;
      for (let n = 0; r + 12 <= e && failed[r - p] === 0 && (n = this.completeBlock(b, r, e, interfaces)) > 0; ) r += n;
      if (r !== e) {
        for (let m = q; m < r; m += this.completeBlock(b, m, e, interfaces)) failed[m - p] = 1;
        continue;
      }
      const at = this.r.offset;
      const skipped = q - p;
      this.r.warn(`pcapng block at byte ${at} runs past the end of the capture; resynchronized at byte ${at + skipped} after skipping ${skipped} bytes`, at);
      if (idb) this.damagedInterface(b, p, Math.min(e - p, DAMAGED_IDB_READ), at);
      return q;
    }
    return -1;
  }

  private interfaceBlock(b: Uint8Array, p: number, length: number, at: number): void {
    if (length < 20) {
      this.r.warn(`pcapng interface block at byte ${at} is too short`, at);
      this.addInterface(0xffff, 0, undefined);
      return;
    }
    const linkType = u16(b, p + 8, this.le);
    const snaplen = u32(b, p + 12, this.le);
    let unitsPerSecond = 1e6;
    let tsOffset = 0;
    let o = p + 16;
    const end = p + length - 4;
    while (o + 4 <= end) {
      const code = u16(b, o, this.le);
      const len = u16(b, o + 2, this.le);
      const value = o + 4;
      if (code === 0 || value + len > end) break;
      if (code === 9 && len >= 1) {
        const r = b[value]!;
        unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      } else if (code === 14 && len >= 8) {
        const hi = this.le ? u32(b, value + 4, true) | 0 : u32(b, value, false) | 0;
        const lo = this.le ? u32(b, value, true) : u32(b, value + 4, false);
        tsOffset = hi * 4294967296 + lo;
      }
      o = value + ((len + 3) & ~3);
    }
    this.addInterface(linkType, snaplen, { unitsPerSecond, tsOffset });
  }

  private addInterface(linkType: number, snaplen: number, ts: { unitsPerSecond: number; tsOffset: number } | undefined): void {
    if (this.interfaces.length >= MAX_INTERFACES) return;
    this.interfaces.push({ linkType, snaplen, unitsPerSecond: ts?.unitsPerSecond ?? 1e6, tsOffset: ts?.tsOffset ?? 0 });
  }

  private packetBlock(b: Uint8Array, p: number, length: number, at: number, ifId: number, dataAt: number): void {
    if (length < dataAt + 4) return this.r.warn(`pcapng packet block at byte ${at} is too short`, at);
    const iface = this.interfaces[ifId];
    if (iface === undefined) return this.r.warn(`pcapng packet block at byte ${at} names undefined interface ${ifId}`, at);
    const caplen = u32(b, p + 20, this.le);
    if (caplen > MAX_CAPLEN || dataAt + caplen > length - 4) {
      return this.r.warn(`pcapng packet block at byte ${at} has an impossible captured length ${caplen}`, at);
    }
    const high = u32(b, p + 12, this.le);
    const low = u32(b, p + 16, this.le);
    this.r.rawTime(true, high, low, iface.unitsPerSecond, iface.tsOffset);
    const ts = (high * 4294967296 + low) / iface.unitsPerSecond + iface.tsOffset;
    this.r.emit(ts, iface.linkType, b.subarray(p + dataAt, p + dataAt + caplen), u32(b, p + 24, this.le), dataAt);
  }

  private simplePacketBlock(b: Uint8Array, p: number, length: number, at: number): void {
    if (length < 16) return this.r.warn(`pcapng simple packet block at byte ${at} is too short`, at);
    const iface = this.interfaces[0];
    if (iface === undefined) return this.r.warn(`pcapng simple packet block at byte ${at} before any interface block`, at);
    const origLen = u32(b, p + 8, this.le);
    let caplen = Math.min(origLen, length - 16, MAX_CAPLEN);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    // A simple packet block has no timestamp: it takes the previous packet's.
    this.r.emit(this.r.lastTs, iface.linkType, b.subarray(p + 12, p + 12 + caplen), origLen, 12);
  }
}
