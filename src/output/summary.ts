// Per-connection summary built from the record stream: who the peers are, what they advertised,
// how much they said. Printed at the end of text output and as `summary` records in JSON.
import type { AnyRecord, ConnectionSummary, EventRecord, MessageRecord, SideSummary, Transport } from '../model/record.js';

interface Tracked {
  conn: number;
  transport: Transport;
  ts: number;
  summary: ConnectionSummary;
  /**
   * The decoder found BitTorrent on it (its open event, or a message). A proxied connection that
   * never spoke BitTorrent (its upstream refused, or it carried something else) has only the relay's
   * events: it is not summarised as a BitTorrent connection.
   */
  bittorrent: boolean;
}

export class SummaryCollector {
  private readonly conns = new Map<number, Tracked>();

  record(r: AnyRecord): void {
    if (!('conn' in r)) return;
    let t = this.conns.get(r.conn);
    if (t === undefined) {
      t = { conn: r.conn, transport: r.transport, ts: r.ts, summary: newSummary(r.src, r.dst), bittorrent: false };
      this.conns.set(r.conn, t);
    }
    t.ts = r.ts;
    if ('msg' in r || r.event === 'open') t.bittorrent = true;
    if ('msg' in r) this.message(t.summary, r);
    else this.event(t.summary, r);
  }

  /** One `summary` record per connection, in connection order. */
  summaries(): EventRecord[] {
    return [...this.conns.values()]
      .filter((t) => t.bittorrent)
      .sort((a, b) => a.conn - b.conn)
      .map((t) => ({
        event: 'summary',
        ts: t.ts,
        conn: t.conn,
        transport: t.transport,
        src: t.summary.initiator.addr,
        dst: t.summary.responder.addr,
        summary: t.summary,
      }));
  }

  private message(s: ConnectionSummary, r: MessageRecord): void {
    const side = r.src === s.responder.addr ? s.responder : s.initiator;
    side.messages++;
    side.bytes += r.size;
    if (r.msg === 'handshake') {
      if (r.peerId !== undefined) side.peerId = r.peerId;
      if (r.client !== undefined) side.client = r.client;
    } else if (r.msg === 'extended') {
      if (r.ext === 'handshake') {
        if (r.v !== undefined) side.v = r.v;
        if (r.m !== undefined) side.extensions = { ...side.extensions, ...r.m };
      } else if (r.ext === 'lt_donthave') {
        side.donthave++;
      }
    }
  }

  private event(s: ConnectionSummary, r: EventRecord): void {
    if (r.event === 'gap') s.gaps++;
    else if (r.event === 'encrypted') s.encrypted = true;
    else if (r.event === 'unjudged' && r.unjudged !== undefined) s.unjudged = r.unjudged;
    else if (r.event === 'finding' && r.severity !== undefined) {
      s.findings ??= { error: 0, warning: 0, info: 0 };
      s.findings[r.severity]++;
      if (r.finding === 'request-stalled' || r.finding === 'request-stall-ended') countStall(s, r);
    }
  }
}

/** A stall counts once (request-stalled); its length is the longest either record gives. */
function countStall(s: ConnectionSummary, r: EventRecord): void {
  s.stalls ??= { count: 0, longest: 0 };
  if (r.finding === 'request-stalled') s.stalls.count++;
  if (r.seconds !== undefined && r.seconds > s.stalls.longest) s.stalls.longest = r.seconds;
}

function newSummary(initiator: string, responder: string): ConnectionSummary {
  return { initiator: newSide(initiator), responder: newSide(responder), gaps: 0 };
}

function newSide(addr: string): SideSummary {
  return { addr, messages: 0, bytes: 0, donthave: 0 };
}
