// One direction of a BitTorrent connection as the stream decoder sees it: where it is in the stream
// (detecting, handshake, messages, searching for a boundary), the unit (handshake or message) in
// progress and the bytes held of it, the resync window, and the extension mapping it advertised.
// Plain state with the operations that touch only it; BtConnection (connection.ts) drives it.
import { MAX_EXTENT_PAIRS, type DecodeContext } from '../model/record.js';
import { ExtensionMapping } from './extensions.js';
import { checkChain } from './resync.js';
import { MAX_KEPT_BYTES, messageName } from './wire.js';
import { defineFlags, defineHeldFields } from '../util/packed-fields.js';

export type Phase = 'detect' | 'handshake' | 'messages' | 'resync' | 'opaque';

/** Bytes held while looking for a message boundary; older bytes are dropped as skipped. */
export const RESYNC_WINDOW = 512 * 1024;
/** First allocation of that window. */
const MIN_WINDOW = 1024;
/** A flow not yet known to be BitTorrent is given up after this many bytes without a boundary. */
export const UNCONFIRMED_SCAN_LIMIT = 1024 * 1024;
/** Plausible messages in a row that mark a boundary: after a gap in a known stream, and cold. */
export const CHAIN_AFTER_GAP = 3;
export const CHAIN_COLD = 4;

export const EMPTY = new Uint8Array(0);
/** A unit buffer larger than this is given up when its unit is done (most directions never need one). */
const SMALL_UNIT_BUFFER = 256 * 1024;
/**
 * The largest unit buffer given up so far, lent to the next unit that needs more than
 * SMALL_UNIT_BUFFER (its size known from the length prefix) and returned at its end: at most one,
 * of at most MAX_KEPT_BYTES. Growing a fresh buffer for every large message (1 MB extended
 * handshakes) cost twice its size in fresh pages, and page faults were a third of the process's time.
 */
let spareLarge: Uint8Array | undefined;

/** Shared by every direction not locating its bytes (never written to: replaced when used). */
const NO_EXTENTS: number[] = [];


/** A direction's extension mapping and the context its extended messages go to the sink with. */
class DirectionExt {
  readonly mapping = new ExtensionMapping();
  context: DecodeContext | undefined = undefined;
}

/** A direction's search for a message boundary (see StreamFramer). */
class WindowState {
  win: Uint8Array = EMPTY;
  winLen = 0;
  scan = 0;
  skipped = 0;
  chain = CHAIN_AFTER_GAP;
}

export class Direction {
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
  /** resynced, ended, located (see their accessors): bits of one number. */
  private flags = 0;
  /** The resync window, made while a boundary is searched for (most directions never need one). */
  private ws: WindowState | undefined = undefined;
  /** Made on first use: most directions of a large capture never send an extended handshake. */
  private ext: DirectionExt | undefined = undefined;
  client: string | undefined;
  /** With ctx.locate: capture offset, length pairs of the current unit's bytes (see ByteExtents). */
  extents: number[] = NO_EXTENTS;
  /**
   * The earliest capture packet (frame) that carried bytes of the current unit, 0 when unknown;
   * while the handshake is detected, the frame of the first byte held.
   */
  firstFrame = 0;

  constructor(
    readonly src: string,
    readonly dst: string,
  ) {}

  // Bits of `flags` (defineFlags below): messages from here on were found by a resync (the boundary
  // was guessed); the direction ended (FIN or RST); every byte of the current unit came straight
  // from a located chunk.
  declare resynced: boolean;
  declare ended: boolean;
  declare located: boolean;
  // The resync window, read through to `ws` (defineHeldFields below): its bytes, how many, where the
  // search goes on, bytes given up on before it, plausible messages in a row that mark a boundary.
  declare win: Uint8Array;
  declare winLen: number;
  declare scan: number;
  declare skipped: number;
  declare chain: number;

  /** Extended handshakes seen from this side. */
  get extHandshakes(): number {
    return this.ext?.mapping.handshakes ?? 0;
  }

  /** The mapping this direction's extended handshakes advertised (the same object from first use on). */
  get mapping(): ExtensionMapping {
    return (this.ext ??= new DirectionExt()).mapping;
  }

  /** What goes with this direction's extended messages to the sink: the mappings in force (`peer`: the other direction). */
  decodeContext(peer: Direction): DecodeContext {
    const ext = (this.ext ??= new DirectionExt());
    return (ext.context ??= { mappings: { sender: ext.mapping, receiver: peer.mapping } });
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
    if (this.buf.length > SMALL_UNIT_BUFFER) {
      if (spareLarge === undefined || spareLarge.length < this.buf.length) spareLarge = this.buf;
      this.buf = EMPTY;
    }
  }

