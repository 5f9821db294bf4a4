// One BitTorrent connection: both directions' byte streams in, records out. Sans-I/O: the
// reassemblers (capture) and the relay (proxy) call it. It decides whether the flow is BitTorrent at
// all, decodes the handshake and every length-prefixed message as a streaming state machine (no
// copy when a message lies inside one chunk, bounded copies when it spans chunks), resolves extended
// ids through the receiver's mapping, and finds its footing again after gaps.
import { MAX_EXTENT_PAIRS, type AnyRecord, type ByteExtents, type DecodeContext, type Dir, type EventName, type EventRecord, type MessageRecord } from '../model/record.js';
import { offsetBy, type FlowInfo, type StreamHandler } from '../transport/types.js';
import type { BtContext } from './types.js';
import { decodeHandshake } from './handshake.js';
import { decodeMessage, type MessageFields } from './messages.js';
import { decodeExtendedHandshake, decodeExtensionPayload, ExtensionMapping } from './extensions.js';
import { checkChain } from './resync.js';
import { MseWatch, probableExtension, type MseHooks } from './mse.js';
import { HANDSHAKE_LENGTH, HANDSHAKE_PREFIX, MAX_KEPT_BYTES, MAX_MESSAGE_LENGTH, messageName, readU32 } from './wire.js';

type Phase = 'detect' | 'handshake' | 'messages' | 'resync' | 'opaque';

/** Bytes held while looking for a message boundary; older bytes are dropped as skipped. */
const RESYNC_WINDOW = 512 * 1024;
/** First allocation of that window. */
const MIN_WINDOW = 1024;
/** A flow not yet known to be BitTorrent is given up after this many bytes without a boundary. */
const UNCONFIRMED_SCAN_LIMIT = 1024 * 1024;
/** Plausible messages in a row that mark a boundary: after a gap in a known stream, and cold. */
const CHAIN_AFTER_GAP = 3;
const CHAIN_COLD = 4;

const EMPTY = new Uint8Array(0);
/** Shared by every direction not locating its bytes (never written to: replaced when used). */
const NO_EXTENTS: number[] = [];

class Direction {
  phase: Phase = 'detect';
  /** Bytes of the current unit (handshake or message) that were stored. */
  buf: Uint8Array = EMPTY;
  held = 0;
  /** Bytes of the current unit consumed, stored or skipped. */
  seen = 0;
  /** Size of the current unit, length prefix included; 0 while the prefix is incomplete. */
  size = 0;
  /** Bytes of the current unit to store. */
  keep = 0;
  /** Bytes of the current unit the capture never saw. */
  missing = 0;
  /** Time the current unit started (a record's time is when it completed; this is for partial ones). */
  resynced = false;
  ended = false;
  // resynchronisation window
  win: Uint8Array = EMPTY;
  winLen = 0;
  scan = 0;
  skipped = 0;
  chain = CHAIN_AFTER_GAP;
  readonly mapping = new ExtensionMapping();
  /** What goes with this direction's extended messages to the sink: the mappings in force. */
  context: DecodeContext | undefined;
  client: string | undefined;
  /** With ctx.locate: capture offset, length pairs of the current unit's bytes (see ByteExtents). */
  extents: number[] = NO_EXTENTS;
  /** Every byte of the current unit came straight from a located chunk. */
  located = false;
  /** The earliest capture packet (frame) that carried bytes of the current unit, 0 when unknown. */
  firstFrame = 0;
  /** The frame of the first byte held while detecting the handshake. */
  detectFrame = 0;

  constructor(
    readonly src: string,
    readonly dst: string,
  ) {}

  /** Extended handshakes seen from this side. */
  get extHandshakes(): number {
    return this.mapping?.handshakes ?? 0;
  }

  /** The extents list, made on first use. */
  extentsList(): number[] {
    if (this.extents === NO_EXTENTS) this.extents = [];
    return this.extents;
  }

  resetUnit(): void {
    this.held = 0;
    this.seen = 0;
    this.size = 0;
    this.keep = 0;
    this.missing = 0;
    if (this.buf.length > 256 * 1024) this.buf = EMPTY;
  }

