// Stalls: a side has requests outstanding, the other side has unchoked it, and that other side has
// sent no piece, reject_request or choke on the connection for longer than the stall time. Judged
// on a clock the caller advances (capture time: every packet of the capture; the proxy: a wall-clock
// timer at its edge), so this stays sans-I/O. One `request-stalled` (warning) per stall when it is
// judged, pointing at the oldest outstanding request; one `request-stall-ended` (info) when it ends
// (pieces flow again, a reject, a choke, the requests cancelled or withdrawn, the connection closed,
// the capture ended), saying how long it lasted. The Analyzer feeds it after its own rules ran, so
// a side's request map is already up to date.
import type { MessageRecord } from '../model/record.js';
import type { At, Conn, Emit, Request, Side } from './conn-state.js';

export const DEFAULT_STALL_SECONDS = 10;
/** Withdrawals and rejects remembered for the evidence from other connections, all peers together. */
const MAX_EVIDENCE = 1 << 16;
/** Waiting pieces listed in a finding; the rest are counted. */
const MAX_LISTED_RANGES = 8;

/** One side of a connection as a requester: what it waits for from the other side. */
interface Wait {
  c: Conn;
  /** Index of the requester in c.sides. */
  i: 0 | 1;
  /** The other side has unchoked the requester (and not choked it since). */
  unchoked: boolean;
  /** Start of the silence being timed: the later of the first open request, the unchoke, the last answer. */
  since: number | undefined;
  stall?: { since: number; oldest: Request };
}

interface Evidence {
  kind: 'lt_donthave' | 'reject_request';
  conn: number;
  ts: number;
}

/** Made at a connection's first message beyond the handshakes: a handshake-only connection costs nothing here. */
interface ConnWaits {
  waits: [Wait, Wait];
  closed: boolean;
}

export class StallTracker {
  private readonly conns = new Map<Conn, ConnWaits>();
  /** Waits that can become a stall: open requests, unchoked, not yet stalled. */
  private readonly armed = new Set<Wait>();
  /** No armed wait reaches its threshold before this (a lower bound, made exact by each scan). */
  private nextDeadline = Infinity;
  /** Peer identity -> piece -> how that peer said it lacks the piece, on which connection. */
  private readonly evidence = new Map<string, Map<number, Evidence>>();
  private evidenceCount = 0;

  constructor(
    private readonly emit: Emit,
    /** Seconds of silence that make a stall. */
    readonly seconds: number = DEFAULT_STALL_SECONDS,
  ) {}

  /** The clock reached `now` (capture time or wall-clock): stalls whose threshold passed are raised. */
  advance(now: number): void {
    if (now <= this.nextDeadline) return;
    let next = Infinity;
    for (const w of this.armed) {
      const since = w.since ?? now;
      if (now - since > this.seconds) this.raise(w, now);
      else next = Math.min(next, since + this.seconds);
    }
    this.nextDeadline = next;
  }

