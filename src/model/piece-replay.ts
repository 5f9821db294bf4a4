// The piece map's replay: each side's pieces on a connection at any record, rebuilt by feeding the
// connection's piece messages (bitfield, have, have_all, have_none, lt_donthave) to the shared
// piece-state model (analysis/piece-state.ts, the analyzer's own). So that the state at any record
// (End on 10 million records included) costs one bounded replay, never one from the start: once a
// connection has a few thousand piece messages, its current state is kept up to date as its records
// arrive (each applied once, from the record being added) and copied into a checkpoint every few
// thousand messages. A checkpoint is a copy of what is live at that moment (two bitsets a side; a
// bitfield is shared, not copied), spaced so that they cost a few bytes per piece message on any
// torrent size. A connection with fewer messages costs nothing beyond their indices.
import { PieceHoldings } from '../analysis/piece-state.js';
import { dirOfSender, type MessageRecord } from './record.js';
import { countAtMost, countBelow, partitionPoint } from '../util/sorted.js';
/** Piece messages of a connection between two checkpoints, at least (a replay of this many is well under 1 ms). */
export const CHECKPOINT_MIN_SPACING = 2048;
/** ...and at least a checkpoint's size over this: on a huge torrent, checkpoints stay under this many bytes a message. */
const CHECKPOINT_BYTES_PER_EVENT = 8;

export interface SidePieces {
  /** PieceState per piece. */
  state: Uint8Array;
  all: boolean;
}

export interface PieceMap {
  pieces: number;
  sides: [SidePieces, SidePieces];
  addr: [string, string];
}

/**
 * What the replay reads of the store: a record (it may be an object reused for the next call: it is
 * read at once and not kept) and the bytes kept of it (a bitfield's payload).
 */
export interface ReplaySource {
  message(index: number): MessageRecord;
  rawBytes(index: number): Uint8Array | undefined;
}

type Holdings = [PieceHoldings, PieceHoldings];

/** The state after the first `at` piece messages of a connection. */
interface Checkpoint {
  at: number;
  sides: Holdings;
}

interface ConnReplay {
  /** Indices of the records that change a side's pieces, ascending. */
  events: number[];
  /** Ascending by `at` (none at 0: the empty state). */
  checkpoints: Checkpoint[];
  /** The state after every event, kept once there are minSpacing events (undefined before, or after insert()). */
  live: Holdings | undefined;
  /** Side 0's address: the replay needs it to tell the sides apart. */
  addr0: string;
}

export class PieceReplay {
  private readonly conns = new Map<number, ConnReplay>();

  /** `minSpacing`: piece messages between checkpoints at least (tests take them closer). */
  constructor(
    private readonly source: ReplaySource,
    private readonly minSpacing = CHECKPOINT_MIN_SPACING,
  ) {}

  /**
   * Record `index` of `conn` changes pieces (records arrive in order): `record` is that record and
   * `raw` the bytes the store keeps of it; `addr0` is the connection's side 0.
   */
  add(conn: number, index: number, record: MessageRecord, raw: Uint8Array | undefined, addr0: string): void {
    const c = this.connReplay(conn, addr0);
    c.events.push(index);
    if (c.live === undefined) {
      if (c.events.length >= this.minSpacing) this.catchUp(c);
      return;
    }
    c.live[dirOfSender(record.src, c.addr0)].apply(record, raw);
    const last = c.checkpoints[c.checkpoints.length - 1]?.at ?? 0;
    if (c.events.length - last >= spacing(c.live, this.minSpacing)) c.checkpoints.push({ at: c.events.length, sides: copy(c.live) });
  }

  /** A record already stored now changes pieces (Decode As named it lt_donthave): later checkpoints are stale. */
  insert(conn: number, index: number, addr0: string): void {
    const c = this.connReplay(conn, addr0);
    const at = insertSorted(c.events, index);
    while (c.checkpoints.length > 0 && c.checkpoints[c.checkpoints.length - 1]!.at > at) c.checkpoints.pop();
    c.live = undefined;
  }

  /** Checkpoints a connection holds (tests and the bench). */
  checkpointCount(conn: number): number {
    return this.conns.get(conn)?.checkpoints.length ?? 0;
  }

  /** Each side's pieces on `conn` (n pieces, sides by address) after record `upTo`. */
  pieceMap(conn: number, upTo: number, n: number, addr: [string, string]): PieceMap {
    const c = this.connReplay(conn, addr[0]);
    // The live state dropped by insert() is made again, once.
    if (c.live === undefined && c.events.length >= this.minSpacing) this.catchUp(c);
    const count = countAtMost(c.events, upTo);
    let sides: Holdings;
    if (count === c.events.length && c.live !== undefined) {
      // The last record or later (End): the live state, read as it is.
      sides = c.live;
    } else {
      const from = checkpointBefore(c.checkpoints, count);
      sides = from === undefined ? empty() : copy(from.sides);
      this.replay(c, from?.at ?? 0, count, sides);
    }
    return { pieces: n, sides: [{ state: sides[0].states(n), all: false }, { state: sides[1].states(n), all: false }], addr };
  }

  private connReplay(conn: number, addr0: string): ConnReplay {
    let c = this.conns.get(conn);
    if (c === undefined) this.conns.set(conn, (c = { events: [], checkpoints: [], live: undefined, addr0 }));
    return c;
  }

  /** Replays from the last checkpoint to the last event, taking the checkpoints due on the way: the live state. */
  private catchUp(c: ConnReplay): void {
    const last = c.checkpoints[c.checkpoints.length - 1];
    const sides = last === undefined ? empty() : copy(last.sides);
    let at = last?.at ?? 0;
    for (;;) {
      const next = (c.checkpoints[c.checkpoints.length - 1]?.at ?? 0) + spacing(sides, this.minSpacing);
      const to = Math.min(next, c.events.length);
      this.replay(c, at, to, sides);
      at = to;
      if (at < next) break;
      c.checkpoints.push({ at, sides: copy(sides) });
    }
    c.live = sides;
  }

  private replay(c: ConnReplay, from: number, to: number, sides: Holdings): void {
    for (let e = from; e < to; e++) {
      const index = c.events[e]!;
      const r = this.source.message(index);
      sides[dirOfSender(r.src, c.addr0)].apply(r, this.source.rawBytes(index));
    }
  }
}

/** Events after a checkpoint before the next: more on a huge torrent, whose checkpoints are larger. */
function spacing(sides: Holdings, min: number): number {
  const bytes = sides[0].bitsetBytes + sides[1].bitsetBytes;
  return Math.max(min, Math.ceil(bytes / CHECKPOINT_BYTES_PER_EVENT));
}

/** The last checkpoint at or before `count` events, if any. */
function checkpointBefore(cps: Checkpoint[], count: number): Checkpoint | undefined {
  return cps[partitionPoint(cps.length, (i) => cps[i]!.at <= count) - 1];
}

function empty(): Holdings {
  return [new PieceHoldings(), new PieceHoldings()];
}

function copy(sides: Holdings): Holdings {
  return [sides[0].clone(), sides[1].clone()];
}

/** Inserts `value` into the ascending `list` (indices: each at most once); returns its position. */
export function insertSorted(list: number[], value: number): number {
  const at = countBelow(list, value);
  if (list[at] !== value) list.splice(at, 0, value);
  return at;
}