  ensureCapacity(n: number): void {
    if (this.buf.length >= n) return;
    const next = new Uint8Array(Math.max(n, Math.min(2 * this.buf.length, MAX_KEPT_BYTES), 64));
    next.set(this.buf.subarray(0, this.held));
    this.buf = next;
  }
}

export class BtConnection implements StreamHandler {
  /** Set once the flow is known not to be BitTorrent: the transport stops feeding it. */
  ignored = false;
  /** A message beyond the handshakes was decoded, or the key exchange showed encryption (see IdlePolicy). */
  established = false;
  private conn = 0;
  /** Set when the flow opened like an MSE/PE key exchange (see mse.ts). */
  private mse: MseWatch | undefined;
  private readonly dirs: readonly [Direction, Direction];
  private readonly transport: FlowInfo['transport'];
  /** The capture packet that carried the bytes being fed (see StreamHandler.data), 0 when unknown. */
  private chunkFrame = 0;

  constructor(
    private readonly info: FlowInfo,
    private readonly ctx: BtContext,
  ) {
    this.transport = info.transport;
    this.dirs = [new Direction(info.initiator, info.responder), new Direction(info.responder, info.initiator)];
  }

  get confirmed(): boolean {
    return this.conn !== 0;
  }

  data(dir: Dir, bytes: Uint8Array, ts: number, at = -1, frame = 0): void {
    if (this.ignored || bytes.length === 0) return;
    this.chunkFrame = frame;
    if (this.mse?.owns(dir)) return this.mse.data(dir, bytes, ts);
    const d = this.dirs[dir];
    if (d.phase === 'detect') this.detect(d, bytes, ts, at);
    else this.feed(d, bytes, ts, this.ctx.locate === true ? at : -1);
  }

  gap(dir: Dir, bytes: number, ts: number): void {
    if (this.ignored) return;
    if (this.mse?.owns(dir)) this.mse.gap(dir, ts);
    if (this.ignored) return;
    const d = this.dirs[dir];
    if (this.confirmed && d.phase !== 'opaque') this.event(d, 'gap', ts, bytes > 0 ? { bytes } : { message: 'data missing (size unknown)' });
    switch (d.phase) {
      case 'detect':
        d.held = 0;
        this.startResync(d, CHAIN_COLD);
        return;
      case 'resync':
        d.skipped += d.winLen + bytes;
        d.winLen = 0;
        d.scan = 0;
        return;
      case 'opaque':
        return;
      default:
        this.gapInStream(d, bytes, ts);
    }
  }

  end(dir: Dir, how: 'fin' | 'rst', ts: number): void {
    if (this.ignored) return;
    const d = this.dirs[dir];
    if (d.ended) return;
    this.flushDirection(d, ts);
    d.ended = true;
    if (this.confirmed) this.event(d, how === 'fin' ? 'close' : 'reset', ts);
  }

  finish(ts: number): void {
    if (this.ignored) return;
    for (const d of this.dirs) if (!d.ended) this.flushDirection(d, ts);
  }

  /**
   * The transport forgot the flow after a silence: a `released` event saying why and what was
   * dropped (nothing is decoded from what was held), then nothing more. A connection not yet known
   * to be BitTorrent goes silently.
   */
  release(ts: number, why: string, held: string): void {
    if (!this.ignored && this.confirmed) {
      const dropped = [held, ...this.dirs.map((d) => this.inProgress(d))].filter((t) => t !== '');
      const what = dropped.length > 0 ? `dropped ${dropped.join('; ')}` : 'nothing was held';
      this.event(this.dirs[0], 'released', ts, { message: `${why}: its state is released (${what}); if it speaks again it is decoded as a connection first seen mid-stream` });
    }
    this.ignore();
  }

  /** What a direction holds of a unit in progress, in a few words ('' when nothing). */
  private inProgress(d: Direction): string {
    if (this.mse?.owns(d === this.dirs[0] ? 0 : 1)) return `${d.src}'s unfinished MSE key exchange`;
    if (d.phase === 'resync' && d.winLen > 0) return `${d.winLen} bytes from ${d.src} searched for a message boundary`;
    if ((d.phase === 'messages' || d.phase === 'handshake') && d.seen > 0) {
      const what = d.phase === 'handshake' ? 'handshake' : d.held >= 5 ? messageName(d.buf[4]!) : 'message';
      return `${d.seen}${d.size > 0 ? ` of ${d.size}` : ''} bytes of a ${what} from ${d.src}`;
    }
    return '';
  }