  /** Message `r` from side `from` of `c`, after the Analyzer's rules handled it. */
  message(c: Conn, from: 0 | 1, r: MessageRecord, at: At): void {
    // A handshake changes no wait (the side's peer id, the evidence key, is the analyzer's).
    if (r.msg === 'handshake' && !this.conns.has(c)) return;
    const cw = this.waitsOf(c);
    const mine = cw.waits[from];
    const theirs = cw.waits[from === 0 ? 1 : 0];
    switch (r.msg) {
      case 'piece':
        this.end(theirs, at, `${c.sides[from].addr} sent piece ${r.piece ?? '?'} begin ${r.begin ?? '?'}: pieces flow again`);
        theirs.since = at.ts;
        break;
      case 'reject_request':
        if (r.piece !== undefined) this.remember(peerKey(c.sides[from]), r.piece, { kind: 'reject_request', conn: c.conn, ts: at.ts });
        this.end(theirs, at, `${c.sides[from].addr} rejected piece ${r.piece ?? '?'} begin ${r.begin ?? '?'}`);
        theirs.since = at.ts;
        break;
      case 'choke':
        theirs.unchoked = false;
        this.end(theirs, at, `${c.sides[from].addr} choked ${c.sides[theirs.i].addr}`);
        theirs.since = at.ts;
        break;
      case 'unchoke':
        if (!theirs.unchoked) theirs.since = at.ts;
        theirs.unchoked = true;
        break;
      case 'extended':
        if (r.ext === 'lt_donthave' && r.piece !== undefined) {
          this.remember(peerKey(c.sides[from]), r.piece, { kind: 'lt_donthave', conn: c.conn, ts: at.ts });
          if (oldestOpen(c.sides[theirs.i]) === undefined) this.end(theirs, at, `${c.sides[from].addr} withdrew piece ${r.piece} with lt_donthave, which dropped the requests`);
        }
        break;
      case 'cancel':
        if (oldestOpen(c.sides[from]) === undefined) this.end(mine, at, `${c.sides[from].addr} cancelled its requests`);
        break;
      default:
        break;
    }
    this.refresh(mine, at.ts, cw);
    this.refresh(theirs, at.ts, cw);
  }

  /** The connection closed or was reset (`at`: the close record): no more judging on it. */
  closed(c: Conn, at: At, how: string): void {
    const cw = this.conns.get(c);
    if (cw === undefined || cw.closed) return;
    cw.closed = true;
    for (const w of cw.waits) {
      this.end(w, at, `${how} with the requests still unanswered`);
      this.armed.delete(w);
    }
  }

  /** Bytes were lost on `c`: what follows cannot be judged (a lost piece would look like a stall). */
  lost(c: Conn, at: At): void {
    const cw = this.conns.get(c);
    if (cw === undefined) return;
    for (const w of cw.waits) {
      this.end(w, at, 'bytes of the connection were lost from the capture, so what followed is unknown');
      this.armed.delete(w);
    }
  }

  /** End of input at `now`: stalls still going are judged once more and reported as ongoing. */
  finish(now: number): void {
    this.advance(now);
    for (const cw of this.conns.values()) this.stop(cw, now, 'still unanswered when the capture ended');
  }

  /** The connection is over (the proxy drops it): a stall still going ends here. */
  forget(c: Conn, now: number): void {
    const cw = this.conns.get(c);
    if (cw === undefined) return;
    this.stop(cw, now, 'still unanswered when the connection was dropped');
    this.conns.delete(c);
  }

  /** Live stalls, for a status line: connection, requester, since when. */
  live(): { conn: number; requester: string; peer: string; since: number }[] {
    const out: { conn: number; requester: string; peer: string; since: number }[] = [];
    for (const cw of this.conns.values()) {
      for (const w of cw.waits) {
        if (w.stall !== undefined) out.push({ conn: w.c.conn, requester: w.c.sides[w.i].addr, peer: w.c.sides[w.i === 0 ? 1 : 0].addr, since: w.stall.since });
      }
    }
    return out;
  }

  private stop(cw: ConnWaits, now: number, why: string): void {
    for (const w of cw.waits) {
      const s = w.stall;
      if (s !== undefined) this.end(w, { ts: now, src: w.c.sides[w.i].addr, dst: w.c.sides[w.i === 0 ? 1 : 0].addr }, why);
      this.armed.delete(w);
    }
  }

  private waitsOf(c: Conn): ConnWaits {
    let cw = this.conns.get(c);
    if (cw === undefined) {
      const wait = (i: 0 | 1): Wait => ({ c, i, unchoked: false, since: undefined });
      cw = { waits: [wait(0), wait(1)], closed: false };
      this.conns.set(c, cw);
    }
    return cw;
  }

