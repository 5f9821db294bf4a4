// Sans-I/O streaming reader for classic pcap (both byte orders, micro/nanosecond, and the
// "modified" Kuznetzov variant) and pcapng (per-section byte order, interface table with
// if_tsresol/if_tsoffset, EPB/SPB/obsolete PB; every other block skipped by its length once its
// trailing length agrees, or, too large to buffer, unless its length is absurd or blocks follow
// inside it). A damaged length anywhere means a warning and a scan for the next valid block.
// Packets are handed out as views into the pushed chunk; only a record that straddles two
// chunks is copied, into one bounded buffer.
import type { CaptureHandler, ExactTime } from './types.js';

/** Largest packet accepted (tcpdump's and Wireshark's maximum snaplen). */
export const MAX_CAPLEN = 262144;
/**
 * Largest pcapng block that is buffered whole (packet blocks, IDB, SHB, and other blocks up to this
 * size, whose trailing length is then checked); larger blocks of other types are skipped by streaming.
 */
const MAX_PARSED_BLOCK = 1 << 20;
/** A block claiming more than this is no block: reading is out of step (no writer makes them). */
const ABSURD_BLOCK = 256 << 20;
/** Bytes of a large block of another type looked through for blocks inside it before it is skipped. */
const SKIP_LOOKAHEAD = 256 * 1024;
/** Warnings reported before the rest are only counted. */
const WARNING_LIMIT = 50;
/** Bytes buffered beyond what a resync position needs, so that the scan runs over whole runs. */
const RESYNC_READ_AHEAD = 64 * 1024;
/** Two consecutive resync candidates must be this close in time (seconds). */
const RESYNC_MAX_TS_JUMP = 86400;
const MAX_INTERFACES = 65536;

const PCAPNG_SHB = 0x0a0d0d0a;
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

const enum State {
  Magic,
  PcapRecord,
  PcapResync,
  NgBlock,
  NgResync,
  Done,
}

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second. */
  unitsPerSecond: number;
  /** Seconds added to every timestamp. */
  tsOffset: number;
}

export class CaptureReader {
  private state = State.Magic;
  /** Bytes of a unit (header, record, block) that straddled chunk boundaries: buf[bufStart, bufEnd). */
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private bufEnd = 0;
  /** After a step returned 0: the number of bytes (from the unit's start) it needs. */
  private need = 4;
  /** Bytes still to drop (a skipped pcapng block larger than what is buffered). */
  private skip = 0;
  /** Stream offset of the unit being skipped. */
  private skipFrom = 0;
  /** Stream offset of the first unconsumed byte. */
  private offset = 0;
  private received = 0;
  private index = 0;
  private warnings = 0;
  private hadPackets = false;
  private sections = 0;
  /** end() was called: nothing more will come. */
  private eof = false;
  private lastTs = 0;
  /**
   * The last packet's timestamp as stored (see exactTime): pcap seconds and fraction, or a pcapng
   * 64-bit count in two halves with its interface's units and offset.
   */
  private rawHigh = 0;
  private rawLow = 0;
  private rawUnits = 1e6;
  private rawOffset = 0;
  private rawNg = false;

  // Classic pcap.
  private le = true;
  private nano = false;
  private recordHeader = 16;
  private linkType = 0;
  private resyncFrom = 0;
  /** Seconds of the last pcap record read, -1 before the first. */
  private lastSec = -1;

  // pcapng (per section).
  private interfaces: Interface[] = [];

  constructor(private readonly handler: CaptureHandler) {}

