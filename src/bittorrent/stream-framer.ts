// The framing half of the stream decoder: a direction's bytes cut into units (the handshake, then
// length-prefixed messages), decoded in place when a unit lies inside one chunk and copied (bounded)
// when it spans chunks; gaps inside a unit; and the search for a boundary after a gap or a bad
// length prefix. What a unit means is the subclass's (BtConnection: decoding and records).
import type { ByteExtents, EventName, EventRecord } from '../model/record.js';
import { offsetBy } from '../transport/types.js';
import { CHAIN_AFTER_GAP, track, UNCONFIRMED_SCAN_LIMIT, type Direction } from './direction.js';
import { HANDSHAKE_LENGTH, MAX_KEPT_BYTES, MAX_MESSAGE_LENGTH, readU32 } from './wire.js';

export abstract class StreamFramer {
  /** Set once the flow is known not to be BitTorrent: the transport stops feeding it. */
  ignored = false;
  /** The connection's number once it is known to be BitTorrent, 0 before. */
  protected conn = 0;
  /** The capture packet that carried the bytes being fed (see StreamHandler.data), 0 when unknown. */
  protected chunkFrame = 0;

  get confirmed(): boolean {
    return this.conn !== 0;
  }

  /** One complete handshake or message (`kept` may stop early for very large messages). */
  protected abstract unit(d: Direction, kept: Uint8Array, size: number, ts: number, first: number, where?: ByteExtents): void;
  /** A unit some of whose bytes (`missing`) were never captured. */
  protected abstract partialUnit(d: Direction, kept: Uint8Array, size: number, missing: number, ts: number, first: number): void;
  protected abstract event(d: Direction, event: EventName, ts: number, extra?: Partial<EventRecord>): void;
  /** The flow is BitTorrent: it gets its number and its open event. */
  protected abstract confirm(ts: number): void;
  /** Not BitTorrent: nothing more is decoded. */
  protected abstract ignore(): void;

  /** `at`: capture offset of bytes[0] when they are located (ctx.locate), else -1. */
  protected feed(d: Direction, bytes: Uint8Array, ts: number, at = -1): void {
    const n = bytes.length;
    let off = 0;
    while (off < n && !this.ignored) {
      if (d.phase === 'resync') {
        this.resyncFeed(d, bytes.subarray(off), ts, offsetBy(at, off));
        return;
      }
      if (d.phase !== 'handshake' && d.phase !== 'messages') return;
      if (d.seen === 0) {
        // At a boundary: a unit wholly inside this chunk is decoded in place.
        let size = HANDSHAKE_LENGTH;
        if (d.phase === 'messages') {
          if (n - off < 4) {
            off += this.accumulate(d, bytes, off, ts, at);
            continue;
          }
          const len = readU32(bytes, off);
          if (len > MAX_MESSAGE_LENGTH) {
            this.lostStep(d, `length prefix ${len} is beyond any message`, ts);
            continue;
          }
          size = len + 4;
        }
        if (n - off >= size) {
          // No unit is in progress here, so its extents list is free to say where this one lies.
          d.extents.length = 0;
          if (at >= 0) d.extentsList().push(at + off, size);
          this.unit(d, bytes.subarray(off, off + size), size, ts, this.chunkFrame, at >= 0 ? d.extents : undefined);
          off += size;
          continue;
        }
      }
      off += this.accumulate(d, bytes, off, ts, at);
    }
  }