  /** Re-arms or disarms a wait after a message changed its requests, choke state or silence. */
  private refresh(w: Wait, ts: number, cw: ConnWaits): void {
    const open = oldestOpen(w.c.sides[w.i]) !== undefined;
    if (!open) w.since = undefined;
    else w.since ??= ts;
    if (open && w.unchoked && w.stall === undefined && !w.c.lost && !cw.closed) {
      this.armed.add(w);
      this.nextDeadline = Math.min(this.nextDeadline, (w.since ?? ts) + this.seconds);
    } else {
      this.armed.delete(w);
    }
  }

  private raise(w: Wait, now: number): void {
    this.armed.delete(w);
    const requester = w.c.sides[w.i];
    const peer = w.c.sides[w.i === 0 ? 1 : 0];
    const waiting = openRequests(requester);
    const oldest = waiting[0];
    if (oldest === undefined || w.since === undefined) return;
    w.stall = { since: w.since, oldest };
    const silence = now - w.since;
    const pieces = [...new Set(waiting.map((q) => q.piece))];
    const more = requester.untrackedRequests > 0 ? ` (and ${requester.untrackedRequests} more not tracked)` : '';
    const text =
      `${peer.addr} has sent no piece, reject or choke for ${secs(silence)} while ${waiting.length} request(s) from ${requester.addr}${more} wait, ` +
      `for ${pieces.length === 1 ? 'piece' : 'pieces'} ${formatRanges(pieces)}; the oldest: piece ${oldest.piece} begin ${oldest.begin} length ${oldest.length}. ` +
      `${announced(peer, pieces)}. ${means(requester, peer)}. ${this.elsewhere(peerKey(peer), w.c.conn, peer.addr, pieces)}`;
    this.emit(w.c, 'request-stalled', oldest.at, text, oldest.piece, { since: w.since, seconds: round(silence) });
  }

  private end(w: Wait, at: At, why: string): void {
    const s = w.stall;
    if (s === undefined) return;
    w.stall = undefined;
    const lasted = at.ts - s.since;
    const requester = w.c.sides[w.i].addr;
    this.emit(w.c, 'request-stall-ended', at, `the stall of ${requester}'s requests (the oldest: piece ${s.oldest.piece} begin ${s.oldest.begin}) lasted ${secs(lasted)}: ${why}`, s.oldest.piece, {
      since: s.since,
      seconds: round(lasted),
    });
  }

  private remember(key: string, piece: number, e: Evidence): void {
    let pieces = this.evidence.get(key);
    if (pieces === undefined) {
      if (this.evidenceCount >= MAX_EVIDENCE) return;
      pieces = new Map();
      this.evidence.set(key, pieces);
    }
    if (pieces.has(piece) || this.evidenceCount >= MAX_EVIDENCE) return;
    pieces.set(piece, e);
    this.evidenceCount++;
  }

  /** What the peer said about these pieces on its other connections in the capture. */
  private elsewhere(key: string, conn: number, addr: string, pieces: number[]): string {
    const known = this.evidence.get(key);
    const found: { piece: number; e: Evidence }[] = [];
    for (const piece of pieces) {
      const e = known?.get(piece);
      if (e !== undefined && e.conn !== conn) found.push({ piece, e });
    }
    const first = found[0];
    if (first === undefined) return `No other connection in the capture shows ${addr} withdrawing or rejecting them.`;
    const how = first.e.kind === 'lt_donthave' ? 'withdrew' : 'rejected';
    const also = found.length > 1 ? ` (and ${found.length - 1} more of the waiting pieces)` : '';
    const by = first.e.kind === 'lt_donthave' ? ' with lt_donthave' : ' with reject_request';
    return `${addr} ${how} piece ${first.piece}${by} on conn ${first.e.conn} at ${first.e.ts.toFixed(6)}${also}: it knew it lacked ${found.length > 1 ? 'them' : 'it'}.`;
  }
}