  push(chunk: Uint8Array): void {
    this.received += chunk.length;
    let pos = 0;
    while (this.state !== State.Done) {
      if (this.skip > 0) {
        const buffered = this.bufEnd - this.bufStart;
        if (buffered > 0) {
          const n = Math.min(buffered, this.skip);
          this.bufStart += n;
          this.skip -= n;
          this.offset += n;
          continue;
        }
        const n = Math.min(chunk.length - pos, this.skip);
        pos += n;
        this.skip -= n;
        this.offset += n;
        if (this.skip > 0) return;
        continue;
      }
      if (this.bufEnd > this.bufStart) {
        const used = this.step(this.buf, this.bufStart, this.bufEnd);
        if (used > 0) {
          this.consume(used, this.bufEnd - this.bufStart);
          if (this.skip === 0) this.bufStart += used;
          if (this.bufStart === this.bufEnd) this.bufStart = this.bufEnd = 0;
          continue;
        }
        if (pos === chunk.length) return;
        // A resync moves on a byte (or block word) at a time: taking only what the next position
        // needs would pass the rest of the input through the buffer that way, at 10 MB/s.
        const ahead = this.state === State.PcapResync || this.state === State.NgResync ? RESYNC_READ_AHEAD : 0;
        const take = Math.min(this.need - (this.bufEnd - this.bufStart) + ahead, chunk.length - pos);
        this.append(chunk, pos, pos + take);
        pos += take;
        continue;
      }
      if (pos === chunk.length) return;
      const used = this.step(chunk, pos, chunk.length);
      if (used > 0) {
        this.consume(used, chunk.length - pos);
        pos = this.skip > 0 ? chunk.length : pos + used;
        continue;
      }
      if ((this.state as State) !== State.Done) this.append(chunk, pos, chunk.length);
      return;
    }
  }

  end(): void {
    if (this.state === State.Done) return;
    this.eof = true;
    this.drain();
    const pending = this.bufEnd - this.bufStart + this.skip;
    if (this.received === 0) return this.fail('empty input', 0);
    if (this.state === State.Magic) {
      if (this.received < 4 && !startsLikeCapture(this.buf.subarray(this.bufStart, this.bufEnd))) {
        return this.fail(`not a pcap or pcapng capture (only ${this.received} bytes)`, 0);
      }
      return this.fail(`capture truncated at byte ${this.received}: incomplete file header`, 0);
    }
    if (this.state === State.NgBlock && this.sections === 0) {
      return this.fail(`capture truncated at byte ${this.received}: incomplete pcapng section header`, 0);
    }
    if (this.state === State.PcapResync || this.state === State.NgResync) {
      const what = this.state === State.PcapResync ? 'packet record' : 'pcapng block';
      this.warn(`no valid ${what} found after byte ${this.resyncFrom}; ${this.received - this.resyncFrom} bytes skipped`, this.resyncFrom);
    } else if (pending > 0 && !this.rescueTail() && !this.rescueNgTail()) {
      const what = this.state === State.PcapRecord ? 'packet record' : 'pcapng block';
      const at = this.skip > 0 ? this.skipFrom : this.offset;
      this.warn(`capture truncated at byte ${this.received}: last ${what} (at byte ${at}) is incomplete`, at);
    }
    if (this.warnings > WARNING_LIMIT) {
      this.report(`${this.warnings - WARNING_LIMIT} more capture warnings not shown`, this.received);
    }
    this.state = State.Done;
  }

  /** At the end of input: a resync scan may still find its record in what is buffered. */
  private drain(): void {
    while (this.state !== State.Done && this.skip === 0 && this.bufEnd > this.bufStart) {
      const used = this.step(this.buf, this.bufStart, this.bufEnd);
      if (used === 0) return;
      this.consume(used, this.bufEnd - this.bufStart);
      if (this.skip === 0) this.bufStart += used;
    }
  }

