// One BitTorrent connection: both directions' byte streams in, records out. Sans-I/O: the
// reassemblers (capture) and the relay (proxy) call it. It decides whether the flow is BitTorrent at
// all, decodes the handshake and every length-prefixed message as a streaming state machine (no
// copy when a message lies inside one chunk, bounded copies when it spans chunks), resolves extended
// ids through the receiver's mapping, and finds its footing again after gaps.
import type { AnyRecord, ByteExtents, Dir, EventName, EventRecord, MessageRecord } from '../model/record.js';
import { offsetBy, type FlowInfo, type StreamHandler } from '../transport/types.js';
import type { BtContext } from './types.js';
import { decodeHandshake } from './handshake.js';
import { decodeMessage, type MessageFields } from './messages.js';
import { MseWatch, type MseHooks } from './mse.js';
import { HANDSHAKE_LENGTH, HANDSHAKE_PREFIX, messageName, startsWithHandshake } from './wire.js';
import { CHAIN_AFTER_GAP, CHAIN_COLD, Direction, EMPTY } from './direction.js';
import { StreamFramer } from './stream-framer.js';
import { decodeExtended, resolveExtId, type ExtendedEnv } from './extended-decode.js';

export class BtConnection extends StreamFramer implements StreamHandler {
  /** A message beyond the handshakes was decoded, or the key exchange showed encryption (see IdlePolicy). */
  established = false;
  /** Set when the flow opened like an MSE/PE key exchange (see mse.ts). */
  private mse: MseWatch | undefined;
  // The two directions as fields (a tuple cost 64 bytes a connection): initiator to responder, and back.
  private readonly d0: Direction;
  private readonly d1: Direction;
  private readonly transport: FlowInfo['transport'];

  constructor(
    private readonly info: FlowInfo,
    private readonly ctx: BtContext,
  ) {
    super();
    this.transport = info.transport;
    this.d0 = new Direction(info.initiator, info.responder);
    this.d1 = new Direction(info.responder, info.initiator);
  }

  data(dir: Dir, bytes: Uint8Array, ts: number, at = -1, frame = 0): void {
    if (this.ignored || bytes.length === 0) return;
    this.chunkFrame = frame;
    if (this.mse?.owns(dir)) return this.mse.data(dir, bytes, ts);
    const d = this.dir(dir);
    if (d.phase === 'detect') this.detect(d, bytes, ts, at);
    else this.feed(d, bytes, ts, this.ctx.locate === true ? at : -1);
  }