  /**
   * Not BitTorrent: nothing more is decoded. The buffers go now, not when the transport forgets the
   * flow (which may be never before the end of the capture).
   */
  private ignore(): void {
    this.ignored = true;
    this.mse = undefined;
    for (const d of this.dirs) {
      d.buf = EMPTY;
      d.held = 0;
      d.win = EMPTY;
      d.winLen = 0;
      d.scan = 0;
    }
  }

  // ---- detection ----------------------------------------------------------------------------

  /** Holds a direction's first bytes until they show whether it opens with a handshake. */
  private detect(d: Direction, bytes: Uint8Array, ts: number, at: number): void {
    d.ensureCapacity(HANDSHAKE_PREFIX.length);
    if (d.held === 0) d.detectFrame = this.chunkFrame;
    const take = Math.min(HANDSHAKE_PREFIX.length - d.held, bytes.length);
    d.buf.set(bytes.subarray(0, take), d.held);
    d.held += take;
    for (let i = 0; i < d.held; i++) {
      if (d.buf[i] !== HANDSHAKE_PREFIX[i]) return this.noHandshake(d, bytes, take, ts);
    }
    if (d.held < HANDSHAKE_PREFIX.length) return;
    this.confirm(ts);
    const head = d.buf.slice(0, d.held);
    d.held = 0;
    d.phase = 'handshake';
    this.feedFrom(d.detectFrame, () => this.feed(d, head, ts));
    if (take < bytes.length) this.feed(d, bytes.subarray(take), ts, this.ctx.locate === true ? offsetBy(at, take) : -1);
  }

  private noHandshake(d: Direction, bytes: Uint8Array, take: number, ts: number): void {
    const head = d.buf.slice(0, d.held);
    d.held = 0;
    if (this.info.startSeen && !this.ctx.portHint && !this.confirmed) {
      // A connection whose start was captured and that does not open with a handshake is something
      // else, or encrypted (MSE/PE: watched until its key exchange shows); anything else is left alone.
      if (d !== this.dirs[0] || this.dirs[1].phase !== 'detect' || this.dirs[1].held > 0) {
        this.ignore();
        return;
      }
      // A local: a rejection during the first call drops this.mse.
      const mse = (this.mse = new MseWatch(this.mseHooks()));
      mse.data(0, head, ts);
      if (take < bytes.length) mse.data(0, bytes.subarray(take), ts);
      return;
    }
    if (this.confirmed && this.info.startSeen) this.event(d, 'malformed', ts, { message: 'stream does not start with a BitTorrent handshake' });
    this.startResync(d, this.confirmed || this.ctx.portHint ? CHAIN_AFTER_GAP : CHAIN_COLD);
    this.feed(d, head, ts);
    if (take < bytes.length) this.feed(d, bytes.subarray(take), ts);
  }

  private mseHooks(): MseHooks {
    return {
      encrypted: (ts) => {
        this.confirm(ts);
        this.established = true;
        this.event(this.dirs[0], 'encrypted', ts, { message: 'key exchange seen; nothing is decoded from ciphertext' });
      },
      plain: (dir, bytes, ts, skipped, start) => {
        const d = this.dirs[dir];
        if (start === 'unknown') {
          this.startResync(d, CHAIN_AFTER_GAP);
          d.skipped = skipped;
          this.feed(d, bytes, ts);
          return;
        }
        d.resynced = true;
        this.event(d, 'resync', ts, { bytes: skipped });
        d.resetUnit();
        d.phase = start === 'handshake' ? 'handshake' : 'messages';
        this.feed(d, bytes, ts);
      },
      reject: () => this.ignore(),
    };
  }

  private confirm(ts: number): void {
    if (this.confirmed) return;
    this.conn = this.ctx.assignConn();
    // An open event is at the connection's first packet (its SYN when the start was captured).
    const atStart = this.info.startTs <= ts;
    const frame = atStart ? (this.info.startFrame ?? 0) : this.currentFrame();
    const { initiator: src, responder: dst } = this.info;
    const at = atStart ? this.info.startTs : ts;
    const open: EventRecord =
      frame > 0 ? { ts: at, frame, conn: this.conn, transport: this.transport, src, dst, event: 'open' } : { ts: at, conn: this.conn, transport: this.transport, src, dst, event: 'open' };
    if (!this.info.startSeen) open.message = 'connection start not captured';
    this.ctx.sink(open);
  }