  /**
   * A pcap record running past the end of input is usually a truncated capture, but may be a
   * damaged header: if a chain of plausible records inside it ends exactly at the end of input,
   * read those instead.
   */
  private rescueTail(): boolean {
    const h = this.recordHeader;
    if (this.state !== State.PcapRecord || this.skip > 0 || this.bufEnd - this.bufStart < h) return false;
    const b = this.buf;
    const e = this.bufEnd;
    // Chains are deterministic: a position a failed chain passed through fails again (keeps this linear).
    const failed = new Uint8Array(e - this.bufStart);
    for (let q = this.bufStart + 1; q + h <= e; q++) {
      let r = q;
      while (r + h <= e && failed[r - this.bufStart] === 0 && this.plausibleRecord(b, r)) r += h + u32(b, r + 8, this.le);
      if (r !== e) {
        for (let m = q; m < r && m < e; m += h + u32(b, m + 8, this.le)) failed[m - this.bufStart] = 1;
        continue;
      }
      const at = this.offset;
      const skipped = q - this.bufStart;
      this.warn(`packet record at byte ${at} runs past the end of the capture; resynchronized at byte ${at + skipped} after skipping ${skipped} bytes`, at);
      this.offset += skipped;
      this.bufStart = q;
      this.drain();
      return true;
    }
    return false;
  }