  gap(dir: Dir, bytes: number, ts: number): void {
    if (this.ignored) return;
    if (this.mse?.owns(dir)) this.mse.gap(dir, ts);
    if (this.ignored) return;
    const d = this.dir(dir);
    if (this.confirmed && d.phase !== 'opaque') this.event(d, 'gap', ts, bytes > 0 ? { bytes } : { message: 'data missing (size unknown)' });
    switch (d.phase) {
      case 'detect':
        d.held = 0;
        d.startResync(CHAIN_COLD);
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
    const d = this.dir(dir);
    if (d.ended) return;
    this.flushDirection(d, ts);
    d.ended = true;
    if (this.confirmed) this.event(d, how === 'fin' ? 'close' : 'reset', ts);
  }

  finish(ts: number): void {
    if (this.ignored) return;
    for (const d of [this.d0, this.d1]) if (!d.ended) this.flushDirection(d, ts);
  }

  /**
   * The transport forgot the flow after a silence: a `released` event saying why and what was
   * dropped (nothing is decoded from what was held), then nothing more. A connection not yet known
   * to be BitTorrent goes silently.
   */
  release(ts: number, why: string, held: string): void {
    if (!this.ignored && this.confirmed) {
      const dropped = [held, ...[this.d0, this.d1].map((d) => this.inProgress(d))].filter((t) => t !== '');
      const what = dropped.length > 0 ? `dropped ${dropped.join('; ')}` : 'nothing was held';
      this.event(this.d0, 'released', ts, { message: `${why}: its state is released (${what}); if it speaks again it is decoded as a connection first seen mid-stream` });
    }
    this.ignore();
  }

  /** What a direction holds of a unit in progress, in a few words ('' when nothing). */
  private inProgress(d: Direction): string {
    if (this.mse?.owns(d === this.d0 ? 0 : 1)) return `${d.src}'s unfinished MSE key exchange`;
    return d.inProgress();
  }

  /**
   * Not BitTorrent: nothing more is decoded. The buffers go now, not when the transport forgets the
   * flow (which may be never before the end of the capture).
   */
  protected ignore(): void {
    this.ignored = true;
    this.mse = undefined;
    for (const d of [this.d0, this.d1]) d.dropBuffers();
  }

  // ---- detection ----------------------------------------------------------------------------

  /** Holds a direction's first bytes until they show whether it opens with a handshake. */
  private detect(d: Direction, bytes: Uint8Array, ts: number, at: number): void {
    if (d.held === 0 && bytes.length >= HANDSHAKE_PREFIX.length && startsWithHandshake(bytes)) return this.handshakeInChunk(d, bytes, ts, at);
    d.ensureCapacity(HANDSHAKE_PREFIX.length);
    if (d.held === 0) d.firstFrame = this.chunkFrame;
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
    this.feedFrom(d.firstFrame, () => this.feed(d, head, ts));
    if (take < bytes.length) this.feed(d, bytes.subarray(take), ts, this.ctx.locate === true ? offsetBy(at, take) : -1);
  }

  /**
   * The usual start: the whole protocol prefix in the direction's first chunk, matched where it lies
   * (holding it first cost three buffers a direction, a third of the time of a flood of connections
   * that only shake hands). Fed as the held prefix would have been: the handshake is not located,
   * what follows it in the chunk is.
   */
  private handshakeInChunk(d: Direction, bytes: Uint8Array, ts: number, at: number): void {
    this.confirm(ts);
    d.phase = 'handshake';
    const n = Math.min(HANDSHAKE_LENGTH, bytes.length);
    this.feed(d, n === bytes.length ? bytes : bytes.subarray(0, n), ts);
    if (n < bytes.length) this.feed(d, bytes.subarray(n), ts, this.ctx.locate === true ? offsetBy(at, n) : -1);
  }

  private noHandshake(d: Direction, bytes: Uint8Array, take: number, ts: number): void {
    const head = d.buf.slice(0, d.held);
    d.held = 0;
    if (this.info.startSeen && !this.ctx.portHint && !this.confirmed) {
      // A connection whose start was captured and that does not open with a handshake is something
      // else, or encrypted (MSE/PE: watched until its key exchange shows); anything else is left alone.
      if (d !== this.d0 || this.d1.phase !== 'detect' || this.d1.held > 0) {
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
    d.startResync(this.confirmed || this.ctx.portHint ? CHAIN_AFTER_GAP : CHAIN_COLD);
    this.feed(d, head, ts);
    if (take < bytes.length) this.feed(d, bytes.subarray(take), ts);
  }

  private mseHooks(): MseHooks {
    return {
      encrypted: (ts) => {
        this.confirm(ts);
        this.established = true;
        this.event(this.d0, 'encrypted', ts, { message: 'key exchange seen; nothing is decoded from ciphertext' });
      },
      plain: (dir, bytes, ts, skipped, start) => {
        const d = this.dir(dir);
        if (start === 'unknown') {
          d.startResync(CHAIN_AFTER_GAP);
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

  protected confirm(ts: number): void {
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

  // ---- units -------------------------------------------------------------------------------

  /** One complete handshake or message (`kept` may stop early for very large messages). */
  protected unit(d: Direction, kept: Uint8Array, size: number, ts: number, first: number, where?: ByteExtents): void {
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
    if (fields.msg === 'extended' && fields.malformed === undefined) decodeExtended(d, this.peerOf(d), kept, size, fields, this.extendedEnv());
    this.message(d, ts, fields, kept, first, where);
  }

  /** A message some of whose bytes were never captured: reported when its type is known. */
  protected partialUnit(d: Direction, kept: Uint8Array, size: number, missing: number, ts: number, first: number): void {
    if (d.phase === 'handshake') d.phase = 'messages';
    if (kept.length < 5) return;
    const id = kept[4]!;
    const complete = id === 7 && kept.length >= 13;
    const fields = complete ? decodeMessage(kept, size) : { msg: messageName(id), size, ...(messageName(id) === 'unknown' ? { id } : {}) };
    fields.malformed = `${missing} of its ${size} bytes were not captured`;
    if (fields.msg === 'extended' && kept.length >= 6) {
      const receiver = this.peerOf(d);
      fields.extId = kept[5]!;
      fields.ext = fields.extId === 0 ? 'handshake' : (resolveExtId(receiver, fields.extId, this.ctx)?.name ?? null);
    }
    this.message(d, ts, fields, kept, first);
  }

  private extendedEnv(): ExtendedEnv {
    return { ctx: this.ctx, conn: this.conn, encrypted: () => this.mse?.isEncrypted === true };
  }

  /** End of a direction: a last boundary search, and a word about a message cut short. */
  private flushDirection(d: Direction, ts: number): void {
    if (this.mse?.owns(d === this.d0 ? 0 : 1)) this.mse.flush(d === this.d0 ? 0 : 1, ts);
    if (d.phase === 'resync' && d.winLen > 0) {
      const found = d.scanWindow(true);
      if (found >= 0) this.resynced(d, found, ts);
    }
    if (!this.confirmed) return;
    if ((d.phase === 'messages' || d.phase === 'handshake') && d.seen > 0) {
      const size = d.size > 0 ? ` (${d.seen} of ${d.size} bytes)` : ` (${d.seen} bytes of its length prefix)`;
      this.event(d, 'malformed', ts, { message: `stream ends inside a ${d.unitName()}${size}` });
      d.resetUnit();
    }
  }

  // ---- records ------------------------------------------------------------------------------

  private dir(dir: Dir): Direction {
    return dir === 0 ? this.d0 : this.d1;
  }

  private peerOf(d: Direction): Direction {
    return d === this.d0 ? this.d1 : this.d0;
  }

  /**
   * The capture packet being read: the record's frame. Without a frame clock (a library user feeding
   * the connection), the packet that carried the last bytes fed.
   */
  private currentFrame(): number {
    return this.ctx.frame !== undefined ? this.ctx.frame() : this.chunkFrame;
  }


  private message(d: Direction, ts: number, fields: MessageFields, raw: Uint8Array, first: number, where?: ByteExtents): void {
    if (fields.msg !== 'handshake') this.established = true;
    const frame = this.currentFrame();
    const r: MessageRecord =
      frame > 0 ? { ts, frame, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, ...fields } : { ts, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, ...fields };
    if (first > 0 && first < frame) r.firstFrame = first;
    if (d.resynced) r.resync = true;
    // An extended message goes with the mappings its id was resolved with (one object per direction).
    if (fields.msg === 'extended') this.ctx.sink(r, raw, where, d.decodeContext(this.peerOf(d)));
    else this.ctx.sink(r, raw, where);
  }

  protected event(d: Direction, event: EventName, ts: number, extra: Partial<EventRecord> = {}): void {
    const frame = this.currentFrame();
    const r: AnyRecord =
      frame > 0 ? { ts, frame, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, event, ...extra } : { ts, conn: this.conn, transport: this.transport, src: d.src, dst: d.dst, event, ...extra };
    this.ctx.sink(r);
  }
}

