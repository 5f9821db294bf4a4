// The piece map's replay: each side's pieces on a connection at any record, rebuilt by feeding the
// connection's piece messages (bitfield, have, have_all, have_none, lt_donthave) to the shared
// piece-state model (analysis/piece-state.ts, the analyzer's own), from checkpoints taken every
// CHECKPOINT_EVERY messages so that any moment costs a bounded replay.
import { PieceHoldings } from '../analysis/piece-state.js';
import type { MessageRecord } from './record.js';

const CHECKPOINT_EVERY = 1024;

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

/** What the replay reads of the store: a record, and the bytes kept of it (a bitfield's payload). */
export interface ReplaySource {
  message(index: number): MessageRecord;
  rawBytes(index: number): Uint8Array | undefined;
}

type Holdings = [PieceHoldings, PieceHoldings];

export class PieceReplay {
  /** Per connection: indices of the records that change a side's pieces, ascending. */
  private readonly events = new Map<number, number[]>();
  private readonly checkpoints = new Map<number, Holdings[]>();

  constructor(private readonly source: ReplaySource) {}

  /** Record `index` of `conn` changes pieces (records arrive in order). */
  add(conn: number, index: number): void {
    let list = this.events.get(conn);
    if (list === undefined) this.events.set(conn, (list = []));
    list.push(index);
  }

  /** A record already stored now changes pieces (Decode As named it lt_donthave): later checkpoints are stale. */
  insert(conn: number, index: number): void {
    let list = this.events.get(conn);
    if (list === undefined) this.events.set(conn, (list = []));
    insertSorted(list, index);
    this.checkpoints.delete(conn);
  }

  /** Each side's pieces on `conn` (n pieces, sides by address) after record `upTo`. */
  pieceMap(conn: number, upTo: number, n: number, addr: [string, string]): PieceMap {
    const events = this.events.get(conn) ?? [];
    // How many of the connection's piece events happen at or before `upTo`.
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]! <= upTo) lo = mid + 1;
      else hi = mid;
    }
    const count = lo;
    // Replays at most CHECKPOINT_EVERY events from the nearest snapshot, so any moment is cheap.
    let cps = this.checkpoints.get(conn);
    if (cps === undefined) this.checkpoints.set(conn, (cps = [[new PieceHoldings(), new PieceHoldings()]]));
    const want = Math.floor(count / CHECKPOINT_EVERY);
    while (cps.length <= want) {
      const k = cps.length;
      const sides = copy(cps[k - 1]!);
      this.replay(addr, events, (k - 1) * CHECKPOINT_EVERY, k * CHECKPOINT_EVERY, sides);
      cps.push(sides);
    }
    const sides = copy(cps[want]!);
    this.replay(addr, events, want * CHECKPOINT_EVERY, count, sides);
    return { pieces: n, sides: [{ state: sides[0].states(n), all: false }, { state: sides[1].states(n), all: false }], addr };
  }

  private replay(addr: [string, string], events: number[], from: number, to: number, sides: Holdings): void {
    for (let e = from; e < to; e++) {
      const index = events[e]!;
      const r = this.source.message(index);
      sides[r.src === addr[0] ? 0 : 1].apply(r, this.source.rawBytes(index));
    }
  }
}

function copy(sides: Holdings): Holdings {
  return [sides[0].clone(), sides[1].clone()];
}

/** Inserts `value` into the ascending `list` (indices: each at most once). */
export function insertSorted(list: number[], value: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== value) list.splice(lo, 0, value);
}