  /**
   * The same for a pcapng packet or interface block: a damaged length made it run past the end of
   * input if a chain of complete blocks inside it ends exactly there.
   */
  private rescueNgTail(): boolean {
    const p = this.bufStart;
    const e = this.bufEnd;
    if (this.state !== State.NgBlock || this.skip > 0 || e - p < 12) return false;
    const b = this.buf;
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
      const at = this.offset;
      const skipped = q - p;
      this.warn(`pcapng block at byte ${at} runs past the end of the capture; resynchronized at byte ${at + skipped} after skipping ${skipped} bytes`, at);
      if (idb) this.damagedInterface(b, p, Math.min(e - p, DAMAGED_IDB_READ), at);
      this.offset += skipped;
      this.bufStart = q;
      this.drain();
      return true;
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

  /** Advances past a consumed unit; a `used` beyond what is available becomes a skip. */
  private consume(used: number, available: number): void {
    if (used > available) {
      this.skip = used - available;
      this.skipFrom = this.offset;
      this.offset += available;
      this.bufStart = this.bufEnd = 0;
    } else {
      this.offset += used;
    }
  }

  private append(src: Uint8Array, from: number, to: number): void {
    const have = this.bufEnd - this.bufStart;
    const want = have + (to - from);
    if (this.bufEnd + (to - from) > this.buf.length) {
      // Compacting a nearly full buffer to append a few bytes, again and again, is quadratic: a
      // resync waiting on one 1 MiB candidate after another moved 1 MiB every 8 bytes scanned.
      // With at least half the buffer free after a move, moves cost O(1) per byte appended.
      // `want` never exceeds what one unit needs (at most MAX_PARSED_BLOCK) plus a resync's read
      // ahead, so neither does this.
      if (2 * want > this.buf.length) {
        const grown = new Uint8Array(Math.max(2 * want, 256));
        grown.set(this.buf.subarray(this.bufStart, this.bufEnd));
        this.buf = grown;
      } else {
        this.buf.copyWithin(0, this.bufStart, this.bufEnd);
      }
      this.bufStart = 0;
      this.bufEnd = have;
    }
    this.buf.set(src.subarray(from, to), this.bufEnd);
    this.bufEnd += to - from;
  }

  /**
   * Parses one unit at b[p, e). Returns the bytes it takes (possibly more than available: the
   * rest is skipped), or 0 after setting `need` to the bytes it needs from p.
   */
  private step(b: Uint8Array, p: number, e: number): number {
    switch (this.state) {
      case State.Magic:
        return this.fileHeader(b, p, e);
      case State.PcapRecord:
        return this.pcapRecord(b, p, e);
      case State.PcapResync:
        return this.pcapResync(b, p, e);
      case State.NgBlock:
        return this.ngBlock(b, p, e);
      case State.NgResync:
        return this.ngResync(b, p, e);
      default:
        return e - p;
    }
  }

  // ---- classic pcap ----

  private fileHeader(b: Uint8Array, p: number, e: number): number {
    if (e - p < 4) return this.needs(4);
    const magic = u32be(b, p);
    if (magic === PCAPNG_SHB) {
      this.state = State.NgBlock;
      return this.ngBlock(b, p, e);
    }
    let le: boolean;
    let nano = false;
    let modified = false;
    switch (magic) {
      case 0xd4c3b2a1: le = true; break;
      case 0xa1b2c3d4: le = false; break;
      case 0x4d3cb2a1: le = true; nano = true; break;
      case 0xa1b23c4d: le = false; nano = true; break;
      case 0x34cdb2a1: le = true; modified = true; break;
      case 0xa1b2cd34: le = false; modified = true; break;
      default:
        this.fail(notACapture(b, p), 0);
        return 0;
    }
    if (e - p < 24) return this.needs(24);
    const major = u16(b, p + 4, le);
    const minor = u16(b, p + 6, le);
    if (major !== 2) {
      this.fail(`unsupported pcap version ${major}.${minor}`, 0);
      return 0;
    }
    this.le = le;
    this.nano = nano;
    this.recordHeader = modified ? 24 : 16;
    this.linkType = u32(b, p + 20, le) & 0xffff;
    this.state = State.PcapRecord;
    return 24;
  }

  private pcapRecord(b: Uint8Array, p: number, e: number): number {
    const h = this.recordHeader;
    if (e - p < h) return this.needs(h);
    const caplen = u32(b, p + 8, this.le);
    const origLen = u32(b, p + 12, this.le);
    const sec = u32(b, p, this.le);
    // More captured than was on the wire, or a jump of days: most likely not a record header
    // (reading went out of step after a damaged length).
    if (caplen > MAX_CAPLEN || origLen < caplen) {
      const what = caplen > MAX_CAPLEN ? `an impossible length ${caplen}` : `captured length ${caplen} > original length ${origLen}`;
      return this.pcapLostSync(`packet record at byte ${this.offset} has ${what}`, 1);
    }
    if (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > RESYNC_MAX_TS_JUMP) {
      // A real jump in time, a damaged timestamp, or a header read out of step: the record after
      // it tells them apart.
      const next = p + h + caplen;
      if (e - next < h) {
        if (!this.eof || next > e) return this.needs(next - p + h);
      } else {
        const nextSec = this.plausibleRecord(b, next) ? u32(b, next, this.le) : -1;
        // Next close to the last record: only this timestamp is odd. Close to this one: a real jump.
        if (nextSec >= 0 && Math.abs(nextSec - sec) <= RESYNC_MAX_TS_JUMP) this.lastSec = sec;
        else if (nextSec < 0 || Math.abs(nextSec - this.lastSec) > RESYNC_MAX_TS_JUMP) {
          return this.pcapLostSync(`packet record at byte ${this.offset} is out of step (time jumps ${sec - this.lastSec} s)`, 1);
        }
      }
    } else {
      this.lastSec = sec;
    }
    if (e - p < h + caplen) return this.needs(h + caplen);
    const frac = u32(b, p + 4, this.le);
    this.rawTime(false, sec, frac, this.nano ? 1e9 : 1e6, 0);
    this.emit(sec + frac / (this.nano ? 1e9 : 1e6), this.linkType, b.subarray(p + h, p + h + caplen), origLen, h);
    return h + caplen;
  }

  private pcapLostSync(message: string, skip: number): number {
    this.warn(`${message}; looking for the next record`, this.offset);
    this.state = State.PcapResync;
    this.resyncFrom = this.offset;
    return skip;
  }

  /** Scans byte by byte for a record header followed by another plausible one (or the end). */
  private pcapResync(b: Uint8Array, p: number, e: number): number {
    const h = this.recordHeader;
    if (e - p < h) return this.needs(h);
    // Almost every position fails at once: skip those here rather than one step per byte (the
    // step loop made a scan through junk run at 11 MB/s).
    let q = p;
    while (q + h <= e && !this.plausibleRecord(b, q)) q++;
    if (q > p) return q - p;
    const next = p + h + u32(b, p + 8, this.le);
    if (e - next < h) {
      // At the end of input the last record has no successor: it must end exactly there.
      if (!this.eof) return this.needs(next - p + h);
      if (next !== e) return 1;
    } else if (!this.plausibleRecord(b, next) || Math.abs(u32(b, next, this.le) - u32(b, p, this.le)) > RESYNC_MAX_TS_JUMP) {
      // Neighbours, not the last packet read: garbage read before the loss may have set that.
      return 1;
    }
    this.warn(`resynchronized at byte ${this.offset} after skipping ${this.offset - this.resyncFrom} bytes`, this.offset);
    this.state = State.PcapRecord;
    this.lastSec = u32(b, p, this.le);
    return this.pcapRecord(b, p, e);
  }

  private plausibleRecord(b: Uint8Array, p: number): boolean {
    const frac = u32(b, p + 4, this.le);
    const caplen = u32(b, p + 8, this.le);
    const len = u32(b, p + 12, this.le);
    return frac < (this.nano ? 1e9 : 1e6) && caplen <= MAX_CAPLEN && len >= caplen && len > 0 && len <= 0x1000000;
  }

  // ---- pcapng ----

  private ngBlock(b: Uint8Array, p: number, e: number): number {
    if (e - p < 8) return this.needs(8);
    const at = this.offset;
    const type = u32(b, p, this.le);
    if (type === PCAPNG_SHB || (this.sections === 0 && u32be(b, p) === PCAPNG_SHB)) return this.sectionHeader(b, p, e);
    // Reserved, never written: reading is out of step (skipping by its "length" would lose the rest).
    if (type === 0) return this.lostSync(`pcapng block at byte ${at} has the reserved type 0`, at);
    const length = u32(b, p + 4, this.le);
    const parsed = type === PCAPNG_IDB || type === PCAPNG_EPB || type === PCAPNG_SPB || type === PCAPNG_PB;
    if (type === PCAPNG_IDB && (length < 12 || length % 4 !== 0 || length > MAX_PARSED_BLOCK) && e - p < DAMAGED_IDB_READ && !this.eof) {
      return this.needs(DAMAGED_IDB_READ);
    }
    if (length < 12 || length % 4 !== 0) {
      return this.lostBlock(b, p, Math.min(e - p, DAMAGED_IDB_READ), `pcapng block at byte ${at} has an invalid length ${length}`, at);
    }
    if (!parsed && length > MAX_PARSED_BLOCK) return this.largeBlock(b, p, e, type, length, at);
    // Packet and interface blocks are small: a huge length means reading went out of step.
    if (length > MAX_PARSED_BLOCK) {
      return this.lostBlock(b, p, Math.min(e - p, DAMAGED_IDB_READ), `pcapng block type ${type} at byte ${at} has an impossible length ${length}`, at);
    }
    if (e - p < length) return this.needs(length);
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
    if (e - p < window && !this.eof) return this.needs(window);
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
      if (this.eof && q + first === e) return true;
      if (q + first + 12 <= e && this.completeBlock(b, q + first, e, interfaces) > 0) return true;
    }
    return false;
  }

