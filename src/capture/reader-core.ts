// What the capture reader's parts share: the reading state every format's parser reads and moves
// (stream offset, end of input, warnings, the packet count and the last timestamp as stored), how a
// packet is handed out, and the byte readers. capture-reader.ts buffers and drives; pcap-reader.ts
// and pcapng-reader.ts parse their format's units; capture-format.ts tells the formats apart.
import type { CaptureHandler, ExactTime } from './types.js';

/** Largest packet accepted (tcpdump's and Wireshark's maximum snaplen). */
export const MAX_CAPLEN = 262144;
/** Warnings reported before the rest are only counted. */
export const WARNING_LIMIT = 50;
/** Two consecutive resync candidates must be this close in time (seconds). */
export const RESYNC_MAX_TS_JUMP = 86400;

/** One format's parser, driven by the CaptureReader over whatever bytes are at hand. */
export interface FormatReader {
  /**
   * Parses one unit at b[p, e). Returns the bytes it takes (possibly more than available: the
   * rest is skipped), or 0 after setting `need` (ReaderState.needs) to the bytes it needs from p.
   */
  step(b: Uint8Array, p: number, e: number): number;
  /** Scanning for the next valid unit after damage: where the scan started, else undefined. */
  readonly resyncFrom: number | undefined;
  /** What a unit is called in messages: "packet record", "pcapng block". */
  readonly unit: string;
  /** At the end of input, what the file still lacks before its first unit ("incomplete ... header"), if anything. */
  headerMissing(): string | undefined;
  /**
   * At the end of input, b[p, e) holds a unit running past it: where a chain of valid units inside
   * it begins that ends exactly at the end (a damaged length, not a cut capture), after saying so;
   * else -1.
   */
  rescueTail(b: Uint8Array, p: number, e: number): number;
}

export class ReaderState {
  /** Stream offset of the first unconsumed byte (the unit being parsed starts there). */
  offset = 0;
  /** end() was called: nothing more will come. */
  eof = false;
  /** Reading stopped (fatal error, or a format that cannot go on). */
  done = false;
  /** After a step returned 0: the number of bytes (from the unit's start) it needs. */
  need = 4;
  warnings = 0;
  hadPackets = false;
  /** Time of the last packet handed out (a pcapng simple packet block has none of its own). */
  lastTs = 0;
  private index = 0;
  /**
   * The last packet's timestamp as stored (see exactTime): pcap seconds and fraction, or a pcapng
   * 64-bit count in two halves with its interface's units and offset.
   */
  private rawHigh = 0;
  private rawLow = 0;
  private rawUnits = 1e6;
  private rawOffset = 0;
  private rawNg = false;

  constructor(private readonly handler: CaptureHandler) {}

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

  rawTime(ng: boolean, high: number, low: number, units: number, offset: number): void {
    this.rawNg = ng;
    this.rawHigh = high;
    this.rawLow = low;
    this.rawUnits = units;
    this.rawOffset = offset;
  }

  /** `dataAt`: where the packet's bytes start in the record (the record starts at this.offset). */
  emit(ts: number, linkType: number, data: Uint8Array, origLen: number, dataAt: number): void {
    this.hadPackets = true;
    this.lastTs = ts;
    this.handler.packet({ ts, linkType, data, origLen, offset: this.offset, dataOffset: this.offset + dataAt, index: ++this.index });
  }

  needs(n: number): number {
    this.need = n;
    return 0;
  }

  fail(message: string, at: number): void {
    this.done = true;
    this.handler.fatal(message, at);
  }

  warn(message: string, at: number): void {
    if (++this.warnings <= WARNING_LIMIT) this.report(message, at);
  }

  report(message: string, at: number): void {
    this.handler.warning(message, at);
  }
}

export function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

export function u32(b: Uint8Array, i: number, le: boolean): number {
  return le
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

export function u32be(b: Uint8Array, i: number): number {
  return u32(b, i, false);
}
