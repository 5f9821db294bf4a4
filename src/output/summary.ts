// Per-connection summary built from the record stream: who the peers are, what they advertised,
// how much they said. Printed at the end of text output and as `summary` records in JSON.
// Tallies are flat objects of a fixed shape, their repeated strings (clients, versions) shared, and
// the summary records are made one at a time as they are written. A released connection's summary
// is final once its last record has passed: with `onFinal` it is handed over then and its tally
// dropped (only counts stay), so a capture of a hundred thousand connections holds the tallies of the
// live ones, not of every one ever seen.
import type { AnyRecord, ConnectionSummary, EventRecord, MessageRecord, Severity, SideSummary, Transport } from '../model/record.js';

/** Distinct client names and versions shared between connections; past this they are kept as they come. */
const MAX_INTERNED = 4096;

const EXTRAS = ['encrypted', 'findings', 'stalls', 'unjudged', 'released'] as const;
type Extra = (typeof EXTRAS)[number];

class SideTally {
  peerId: string | undefined = undefined;
  client: string | undefined = undefined;
  v: string | undefined = undefined;
  extensions: Record<string, number> | undefined = undefined;
  messages = 0;
  bytes = 0;
  donthave = 0;

  constructor(readonly addr: string) {}

  /** Keys in the order the summaries always had: addr, counts, then what was learnt, as it was learnt. */
  toSummary(): SideSummary {
    const s: SideSummary = { addr: this.addr, messages: this.messages, bytes: this.bytes, donthave: this.donthave };
    if (this.peerId !== undefined) s.peerId = this.peerId;
    if (this.client !== undefined) s.client = this.client;
    if (this.v !== undefined) s.v = this.v;
    if (this.extensions !== undefined) s.extensions = this.extensions;
    return s;
  }
}

class Tally {
  ts: number;
  gaps = 0;
  encrypted = false;
  released = false;
  /**
   * The decoder found BitTorrent on it (its open event, or a message). A proxied connection that
   * never spoke BitTorrent (its upstream refused, or it carried something else) has only the relay's
   * events: it is not summarised as a BitTorrent connection.
   */
  bittorrent = false;
  findings: Record<Severity, number> | undefined = undefined;
  stalls: { count: number; longest: number } | undefined = undefined;
  unjudged: Record<string, Record<string, number>> | undefined = undefined;
  /**
   * The optional keys in the order they first came (the summary's keys follow it, as they always
   * did): 3 bits a key, the first in the lowest bits (an array cost ~180 bytes a connection).
   */
  private order = 0;
  readonly initiator: SideTally;
  readonly responder: SideTally;

  constructor(
    readonly conn: number,
    readonly transport: Transport,
    ts: number,
    src: string,
    dst: string,
  ) {
    this.ts = ts;
    this.initiator = new SideTally(src);
    this.responder = new SideTally(dst);
  }

  /** `key` is set from now on (kept in order of first occurrence). */
  note(key: Extra): void {
    const code = EXTRAS.indexOf(key) + 1;
    let shift = 0;
    for (let o = this.order; o !== 0; o >>= 3, shift += 3) if ((o & 7) === code) return;
    this.order |= code << shift;
  }

  toRecord(): EventRecord {
    const summary: ConnectionSummary = { initiator: this.initiator.toSummary(), responder: this.responder.toSummary(), gaps: this.gaps };
    for (let o = this.order; o !== 0; o >>= 3) {
      const key = EXTRAS[(o & 7) - 1];
      if (key === 'encrypted') summary.encrypted = true;
      else if (key === 'findings') summary.findings = this.findings!;
      else if (key === 'stalls') summary.stalls = this.stalls!;
      else if (key === 'unjudged') summary.unjudged = this.unjudged!;
      else summary.released = true;
    }
    return { event: 'summary', ts: this.ts, conn: this.conn, transport: this.transport, src: this.initiator.addr, dst: this.responder.addr, summary };
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
  private readonly interned = new Map<string, string>();
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
    const side = r.src === t.responder.addr ? t.responder : t.initiator;
    side.messages++;
    side.bytes += r.size;
    if (r.msg === 'handshake') {
      if (r.peerId !== undefined) side.peerId = r.peerId;
      if (r.client !== undefined) side.client = this.intern(r.client);
    } else if (r.msg === 'extended') {
      if (r.ext === 'handshake') {
        if (r.v !== undefined) side.v = this.intern(r.v);
        if (r.m !== undefined) side.extensions = { ...side.extensions, ...r.m };
      } else if (r.ext === 'lt_donthave') {
        side.donthave++;
      }
    }
  }

  private event(t: Tally, r: EventRecord): void {
    if (r.event === 'gap') t.gaps++;
    else if (r.event === 'encrypted') {
      t.encrypted = true;
      t.note('encrypted');
    } else if (r.event === 'released') {
      t.released = true;
      t.note('released');
      if (this.options.onFinal !== undefined && t.bittorrent) this.releasing = t;
    } else if (r.event === 'unjudged' && r.unjudged !== undefined) {
      t.unjudged = r.unjudged;
      t.note('unjudged');
    }
    else if (r.event === 'finding' && r.severity !== undefined) {
      t.note('findings');
      t.findings ??= { error: 0, warning: 0, info: 0 };
      t.findings[r.severity]++;
      if (r.finding === 'request-stalled' || r.finding === 'request-stall-ended') countStall(t, r);
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

  private intern(s: string): string {
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    if (this.interned.size < MAX_INTERNED) this.interned.set(s, s);
    return s;
  }
}

/** A stall counts once (request-stalled); its length is the longest either record gives. */
function countStall(t: Tally, r: EventRecord): void {
  t.note('stalls');
  t.stalls ??= { count: 0, longest: 0 };
  if (r.finding === 'request-stalled') t.stalls.count++;
  if (r.seconds !== undefined && r.seconds > t.stalls.longest) t.stalls.longest = r.seconds;
}
