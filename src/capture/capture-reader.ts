// Sans-I/O streaming reader for classic pcap and pcapng: bytes in any chunking, packets out to a
// CaptureHandler. This file buffers and drives; the formats are parsed in pcap-reader.ts and
// pcapng-reader.ts (a damaged length anywhere means a warning and a scan for the next valid unit),
// told apart in capture-format.ts, with the state they share in reader-core.ts. Packets are handed
// out as views into the pushed chunk; only a record that straddles two chunks is copied, into one
// bounded buffer.
import type { CaptureHandler, ExactTime } from './types.js';
import { notACapture, PCAPNG_SHB, startsLikeCapture } from './capture-format.js';
import { pcapHeader } from './pcap-reader.js';
import { PcapngReader } from './pcapng-reader.js';
import { ReaderState, u32be, WARNING_LIMIT, type FormatReader } from './reader-core.js';

export { MAX_CAPLEN } from './reader-core.js';

/** Bytes buffered beyond what a resync position needs, so that the scan runs over whole runs. */
const RESYNC_READ_AHEAD = 64 * 1024;

export class CaptureReader {
  private readonly r: ReaderState;
  /** The file's format, once its first bytes said which. */
  private format: FormatReader | undefined;
  /** Bytes of a unit (header, record, block) that straddled chunk boundaries: buf[bufStart, bufEnd). */
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private bufEnd = 0;
  /** Bytes still to drop (a skipped pcapng block larger than what is buffered). */
  private skip = 0;
  /** Stream offset of the unit being skipped. */
  private skipFrom = 0;
  private received = 0;

  constructor(handler: CaptureHandler) {
    this.r = new ReaderState(handler);
  }

  push(chunk: Uint8Array): void {
    this.received += chunk.length;
    let pos = 0;
    while (!this.r.done) {
      if (this.skip > 0) {
        const buffered = this.bufEnd - this.bufStart;
        if (buffered > 0) {
          const n = Math.min(buffered, this.skip);
          this.bufStart += n;
          this.skip -= n;
          this.r.offset += n;
          continue;
        }
        const n = Math.min(chunk.length - pos, this.skip);
        pos += n;
        this.skip -= n;
        this.r.offset += n;
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
        const ahead = this.format?.resyncFrom !== undefined ? RESYNC_READ_AHEAD : 0;
        const take = Math.min(this.r.need - (this.bufEnd - this.bufStart) + ahead, chunk.length - pos);
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
      if (!this.r.done) this.append(chunk, pos, chunk.length);
      return;
    }
  }

  end(): void {
    if (this.r.done) return;
    this.r.eof = true;
    this.drain();
    const pending = this.bufEnd - this.bufStart + this.skip;
    if (this.received === 0) return this.r.fail('empty input', 0);
    const format = this.format;
    if (format === undefined) {
      if (this.received < 4 && !startsLikeCapture(this.buf.subarray(this.bufStart, this.bufEnd))) {
        return this.r.fail(`not a pcap or pcapng capture (only ${this.received} bytes)`, 0);
      }
      return this.r.fail(`capture truncated at byte ${this.received}: incomplete file header`, 0);
    }
    const missing = format.headerMissing();
    if (missing !== undefined) return this.r.fail(`capture truncated at byte ${this.received}: ${missing}`, 0);
    if (format.resyncFrom !== undefined) {
      const from = format.resyncFrom;
      this.r.warn(`no valid ${format.unit} found after byte ${from}; ${this.received - from} bytes skipped`, from);
    } else if (pending > 0 && !this.rescueTail(format)) {
      const at = this.skip > 0 ? this.skipFrom : this.r.offset;
      this.r.warn(`capture truncated at byte ${this.received}: last ${format.unit} (at byte ${at}) is incomplete`, at);
    }
    if (this.r.warnings > WARNING_LIMIT) {
      this.r.report(`${this.r.warnings - WARNING_LIMIT} more capture warnings not shown`, this.received);
    }
    this.r.done = true;
  }

  /** See ReaderState.exactTime. */
  exactTime(): ExactTime {
    return this.r.exactTime();
  }

  /** At the end of input: a resync scan may still find its record in what is buffered. */
  private drain(): void {
    while (!this.r.done && this.skip === 0 && this.bufEnd > this.bufStart) {
      const used = this.step(this.buf, this.bufStart, this.bufEnd);
      if (used === 0) return;
      this.consume(used, this.bufEnd - this.bufStart);
      if (this.skip === 0) this.bufStart += used;
    }
  }

  /** A unit running past the end of input may have a damaged length: the format looks for units inside it. */
  private rescueTail(format: FormatReader): boolean {
    if (this.skip > 0) return false;
    const q = format.rescueTail(this.buf, this.bufStart, this.bufEnd);
    if (q < 0) return false;
    this.r.offset += q - this.bufStart;
    this.bufStart = q;
    this.drain();
    return true;
  }

  /** Advances past a consumed unit; a `used` beyond what is available becomes a skip. */
  private consume(used: number, available: number): void {
    if (used > available) {
      this.skip = used - available;
      this.skipFrom = this.r.offset;
      this.r.offset += available;
      this.bufStart = this.bufEnd = 0;
    } else {
      this.r.offset += used;
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

  /** One unit at b[p, e) (see FormatReader.step); before the format is known, the file's first bytes. */
  private step(b: Uint8Array, p: number, e: number): number {
    if (this.r.done) return e - p;
    return this.format !== undefined ? this.format.step(b, p, e) : this.fileHeader(b, p, e);
  }

  private fileHeader(b: Uint8Array, p: number, e: number): number {
    if (e - p < 4) return this.r.needs(4);
    const magic = u32be(b, p);
    if (magic === PCAPNG_SHB) {
      this.format = new PcapngReader(this.r);
      return this.format.step(b, p, e);
    }
    const pcap = pcapHeader(this.r, b, p, e, magic);
    if (pcap === undefined) {
      this.r.fail(notACapture(b, p), 0);
      return 0;
    }
    if (pcap === 0) return 0;
    this.format = pcap;
    return 24;
  }
}
