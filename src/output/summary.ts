// Per-connection summary built from the record stream: who the peers are, what they advertised,
// how much they said. Printed at the end of text output and as `summary` records in JSON.
// Tallies are flat objects of a fixed shape, their repeated strings (clients, versions) shared, and
// the summary records are made one at a time as they are written. A released connection's summary
// is final once its last record has passed: with `onFinal` it is handed over then and its tally
// dropped (only counts stay), so a capture of a hundred thousand connections holds the tallies of the
// live ones, not of every one ever seen.
import { dirOfSender, type AnyRecord, type ConnectionSummary, type EventRecord, type MessageRecord, type Severity, type SideSummary, type Transport } from '../model/record.js';
import { SharedStrings } from '../util/shared-strings.js';

/** Distinct client names and versions shared between connections; past this they are kept as they come. */
const MAX_INTERNED = 4096;

const EXTRAS = ['encrypted', 'findings', 'stalls', 'unjudged', 'released'] as const;
type Extra = (typeof EXTRAS)[number];

/** What a side rarely has: an extended handshake's version and extensions, lt_donthave sent. */
class SideMore {
  v: string | undefined = undefined;
  extensions: Record<string, number> | undefined = undefined;
  donthave = 0;
}

/** What a connection rarely has: gaps, findings, stalls, findings not judged. */
class TallyMore {
  gaps = 0;
  findings: Record<Severity, number> | undefined = undefined;
  stalls: { count: number; longest: number } | undefined = undefined;
  unjudged: Record<string, Record<string, number>> | undefined = undefined;
  /** Per side (0 initiator, 1 responder), made at its first use. */
  sides: [SideMore | undefined, SideMore | undefined] = [undefined, undefined];
}

/** Side 0 is the initiator, 1 the responder. */
type SideIndex = 0 | 1;

/**
 * One connection's tally. A live connection of a flood has only shaken hands, and it is kept until
 * released: its two sides are fields of this one object (two side objects cost 150 bytes a
 * connection more), and what most connections never have is in a TallyMore made on first use.
 */
class Tally {
  ts: number;
  /**
   * The decoder found BitTorrent on it (its open event, or a message). A proxied connection that
   * never spoke BitTorrent (its upstream refused, or it carried something else) has only the relay's
   * events: it is not summarised as a BitTorrent connection.
   */
  bittorrent = false;
  /**
   * The optional keys in the order they first came (the summary's keys follow it, as they always
   * did): 3 bits a key, the first in the lowest bits (an array cost ~180 bytes a connection).
   */
  private order = 0;
  private more: TallyMore | undefined = undefined;
  private peerId0: string | undefined = undefined;
  private peerId1: string | undefined = undefined;
  private client0: string | undefined = undefined;
  private client1: string | undefined = undefined;
  private messages0 = 0;
  private messages1 = 0;
  private bytes0 = 0;
  private bytes1 = 0;

  constructor(
    readonly conn: number,
    readonly transport: Transport,
    ts: number,
    readonly src: string,
    readonly dst: string,
  ) {
    this.ts = ts;
  }

  get released(): boolean {
    return this.has('released');
  }

  /** The side that sent a record from `addr`. */
  sideOf(addr: string): SideIndex {
    return dirOfSender(addr, this.src);
  }

  counted(side: SideIndex, size: number): void {
    if (side === 0) {
      this.messages0++;
      this.bytes0 += size;
    } else {
      this.messages1++;
      this.bytes1 += size;
    }
  }

  /** What a handshake said of its sender. */
  identified(side: SideIndex, peerId: string | undefined, client: string | undefined): void {
    if (side === 0) {
      if (peerId !== undefined) this.peerId0 = peerId;
      if (client !== undefined) this.client0 = client;
    } else {
      if (peerId !== undefined) this.peerId1 = peerId;
      if (client !== undefined) this.client1 = client;
    }
  }

  extra(): TallyMore {
    return (this.more ??= new TallyMore());
  }

  sideExtra(side: SideIndex): SideMore {
    const sides = this.extra().sides;
    return (sides[side] ??= new SideMore());
  }

  /** `key` is set from now on (kept in order of first occurrence). */
  note(key: Extra): void {
    if (this.has(key)) return;
    let shift = 0;
    for (let o = this.order; o !== 0; o >>= 3) shift += 3;
    this.order |= (EXTRAS.indexOf(key) + 1) << shift;
  }

  private has(key: Extra): boolean {
    const code = EXTRAS.indexOf(key) + 1;
    for (let o = this.order; o !== 0; o >>= 3) if ((o & 7) === code) return true;
    return false;
  }

  /** Keys in the order the summaries always had: addr, counts, then what was learnt, as it was learnt. */
  private sideSummary(side: SideIndex): SideSummary {
    const more = this.more?.sides[side];
    const s: SideSummary =
      side === 0
        ? { addr: this.src, messages: this.messages0, bytes: this.bytes0, donthave: more?.donthave ?? 0 }
        : { addr: this.dst, messages: this.messages1, bytes: this.bytes1, donthave: more?.donthave ?? 0 };
    const peerId = side === 0 ? this.peerId0 : this.peerId1;
    const client = side === 0 ? this.client0 : this.client1;
    if (peerId !== undefined) s.peerId = peerId;
    if (client !== undefined) s.client = client;
    if (more?.v !== undefined) s.v = more.v;
    if (more?.extensions !== undefined) s.extensions = more.extensions;
    return s;
  }