  private sectionHeader(b: Uint8Array, p: number, e: number): number {
    const at = this.offset;
    if (e - p < 12) return this.needs(12);
    const bom = u32be(b, p + 8);
    let le: boolean;
    if (bom === 0x1a2b3c4d) le = false;
    else if (bom === 0x4d3c2b1a) le = true;
    else {
      return this.lostSync(`pcapng section header at byte ${at} has a bad byte-order magic`, at);
    }
    if (e - p < 28) return this.needs(28);
    const major = u16(b, p + 12, le);
    const minor = u16(b, p + 14, le);
    if (major !== 1) {
      this.stopWith(`unsupported pcapng version ${major}.${minor}`, at);
      return 0;
    }
    const length = u32(b, p + 4, le);
    const sane = length >= 28 && length % 4 === 0 && length <= MAX_PARSED_BLOCK;
    if (sane && e - p < length && !this.eof) return this.needs(length);
    this.le = le;
    this.sections++;
    this.interfaces = [];
    // Byte-order magic and version say this is a section header; skipping by a damaged length
    // would take every block after it along (one flipped bit lost whole captures). Running past
    // the end of input, it is damaged only if blocks follow inside it; else the capture is cut short.
    const complete = e - p >= length;
    if (!sane || (complete && u32(b, p + length - 4, le) !== length) || (!complete && this.blockWithin(b, p + SHB_FIXED, e))) {
      this.warn(`pcapng section header at byte ${at} has a damaged length ${length}; looking for the next block`, at);
      this.state = State.NgResync;
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
    if (this.state === State.NgResync && u32(b, p, this.le) === PCAPNG_IDB) this.damagedInterface(b, p, span, at);
    return used;
  }

  private damagedInterface(b: Uint8Array, p: number, span: number, at: number): void {
    if (span < 20) return;
    this.warn(`pcapng interface block at byte ${at} read despite its damaged length (interface ${this.interfaces.length})`, at);
    this.interfaceBlock(b, p, span & ~3, at);
  }

  /** A broken block in the first section header is fatal; later, look for the next good block. */
  private lostSync(message: string, at: number): number {
    if (this.sections === 0) {
      this.fail(message, at);
      return 0;
    }
    this.warn(`${message}; looking for the next block`, at);
    this.state = State.NgResync;
    this.resyncFrom = at;
    return 4;
  }

  /** Scans in 4-byte steps for a block whose both length fields agree (or a section header). */
  private ngResync(b: Uint8Array, p: number, e: number): number {
    if (e - p < 12) return this.needs(12);
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
    if (e - p < length) return this.eof ? 4 : this.needs(length);
    if (u32(b, p + length - 4, this.le) !== length) return 4;
    if (type === PCAPNG_EPB && u32(b, p + 8, this.le) >= this.interfaces.length) return 4;
    return this.resynced(b, p, e);
  }

  private resynced(b: Uint8Array, p: number, e: number): number {
    this.warn(`resynchronized at byte ${this.offset} after skipping ${this.offset - this.resyncFrom} bytes`, this.offset);
    this.state = State.NgBlock;
    return this.ngBlock(b, p, e);
  }

  private interfaceBlock(b: Uint8Array, p: number, length: number, at: number): void {
    if (length < 20) {
      this.warn(`pcapng interface block at byte ${at} is too short`, at);
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
    if (length < dataAt + 4) return this.warn(`pcapng packet block at byte ${at} is too short`, at);
    const iface = this.interfaces[ifId];
    if (iface === undefined) return this.warn(`pcapng packet block at byte ${at} names undefined interface ${ifId}`, at);
    const caplen = u32(b, p + 20, this.le);
    if (caplen > MAX_CAPLEN || dataAt + caplen > length - 4) {
      return this.warn(`pcapng packet block at byte ${at} has an impossible captured length ${caplen}`, at);
    }
    const high = u32(b, p + 12, this.le);
    const low = u32(b, p + 16, this.le);
    this.rawTime(true, high, low, iface.unitsPerSecond, iface.tsOffset);
    const ts = (high * 4294967296 + low) / iface.unitsPerSecond + iface.tsOffset;
    this.emit(ts, iface.linkType, b.subarray(p + dataAt, p + dataAt + caplen), u32(b, p + 24, this.le), dataAt);
  }

  private simplePacketBlock(b: Uint8Array, p: number, length: number, at: number): void {
    if (length < 16) return this.warn(`pcapng simple packet block at byte ${at} is too short`, at);
    const iface = this.interfaces[0];
    if (iface === undefined) return this.warn(`pcapng simple packet block at byte ${at} before any interface block`, at);
    const origLen = u32(b, p + 8, this.le);
    let caplen = Math.min(origLen, length - 16, MAX_CAPLEN);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    // A simple packet block has no timestamp: it takes the previous packet's.
    this.emit(this.lastTs, iface.linkType, b.subarray(p + 12, p + 12 + caplen), origLen, 12);
  }

  // ---- shared ----

  /**
   * The timestamp of the packet being handed out, exactly as the file stores it (the float `ts`
   * loses nanoseconds): for writing it again. `nano`: the file's unit is finer than a microsecond.
   */
  exactTime(): ExactTime {
    const nano = this.rawUnits > 1e6;
    if (!this.rawNg) {
      const nsec = this.rawUnits === 1e9 ? this.rawLow : this.rawLow * 1000;
      return { sec: this.rawHigh + Math.floor(nsec / 1e9), nsec: nsec % 1e9, nano };
    }
    // 64-bit counts of nanoseconds overflow a double's integers: BigInt, only here.
    const units = BigInt(Math.round(this.rawUnits));
    const count = (BigInt(this.rawHigh) << 32n) | BigInt(this.rawLow);
    const nsec = Number(((count % units) * 1_000_000_000n) / units);
    return { sec: Number(count / units) + this.rawOffset, nsec, nano };
  }

  private rawTime(ng: boolean, high: number, low: number, units: number, offset: number): void {
    this.rawNg = ng;
    this.rawHigh = high;
    this.rawLow = low;
    this.rawUnits = units;
    this.rawOffset = offset;
  }

  /** `dataAt`: where the packet's bytes start in the record (the record starts at this.offset). */
  private emit(ts: number, linkType: number, data: Uint8Array, origLen: number, dataAt: number): void {
    this.hadPackets = true;
    this.lastTs = ts;
    this.handler.packet({ ts, linkType, data, origLen, offset: this.offset, dataOffset: this.offset + dataAt, index: ++this.index });
  }

  private needs(n: number): number {
    this.need = n;
    return 0;
  }

  /** Fatal when nothing was read yet, else a warning; either way reading stops. */
  private stopWith(message: string, at: number): void {
    if (this.hadPackets || this.sections > 0) {
      this.warn(message, at);
      this.state = State.Done;
    } else {
      this.fail(message, at);
    }
  }

  private fail(message: string, at: number): void {
    this.state = State.Done;
    this.handler.fatal(message, at);
  }

  private warn(message: string, at: number): void {
    if (++this.warnings <= WARNING_LIMIT) this.report(message, at);
  }

  private report(message: string, at: number): void {
    this.handler.warning(message, at);
  }
}

const MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1, PCAPNG_SHB].map((m) =>
  Uint8Array.of(m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff),
);

/** The first bytes of a capture cut shorter than its magic number. */
function startsLikeCapture(head: Uint8Array): boolean {
  return MAGICS.some((m) => head.every((b, i) => m[i] === b));
}

function notACapture(b: Uint8Array, p: number): string {
  if (b[p] === 0x1f && b[p + 1] === 0x8b) return 'gzip-compressed data reached the capture reader (decompress it first)';
  // "d8:announce", "d4:info", "d13:creation date": a bencoded dictionary, most likely a .torrent.
  if (/^d\d{1,2}:/.test(String.fromCharCode(...b.subarray(p, p + 4)))) {
    return 'a bencoded dictionary (a .torrent file?), not a pcap or pcapng capture: give a .torrent with --torrent FILE, beside the capture';
  }
  const hex = Array.from(b.subarray(p, p + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `not a pcap or pcapng capture (starts with ${hex})`;
}

function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number, le: boolean): number {
  return le
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function u32be(b: Uint8Array, i: number): number {
  return u32(b, i, false);
}