  // ---- the message stream -------------------------------------------------------------------

  /** `at`: capture offset of bytes[0] when they are located (ctx.locate), else -1. */
  private feed(d: Direction, bytes: Uint8Array, ts: number, at = -1): void {
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
      d.buf.set(bytes.subarray(off, off + store), d.held);
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

  private completeUnit(d: Direction, ts: number): void {
    const kept = d.buf.subarray(0, d.held);
    const size = d.size;
    const missing = d.missing;
    const first = d.firstFrame;
    d.resetUnit();
    if (missing > 0) this.partialUnit(d, kept, size, missing, ts, first);
    else this.unit(d, kept, size, ts, first, d.located ? d.extents : undefined);
  }

  /** One complete handshake or message (`kept` may stop early for very large messages). */
  private unit(d: Direction, kept: Uint8Array, size: number, ts: number, first: number, where?: ByteExtents): void {
    if (d.phase === 'handshake') {
      d.phase = 'messages';
      const hs = decodeHandshake(kept);
      d.client = hs.fields.client;
      this.message(d, ts, { msg: 'handshake', size, ...hs.fields }, kept, first, where);
      // The detection buffer is not needed any more: a connection that says nothing after its
      // handshakes holds no buffer (one is made again for the first message that spans packets).
      if (d.held === 0 && d.buf.length <= 256) d.buf = EMPTY;
      return;
    }
    const fields = decodeMessage(kept, size);
    if (fields.msg === 'extended' && fields.malformed === undefined) this.extended(d, kept, size, fields);
    this.message(d, ts, fields, kept, first, where);
  }

  /** A message some of whose bytes were never captured: reported when its type is known. */
  private partialUnit(d: Direction, kept: Uint8Array, size: number, missing: number, ts: number, first: number): void {
    if (d.phase === 'handshake') d.phase = 'messages';
    if (kept.length < 5) return;
    const id = kept[4]!;
    const complete = id === 7 && kept.length >= 13;
    const fields = complete ? decodeMessage(kept, size) : { msg: messageName(id), size, ...(messageName(id) === 'unknown' ? { id } : {}) };
    fields.malformed = `${missing} of its ${size} bytes were not captured`;
    if (fields.msg === 'extended' && kept.length >= 6) {
      const receiver = this.peerOf(d);
      fields.extId = kept[5]!;
      fields.ext = fields.extId === 0 ? 'handshake' : (this.resolve(receiver, fields.extId)?.name ?? null);
    }
    this.message(d, ts, fields, kept, first);
  }

  private extended(d: Direction, kept: Uint8Array, size: number, fields: MessageFields): void {
    const extId = kept[5]!;
    const payload = kept.subarray(6);
    const whole = kept.length === size;
    if (extId === 0) {
      fields.ext = 'handshake';
      fields.extId = 0;
      if (!whole) {
        fields.malformed = `extended handshake of ${size} bytes is too large to decode`;
        return;
      }
      const hs = decodeExtendedHandshake(payload);
      Object.assign(fields, hs.fields);
      if (hs.m !== undefined) {
        d.mapping.update(hs.m);
        d.client ??= hs.fields.v;
        this.ctx.advertised?.advertise(d.src, d.mapping, this.conn, d.client);
      }
      return;
    }
    // A message from A to B carries the id B registered: resolve it in the receiver's mapping.
    const receiver = this.peerOf(d);
    const resolved = this.resolve(receiver, extId);
    const name = resolved?.name;
    fields.ext = name ?? null;
    fields.extId = extId;
    if (name === undefined) {
      fields.payloadLength = size - 6;
      if (receiver.extHandshakes === 0 && whole) this.guessExtension(receiver, extId, payload, fields);
      return;
    }
    fields.mappingFrom = resolved!.from;
    if (!whole) {
      fields.payloadLength = size - 6;
      fields.malformed = `${name} message of ${size} bytes is too large to decode`;
      return;
    }
    Object.assign(fields, decodeExtensionPayload(name, payload));
  }

  /**
   * The receiver's name for an id: from its extended handshakes in the capture, else from the
   * mapping --ext-map gives for it (Decode As).
   */
  private resolve(receiver: Direction, extId: number): { name: string; from: string } | undefined {
    if (receiver.mapping !== undefined && receiver.mapping.handshakes > 0) {
      const name = receiver.mapping.name(extId);
      return name === undefined ? undefined : { name, from: `${receiver.src} extended handshake #${receiver.mapping.handshakes}` };
    }
    const given = this.ctx.given?.find(receiver.src);
    const name = given?.mapping.name(extId);
    return name === undefined ? undefined : { name, from: given!.from };
  }

  /**
   * An id whose mapping the capture never showed (its handshake was encrypted, or before the
   * capture began): the extension it probably is, from the receiver's client when that client has
   * fixed ids, or from what the receiver's endpoint advertised on another connection. The payload is
   * decoded as that extension's; a payload that does not fit it makes no guess.
   */
  private guessExtension(receiver: Direction, extId: number, payload: Uint8Array, fields: MessageFields): void {
    let name: string | undefined;
    let why: string | undefined;
    const fixed = this.mse?.isEncrypted ? probableExtension(receiver.client, extId) : undefined;
    if (fixed !== undefined) {
      name = fixed;
      why = "libtorrent's id";
    } else {
      const seen = this.ctx.advertised?.lookup(receiver.src, extId, this.conn, receiver.client);
      if (seen === undefined) return;
      name = seen.name;
      why =
        seen.match === 'endpoint'
          ? `${receiver.src} gave id ${extId} to ${seen.name} in its extended handshake on conn ${seen.conn}`
          : `its host ${seen.endpoint} gave id ${extId} to ${seen.name} in its extended handshake on conn ${seen.conn} (same IP and client)`;
    }
    const decoded = decodeExtensionPayload(name, payload);
    if (decoded.malformed !== undefined) return;
    delete decoded.payloadLength;
    Object.assign(fields, decoded);
    fields.probably = name;
    fields.probablyWhy = why;
  }

  // ---- gaps and resynchronisation -------------------------------------------------------------

  private gapInStream(d: Direction, bytes: number, ts: number): void {
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
    this.startResync(d, CHAIN_AFTER_GAP);
    d.skipped = Math.max(0, bytes);
  }

  /** The stream is out of step at a place that claimed to be a boundary. */
  private lostStep(d: Direction, why: string, ts: number): void {
    this.event(d, 'malformed', ts, { message: why });
    this.startResync(d, CHAIN_AFTER_GAP);
  }

  private startResync(d: Direction, chain: number): void {
    d.phase = 'resync';
    d.chain = chain;
    d.winLen = 0;
    d.scan = 0;
    d.skipped = 0;
  }

  private resyncFeed(d: Direction, bytes: Uint8Array, ts: number, at: number): void {
    let off = 0;
    while (off < bytes.length) {
      if (d.winLen === RESYNC_WINDOW) this.compactWindow(d);
      // Grown only when the bytes do not fit: growing on every chunk made each scanning flow hold
      // the whole 512 KiB window after a few small packets.
      if (d.winLen + (bytes.length - off) > d.win.length && d.win.length < RESYNC_WINDOW) {
        const grown = new Uint8Array(Math.min(RESYNC_WINDOW, Math.max(d.winLen + bytes.length - off, 2 * d.win.length, MIN_WINDOW)));
        grown.set(d.win.subarray(0, d.winLen));
        d.win = grown;
      }
      const take = Math.min(d.win.length - d.winLen, bytes.length - off);
      d.win.set(bytes.subarray(off, off + take), d.winLen);
      d.winLen += take;
      off += take;
      const found = this.scanWindow(d, false);
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

  /** Offset of the first boundary in the window, or -1; positions ruled out are not scanned again. */
  private scanWindow(d: Direction, ended: boolean): number {
    const full = d.winLen === d.win.length && d.winLen === RESYNC_WINDOW;
    for (let i = d.scan; i + 4 <= d.winLen || (ended && i < d.winLen); i++) {
      const r = checkChain(d.win, i, d.winLen, d.chain, ended);
      if (r === 'yes') return i;
      if (r === 'more' && !full) {
        d.scan = i;
        return -1;
      }
    }
    d.scan = Math.max(d.scan, d.winLen - 3, 0);
    return -1;
  }

  private compactWindow(d: Direction): void {
    const drop = d.scan > 0 ? d.scan : d.winLen;
    d.win.copyWithin(0, drop, d.winLen);
    d.winLen -= drop;
    d.skipped += drop;
    d.scan = 0;
  }

  private resynced(d: Direction, at: number, ts: number): void {
    const rest = d.win.subarray(at, d.winLen);
    const skipped = d.skipped + at;
    d.win = EMPTY;
    d.winLen = 0;
    d.scan = 0;
    d.skipped = 0;
    d.phase = 'messages';
    d.resynced = true;
    d.resetUnit();
    this.confirm(ts);
    this.event(d, 'resync', ts, { bytes: skipped });
    // The window's bytes came in packets no longer known.
    this.feedFrom(0, () => this.feed(d, rest, ts));
  }

  /** End of a direction: a last boundary search, and a word about a message cut short. */
  private flushDirection(d: Direction, ts: number): void {
    if (this.mse?.owns(d === this.dirs[0] ? 0 : 1)) this.mse.flush(d === this.dirs[0] ? 0 : 1, ts);
    if (d.phase === 'resync' && d.winLen > 0) {
      const found = this.scanWindow(d, true);
      if (found >= 0) this.resynced(d, found, ts);
    }
    if (!this.confirmed) return;
    if ((d.phase === 'messages' || d.phase === 'handshake') && d.seen > 0) {
      const what = d.phase === 'handshake' ? 'handshake' : d.held >= 5 ? messageName(d.buf[4]!) : 'message';
      const size = d.size > 0 ? ` (${d.seen} of ${d.size} bytes)` : ` (${d.seen} bytes of its length prefix)`;
      this.event(d, 'malformed', ts, { message: `stream ends inside a ${what}${size}` });
      d.resetUnit();
    }
  }

  // ---- records ------------------------------------------------------------------------------

  private peerOf(d: Direction): Direction {
    return d === this.dirs[0] ? this.dirs[1] : this.dirs[0];
  }

  /**
   * The capture packet being read: the record's frame. Without a frame clock (a library user feeding
   * the connection), the packet that carried the last bytes fed.
   */
  private currentFrame(): number {
    return this.ctx.frame !== undefined ? this.ctx.frame() : this.chunkFrame;
  }

  /** Feeds bytes whose packet is not the current chunk's: `frame` (0: unknown) for firstFrame. */
  private feedFrom(frame: number, feed: () => void): void {
    const chunk = this.chunkFrame;
    this.chunkFrame = frame;
    feed();
    this.chunkFrame = chunk;
  }

  private message(d: Direction, ts: number, fields: MessageFields, raw: Uint8Array, first: number, where?: ByteExtents): void {
    if (fields.msg !== 'handshake') this.established = true;
    const frame = this.currentFrame();
    const r: MessageRecord =
      frame > 0 ? { ts, frame, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, ...fields } : { ts, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, ...fields };
    if (first > 0 && first < frame) r.firstFrame = first;
    if (d.resynced) r.resync = true;
    // An extended message goes with the mappings its id was resolved with (one object per direction).
    if (fields.msg === 'extended') this.ctx.sink(r, raw, where, (d.context ??= { mappings: { sender: d.mapping, receiver: this.peerOf(d).mapping } }));
    else this.ctx.sink(r, raw, where);
  }

  private event(d: Direction, event: EventName, ts: number, extra: Partial<EventRecord> = {}): void {
    const frame = this.currentFrame();
    const r: AnyRecord =
      frame > 0 ? { ts, frame, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, event, ...extra } : { ts, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, event, ...extra };
    this.ctx.sink(r);
  }
}

/** Notes that `n` bytes of the unit in progress came from capture offset at + off (at < 0: unknown). */
function track(d: Direction, at: number, off: number, n: number): void {
  if (!d.located || n === 0) return;
  if (at < 0) {
    d.located = false;
    return;
  }
  const e = d.extents;
  const start = at + off;
  const last = e.length - 2;
  if (last >= 0 && e[last]! + e[last + 1]! === start) e[last + 1]! += n;
  else if (e.length >= 2 * MAX_EXTENT_PAIRS) {
    d.located = false;
    e.length = 0;
  } else e.push(start, n);
}