/** Peer identity for the evidence across connections: its peer id, else its address. */
function peerKey(s: Side): string {
  return s.peerId !== undefined ? `peer id ${s.peerId}` : s.addr;
}

/** A side's oldest request still open (not dropped by an lt_donthave); the map keeps send order. */
function oldestOpen(s: Side): Request | undefined {
  if (!s.anyRequests) return undefined;
  for (const q of s.requests.values()) if (q.group === undefined) return q;
  return undefined;
}

function openRequests(s: Side): Request[] {
  return [...s.requests.values()].filter((q) => q.group === undefined);
}

/** How the peer announced the waiting pieces: have_all, bitfield, have, or not at all. */
function announced(peer: Side, pieces: number[]): string {
  const held = peer.holdings;
  if (held.all && pieces.every((p) => held.withdrawnAt(p) === undefined)) return `${peer.addr} announced every piece (have_all)`;
  const by = { bitfield: 0, have: 0 };
  const not: number[] = [];
  const withdrawn: number[] = [];
  for (const p of pieces) {
    if (held.withdrawnAt(p) !== undefined) withdrawn.push(p);
    else if (held.byHave(p)) by.have++;
    else if (held.inBitfield(p) || held.all) by.bitfield++;
    else not.push(p);
  }
  const ways = [by.bitfield > 0 ? 'bitfield' : '', by.have > 0 ? 'have' : ''].filter((x) => x !== '').join(' and ');
  const yes = pieces.length - not.length - withdrawn.length;
  const parts: string[] = [];
  if (yes === pieces.length) parts.push(`${peer.addr} announced ${pieces.length === 1 ? 'it' : 'all of them'} (${ways})`);
  else if (yes > 0) parts.push(`${peer.addr} announced ${yes} of them (${ways})`);
  if (not.length > 0) parts.push(`${yes > 0 ? 'never' : `${peer.addr} never`} announced ${formatRanges(not)} (no bitfield bit, have or have_all)`);
  if (withdrawn.length > 0) parts.push(`withdrew ${formatRanges(withdrawn)} with lt_donthave on this connection`);
  return parts.join('; ');
}

/** Could the peer have said it lost the piece? BEP 54 and BEP 6 as these two sides negotiated them. */
function means(requester: Side, peer: Side): string {
  const donthave = requester.mapping?.id('lt_donthave');
  const fast = requester.fast && peer.fast;
  const bits = requester.fast ? `only ${requester.addr} set the fast bit` : peer.fast ? `only ${peer.addr} set the fast bit` : 'neither set the fast bit';
  if (donthave === undefined && !fast) {
    return `${requester.addr} did not advertise lt_donthave and ${bits}: BEP 54 leaves the peer no way to say it lost the piece except to disconnect`;
  }
  if (donthave !== undefined && !fast) return `${requester.addr} advertised lt_donthave (id ${donthave}) and ${bits}: ${peer.addr} could withdraw the piece with lt_donthave, and has not`;
  if (donthave === undefined) return `both set the fast bit (${requester.addr} did not advertise lt_donthave): ${peer.addr} could answer with reject_request, and has not`;
  return `${requester.addr} advertised lt_donthave (id ${donthave}) and both set the fast bit: ${peer.addr} could withdraw or reject the piece, and has done neither`;
}

/** "24-36, 40" for sorted-or-not piece indices, at most MAX_LISTED_RANGES ranges. */
export function formatRanges(pieces: readonly number[]): string {
  const sorted = [...new Set(pieces)].sort((a, b) => a - b);
  const ranges: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  const shown = ranges.slice(0, MAX_LISTED_RANGES).join(', ');
  return ranges.length > MAX_LISTED_RANGES ? `${shown} and ${ranges.length - MAX_LISTED_RANGES} more ranges` : shown;
}

function secs(s: number): string {
  return `${s.toFixed(1)} s`;
}

function round(s: number): number {
  return Math.round(s * 1000) / 1000;
}
