// Classic pcap (both byte orders, micro/nanosecond, and the "modified" Kuznetzov variant): the file
// header, then records; a damaged record header means a warning and a byte-by-byte scan for the next
// plausible record.
import { MAX_CAPLEN, RESYNC_MAX_TS_JUMP, u16, u32, type FormatReader, type ReaderState } from './reader-core.js';

/**
 * The file header at b[p, e) whose magic is `magic`: its reader (the header takes 24 bytes), 0 when
 * more bytes are needed (or the version is fatal), undefined when `magic` is no pcap magic.
 */
export function pcapHeader(r: ReaderState, b: Uint8Array, p: number, e: number, magic: number): PcapReader | 0 | undefined {
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
      return undefined;
  }
  if (e - p < 24) {
    r.needs(24);
    return 0;
  }
  const major = u16(b, p + 4, le);
  const minor = u16(b, p + 6, le);
  if (major !== 2) {
    r.fail(`unsupported pcap version ${major}.${minor}`, 0);
    return 0;
  }
  return new PcapReader(r, le, nano, modified ? 24 : 16, u32(b, p + 20, le) & 0xffff);
}

export class PcapReader implements FormatReader {
  readonly unit = 'packet record';
  resyncFrom: number | undefined = undefined;
  /** Seconds of the last pcap record read, -1 before the first. */
  private lastSec = -1;

  constructor(
    private readonly r: ReaderState,
    private readonly le: boolean,
    private readonly nano: boolean,
    private readonly recordHeader: number,
    private readonly linkType: number,
  ) {}

  step(b: Uint8Array, p: number, e: number): number {
    return this.resyncFrom === undefined ? this.record(b, p, e) : this.resync(b, p, e);
  }

  headerMissing(): undefined {
    return undefined;
  }

  private record(b: Uint8Array, p: number, e: number): number {
    const h = this.recordHeader;
    if (e - p < h) return this.r.needs(h);
    const caplen = u32(b, p + 8, this.le);
    const origLen = u32(b, p + 12, this.le);
    const sec = u32(b, p, this.le);
    // More captured than was on the wire, or a jump of days: most likely not a record header
    // (reading went out of step after a damaged length).
    if (caplen > MAX_CAPLEN || origLen < caplen) {
      const what = caplen > MAX_CAPLEN ? `an impossible length ${caplen}` : `captured length ${caplen} > original length ${origLen}`;
      return this.lostSync(`packet record at byte ${this.r.offset} has ${what}`, 1);
    }
    if (this.lastSec >= 0 && Math.abs(sec - this.lastSec) > RESYNC_MAX_TS_JUMP) {
      // A real jump in time, a damaged timestamp, or a header read out of step: the record after
      // it tells them apart.
      const next = p + h + caplen;
      if (e - next < h) {
        if (!this.r.eof || next > e) return this.r.needs(next - p + h);
      } else {
        const nextSec = this.plausible(b, next) ? u32(b, next, this.le) : -1;
        // Next close to the last record: only this timestamp is odd. Close to this one: a real jump.
        if (nextSec >= 0 && Math.abs(nextSec - sec) <= RESYNC_MAX_TS_JUMP) this.lastSec = sec;
        else if (nextSec < 0 || Math.abs(nextSec - this.lastSec) > RESYNC_MAX_TS_JUMP) {
          return this.lostSync(`packet record at byte ${this.r.offset} is out of step (time jumps ${sec - this.lastSec} s)`, 1);
        }
      }
    } else {
      this.lastSec = sec;
    }
    if (e - p < h + caplen) return this.r.needs(h + caplen);
    const frac = u32(b, p + 4, this.le);
    this.r.rawTime(false, sec, frac, this.nano ? 1e9 : 1e6, 0);
    this.r.emit(sec + frac / (this.nano ? 1e9 : 1e6), this.linkType, b.subarray(p + h, p + h + caplen), origLen, h);
    return h + caplen;
  }

  private lostSync(message: string, skip: number): number {
    this.r.warn(`${message}; looking for the next record`, this.r.offset);
    this.resyncFrom = this.r.offset;
    return skip;
  }

  /** Scans byte by byte for a record header followed by another plausible one (or the end). */
  private resync(b: Uint8Array, p: number, e: number): number {
    const h = this.recordHeader;
    if (e - p < h) return this.r.needs(h);
    // Almost every position fails at once: skip those here rather than one step per byte (the
    // step loop made a scan through junk run at 11 MB/s).
    let q = p;
    while (q + h <= e && !this.plausible(b, q)) q++;
    if (q > p) return q - p;
    const next = p + h + u32(b, p + 8, this.le);
    if (e - next < h) {
      // At the end of input the last record has no successor: it must end exactly there.
      if (!this.r.eof) return this.r.needs(next - p + h);
      if (next !== e) return 1;
    } else if (!this.plausible(b, next) || Math.abs(u32(b, next, this.le) - u32(b, p, this.le)) > RESYNC_MAX_TS_JUMP) {
      // Neighbours, not the last packet read: garbage read before the loss may have set that.
      return 1;
    }
    this.r.warn(`resynchronized at byte ${this.r.offset} after skipping ${this.r.offset - this.resyncFrom!} bytes`, this.r.offset);
    this.resyncFrom = undefined;
    this.lastSec = u32(b, p, this.le);
    return this.record(b, p, e);
  }

  private plausible(b: Uint8Array, p: number): boolean {
    const frac = u32(b, p + 4, this.le);
    const caplen = u32(b, p + 8, this.le);
    const len = u32(b, p + 12, this.le);
    return frac < (this.nano ? 1e9 : 1e6) && caplen <= MAX_CAPLEN && len >= caplen && len > 0 && len <= 0x1000000;
  }

  /**
   * A pcap record running past the end of input is usually a truncated capture, but may be a
   * damaged header: if a chain of plausible records inside it ends exactly at the end of input,
   * read those instead.
   */
  rescueTail(b: Uint8Array, p: number, e: number): number {
    const h = this.recordHeader;
    if (this.resyncFrom !== undefined || e - p < h) return -1;
    // Chains are deterministic: a position a failed chain passed through fails again (keeps this linear).
    const failed = new Uint8Array(e - p);
    for (let q = p + 1; q + h <= e; q++) {
      let r = q;
      while (r + h <= e && failed[r - p] === 0 && this.plausible(b, r)) r += h + u32(b, r + 8, this.le);
      if (r !== e) {
        for (let m = q; m < r && m < e; m += h + u32(b, m + 8, this.le)) failed[m - p] = 1;
        continue;
      }
      const at = this.r.offset;
      const skipped = q - p;
      this.r.warn(`packet record at byte ${at} runs past the end of the capture; resynchronized at byte ${at + skipped} after skipping ${skipped} bytes`, at);
      return q;
    }
    return -1;
  }
}