  ensureCapacity(n: number): void {
    if (this.buf.length >= n) return;
    const spare = spareLarge;
    if (this.keep > SMALL_UNIT_BUFFER && spare !== undefined && spare.length >= this.keep) {
      spareLarge = undefined;
      spare.set(this.buf.subarray(0, this.held));
      this.buf = spare;
      return;
    }
    const next = new Uint8Array(Math.max(n, Math.min(2 * this.buf.length, MAX_KEPT_BYTES), 64));
    next.set(this.buf.subarray(0, this.held));
    this.buf = next;
  }

  /** Starts looking for a message boundary; `chain`: plausible messages in a row that mark one. */
  startResync(chain: number): void {
    this.phase = 'resync';
    this.chain = chain;
    this.winLen = 0;
    this.scan = 0;
    this.skipped = 0;
  }

  /**
   * Appends bytes to the resync window (grown only when they do not fit: growing on every chunk made
   * each scanning flow hold the whole 512 KiB window after a few small packets); returns how many fit.
   */
  appendWindow(bytes: Uint8Array, off: number): number {
    if (this.winLen === RESYNC_WINDOW) this.compactWindow();
    if (this.winLen + (bytes.length - off) > this.win.length && this.win.length < RESYNC_WINDOW) {
      const grown = new Uint8Array(Math.min(RESYNC_WINDOW, Math.max(this.winLen + bytes.length - off, 2 * this.win.length, MIN_WINDOW)));
      grown.set(this.win.subarray(0, this.winLen));
      this.win = grown;
    }
    const take = Math.min(this.win.length - this.winLen, bytes.length - off);
    this.win.set(bytes.subarray(off, off + take), this.winLen);
    this.winLen += take;
    return take;
  }

  /** Offset of the first boundary in the window, or -1; positions ruled out are not scanned again. */
  scanWindow(ended: boolean): number {
    const full = this.winLen === this.win.length && this.winLen === RESYNC_WINDOW;
    for (let i = this.scan; i + 4 <= this.winLen || (ended && i < this.winLen); i++) {
      const r = checkChain(this.win, i, this.winLen, this.chain, ended);
      if (r === 'yes') return i;
      if (r === 'more' && !full) {
        this.scan = i;
        return -1;
      }
    }
    this.scan = Math.max(this.scan, this.winLen - 3, 0);
    return -1;
  }

  private compactWindow(): void {
    const drop = this.scan > 0 ? this.scan : this.winLen;
    this.win.copyWithin(0, drop, this.winLen);
    this.winLen -= drop;
    this.skipped += drop;
    this.scan = 0;
  }

  /** Takes the window's bytes from `at` on (a boundary) and empties it; returns them and the bytes skipped. */
  takeWindow(at: number): { rest: Uint8Array; skipped: number } {
    const rest = this.win.subarray(at, this.winLen);
    const skipped = this.skipped + at;
    this.ws = undefined;
    return { rest, skipped };
  }

  /** Drops every buffer (the connection is not decoded any more). */
  dropBuffers(): void {
    this.buf = EMPTY;
    this.held = 0;
    this.ws = undefined;
  }

  /** What is held of a unit in progress, in a few words ('' when nothing). */
  inProgress(): string {
    if (this.phase === 'resync' && this.winLen > 0) return `${this.winLen} bytes from ${this.src} searched for a message boundary`;
    if ((this.phase === 'messages' || this.phase === 'handshake') && this.seen > 0) return `${this.seen}${this.size > 0 ? ` of ${this.size}` : ''} bytes of a ${this.unitName()} from ${this.src}`;
    return '';
  }

  /** The name of the unit in progress: handshake, the message's type once known, else 'message'. */
  unitName(): string {
    return this.phase === 'handshake' ? 'handshake' : this.held >= 5 ? messageName(this.buf[4]!) : 'message';
  }
}

defineFlags(Direction.prototype, ['resynced', 'ended', 'located']);
defineHeldFields(Direction.prototype, 'ws', () => new WindowState(), { win: EMPTY, winLen: 0, scan: 0, skipped: 0, chain: CHAIN_AFTER_GAP });

/** Notes that `n` bytes of the unit in progress came from capture offset at + off (at < 0: unknown). */
export function track(d: Direction, at: number, off: number, n: number): void {
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