  toRecord(): EventRecord {
    const more = this.more;
    const summary: ConnectionSummary = { initiator: this.sideSummary(0), responder: this.sideSummary(1), gaps: more?.gaps ?? 0 };
    for (let o = this.order; o !== 0; o >>= 3) {
      const key = EXTRAS[(o & 7) - 1];
      if (key === 'encrypted') summary.encrypted = true;
      else if (key === 'findings') summary.findings = more!.findings!;
      else if (key === 'stalls') summary.stalls = more!.stalls!;
      else if (key === 'unjudged') summary.unjudged = more!.unjudged!;
      else summary.released = true;
    }
    return { event: 'summary', ts: this.ts, conn: this.conn, transport: this.transport, src: this.src, dst: this.dst, summary };
  }
}

export interface SummaryOptions {
  /**
   * Takes a released connection's summary record as soon as it is final (its `released` record and
   * what the analyzer said on releasing it have passed); its tally is then dropped and only counted.
   * Without it every tally is kept for summaries().
   */
  onFinal?: (summary: EventRecord) => void;
}

export class SummaryCollector {
  private readonly conns = new Map<number, Tally>();
  private readonly interned = new SharedStrings(MAX_INTERNED);
  /** A released connection whose summary is final once a record of another connection comes. */
  private releasing: Tally | undefined;
  /** Connections whose summaries were handed to onFinal (all of them released, all BitTorrent). */
  private finalised = 0;

  constructor(private readonly options: SummaryOptions = {}) {}

  record(r: AnyRecord): void {
    if (this.releasing !== undefined && (!('conn' in r) || r.conn !== this.releasing.conn)) this.finalise();
    if (!('conn' in r)) return;
    let t = this.conns.get(r.conn);
    if (t === undefined) {
      t = new Tally(r.conn, r.transport, r.ts, r.src, r.dst);
      this.conns.set(r.conn, t);
    }
    t.ts = r.ts;
    if ('msg' in r || r.event === 'open') t.bittorrent = true;
    if ('msg' in r) this.message(t, r);
    else this.event(t, r);
  }

  /** BitTorrent connections tallied. */
  get size(): number {
    let n = this.finalised;
    for (const t of this.conns.values()) if (t.bittorrent) n++;
    return n;
  }

  /** One `summary` record per connection, in connection order. */
  summaries(): EventRecord[] {
    return [...this.eachSummary()];
  }

  /** The same, made one at a time as they are taken (a hundred thousand are not held at once). */
  *eachSummary(): Generator<EventRecord> {
    const order = [...this.conns.values()].filter((t) => t.bittorrent).map((t) => t.conn).sort((a, b) => a - b);
    for (const conn of order) yield this.conns.get(conn)!.toRecord();
  }

  /** Connections whose summaries went to onFinal when they were released. */
  get finalCount(): number {
    return this.finalised;
  }

  /** Connections released after a silence. */
  get released(): number {
    let n = this.finalised;
    for (const t of this.conns.values()) if (t.released && t.bittorrent) n++;
    return n;
  }

  private message(t: Tally, r: MessageRecord): void {
    const side = t.sideOf(r.src);
    t.counted(side, r.size);
    if (r.msg === 'handshake') {
      t.identified(side, r.peerId, r.client !== undefined ? this.interned.share(r.client) : undefined);
    } else if (r.msg === 'extended') {
      if (r.ext === 'handshake') {
        if (r.v !== undefined) t.sideExtra(side).v = this.interned.share(r.v);
        if (r.m !== undefined) {
          const more = t.sideExtra(side);
          more.extensions = { ...more.extensions, ...r.m };
        }
      } else if (r.ext === 'lt_donthave') {
        t.sideExtra(side).donthave++;
      }
    }
  }

  private event(t: Tally, r: EventRecord): void {
    if (r.event === 'gap') t.extra().gaps++;
    else if (r.event === 'encrypted') {
      t.note('encrypted');
    } else if (r.event === 'released') {
      t.note('released');
      if (this.options.onFinal !== undefined && t.bittorrent) this.releasing = t;
    } else if (r.event === 'unjudged' && r.unjudged !== undefined) {
      t.extra().unjudged = r.unjudged;
      t.note('unjudged');
    }
    else if (r.event === 'finding' && r.severity !== undefined) {
      t.note('findings');
      const more = t.extra();
      more.findings ??= { error: 0, warning: 0, info: 0 };
      more.findings[r.severity]++;
      if (r.finding === 'request-stalled' || r.finding === 'request-stall-ended') {
        t.note('stalls');
        countStall(more, r);
      }
    }
  }

  /** The released connection's summary goes out now; only its count stays. */
  private finalise(): void {
    const t = this.releasing!;
    this.releasing = undefined;
    this.conns.delete(t.conn);
    this.finalised++;
    this.options.onFinal!(t.toRecord());
  }
}

/** A stall counts once (request-stalled); its length is the longest either record gives. */
function countStall(t: TallyMore, r: EventRecord): void {
  t.stalls ??= { count: 0, longest: 0 };
  if (r.finding === 'request-stalled') t.stalls.count++;
  if (r.seconds !== undefined && r.seconds > t.stalls.longest) t.stalls.longest = r.seconds;
}