  /** Stores (up to the keep limit) or skips bytes of the unit in progress; returns bytes consumed. */
  private accumulate(d: Direction, bytes: Uint8Array, off: number, ts: number, at: number): number {
    const avail = bytes.length - off;
    if (d.seen === 0) {
      d.extents.length = 0;
      d.located = at >= 0;
      if (d.located) d.extentsList();
      d.firstFrame = this.chunkFrame;
    } else if (this.chunkFrame > 0 && (d.firstFrame === 0 || this.chunkFrame < d.firstFrame)) {
      // Bytes held out of order came in an earlier packet than the ones before them.
      d.firstFrame = this.chunkFrame;
    }
    if (d.size === 0) {
      if (d.phase === 'handshake') {
        d.size = HANDSHAKE_LENGTH;
        d.keep = HANDSHAKE_LENGTH;
        d.ensureCapacity(HANDSHAKE_LENGTH);
      } else {
        d.ensureCapacity(4);
        const take = Math.min(4 - d.held, avail);
        d.buf.set(bytes.subarray(off, off + take), d.held);
        d.held += take;
        d.seen += take;
        track(d, at, off, take);
        if (d.held < 4) return take;
        const len = readU32(d.buf, 0);
        if (len > MAX_MESSAGE_LENGTH) {
          const head = d.buf.slice(0, 4);
          d.resetUnit();
          this.lostStep(d, `length prefix ${len} is beyond any message`, ts);
          this.feed(d, head, ts);
          return take;
        }
        d.size = len + 4;
        // The buffer grows with the bytes that arrive: sized by the length prefix, every flow
        // could claim 2 MiB with four bytes.
        d.keep = Math.min(d.size, MAX_KEPT_BYTES);
        if (d.seen === d.size) this.completeUnit(d, ts);
        return take;
      }
    }
    let used = 0;
    if (d.held < d.keep && d.held === d.seen) {
      const store = Math.min(d.keep - d.held, avail);
      d.ensureCapacity(d.held + store);
      // The whole chunk without a view of it: one less allocation per packet of a bulk transfer.
      d.buf.set(off === 0 && store === bytes.length ? bytes : bytes.subarray(off, off + store), d.held);
      d.held += store;
      d.seen += store;
      used = store;
    }
    const skip = Math.min(d.size - d.seen, avail - used);
    d.seen += skip;
    used += skip;
    track(d, at, off, used);
    if (d.seen === d.size) this.completeUnit(d, ts);
    return used;
  }

  protected completeUnit(d: Direction, ts: number): void {
    const kept = d.buf.subarray(0, d.held);
    const size = d.size;
    const missing = d.missing;
    const first = d.firstFrame;
    d.resetUnit();
    if (missing > 0) this.partialUnit(d, kept, size, missing, ts, first);
    else this.unit(d, kept, size, ts, first, d.located ? d.extents : undefined);
  }

  protected gapInStream(d: Direction, bytes: number, ts: number): void {
    if (bytes > 0 && d.size > 0 && d.seen + bytes <= d.size) {
      // The hole is inside the message in progress: its end, and so the next boundary, is known.
      if (d.held < d.keep) d.keep = d.held;
      d.seen += bytes;
      d.missing += bytes;
      if (d.seen === d.size) this.completeUnit(d, ts);
      return;
    }
    if (bytes > 0 && d.size > 0 && d.seen > 0) {
      const rest = d.size - d.seen;
      d.missing += rest;
      d.seen = d.size;
      this.completeUnit(d, ts);
      bytes -= rest;
    }
    d.resetUnit();
    d.startResync(CHAIN_AFTER_GAP);
    d.skipped = Math.max(0, bytes);
  }

  /** The stream is out of step at a place that claimed to be a boundary. */
  protected lostStep(d: Direction, why: string, ts: number): void {
    this.event(d, 'malformed', ts, { message: why });
    d.startResync(CHAIN_AFTER_GAP);
  }

  private resyncFeed(d: Direction, bytes: Uint8Array, ts: number, at: number): void {
    let off = 0;
    while (off < bytes.length) {
      off += d.appendWindow(bytes, off);
      const found = d.scanWindow(false);
      if (found >= 0) {
        this.resynced(d, found, ts);
        if (off < bytes.length) this.feed(d, bytes.subarray(off), ts, offsetBy(at, off));
        return;
      }
      if (!this.confirmed && d.skipped + d.scan > UNCONFIRMED_SCAN_LIMIT) {
        this.ignore();
        return;
      }
    }
  }

  protected resynced(d: Direction, at: number, ts: number): void {
    const { rest, skipped } = d.takeWindow(at);
    d.phase = 'messages';
    d.resynced = true;
    d.resetUnit();
    this.confirm(ts);
    this.event(d, 'resync', ts, { bytes: skipped });
    // The window's bytes came in packets no longer known.
    this.feedFrom(0, () => this.feed(d, rest, ts));
  }

  /** Feeds bytes whose packet is not the current chunk's: `frame` (0: unknown) for firstFrame. */
  protected feedFrom(frame: number, feed: () => void): void {
    const chunk = this.chunkFrame;
    this.chunkFrame = frame;
    feed();
    this.chunkFrame = chunk;
  }
}
