// Requests each side sent and what became of them: answered with the piece, rejected, cancelled,
// dropped by a choke, dropped by an lt_donthave (reported as a group), or never answered.
import type { MessageRecord } from '../model/record.js';
import { BLOCK, blockLength, clientNote, countUnjudged, inRange, type At, type Conn, type DropGroup, type Emit, type Fate, type Request, type RequestKey, type Side } from './conn-state.js';

/** Outstanding requests tracked per side; beyond this they are only counted. */
const MAX_REQUESTS = 8192;

const FATE_TEXT: Record<Fate, string> = { piece: 'answered with the piece anyway', reject: 'rejected', cancel: 'cancelled by the requester', choke: 'dropped by a choke' };

/**
 * A request's key in its side's map. One number when the three fit in 53 bits (piece < 2^20, begin a
 * multiple of 16 KiB below 4 GiB, length < 32 KiB: every request of ordinary peers), else text: a
 * million requests cost ~0.1 s less than with a string per lookup. Numbers and strings never equal
 * each other as Map keys, so the two forms cannot collide.
 */
export function requestKey(piece: number, begin: number, length: number): RequestKey {
  if (piece < 0x100000 && begin % BLOCK === 0 && begin < 0x100000000 && length < 0x8000 && piece >= 0 && begin >= 0 && length >= 0) {
    return (piece * 0x40000 + begin / BLOCK) * 0x8000 + length;
  }
  return `${piece}:${begin}:${length}`;
}

/** A request `s` sent to `p`: size and range checks, a piece `p` withdrew, then tracked until answered. */
export function request(emit: Emit, c: Conn, s: Side, p: Side, r: MessageRecord, at: At): void {
  s.sentState ??= r.msg;
  const { piece, begin, length } = r;
  if (piece === undefined || begin === undefined || length === undefined) return;
  if (length > BLOCK) {
    emit(c, 'block-too-large', at, `request for ${length} bytes (piece ${piece} begin ${begin}) from ${s.addr}${clientNote(s)}: peers may close the connection on requests above 16 KiB (16384 bytes)`, piece);
  }
  if (!inRange(emit, c, 'request', piece, at)) return;
  const withdrawn = p.holdings.withdrawnAt(piece);
  if (withdrawn !== undefined) {
    emit(c, 'request-after-donthave', at, `request for piece ${piece}, which ${p.addr} withdrew with lt_donthave at ${withdrawn.toFixed(6)} and has not announced again`, piece);
  }
  if (s.requests.size >= MAX_REQUESTS) {
    s.untrackedRequests++;
    return;
  }
  const key = requestKey(piece, begin, length);
  if (!s.requests.has(key)) s.requests.set(key, { piece, begin, length, at, losses: c.losses });
}

/** A request of `requester` answered (piece/reject) or cancelled. */
export function resolve(emit: Emit, c: Conn, requester: Side, r: MessageRecord, fate: Fate): void {
  const { piece, begin } = r;
  const length = blockLength(r);
  if (piece === undefined || begin === undefined || length === undefined) return;
  const req = requester.requests.get(requestKey(piece, begin, length));
  if (req !== undefined) settle(emit, c, requester, req, fate);
}

/** Every open request of `requester` gets `fate` (a choke without the fast extension drops them all). */
export function settleAll(emit: Emit, c: Conn, requester: Side, fate: Fate): void {
  for (const req of requester.requests.values()) settle(emit, c, requester, req, fate);
}

function settle(emit: Emit, c: Conn, requester: Side, req: Request, fate: Fate): void {
  requester.requests.delete(requestKey(req.piece, req.begin, req.length));
  req.fate = fate;
  const g = req.group;
  // The group is reported once all its requests have a fate (still in c.groups: not yet reported).
  if (g !== undefined && !g.done && g.requests.every((q) => q.fate !== undefined) && c.groups.includes(g)) {
    emitGroup(emit, c, g);
    c.groups = c.groups.filter((x) => x !== g);
  }
}

export function emitGroup(emit: Emit, c: Conn, g: DropGroup): void {
  if (g.done) return;
  g.done = true;
  // 'never answered' is only known when no bytes were lost since the lt_donthave.
  if (c.losses !== g.losses && g.requests.some((q) => q.fate === undefined)) {
    countUnjudged(c, 'requests-dropped-by-donthave', 'lost-bytes-after');
    return;
  }
  const fates = new Map<string, number>();
  for (const q of g.requests) {
    const k = q.fate === undefined ? 'never answered' : FATE_TEXT[q.fate];
    fates.set(k, (fates.get(k) ?? 0) + 1);
  }
  const outcome = [...fates].map(([k, n]) => `${n} ${k}`).join(', ');
  const begins = g.requests.slice(0, 8).map((q) => q.begin).join(', ') + (g.requests.length > 8 ? ', ...' : '');
  const rule = g.fast
    ? 'fast extension on, so BEP 54 expects a reject_request for each'
    : 'no fast extension, so BEP 54 says they are dropped without an answer';
  emit(c, 'requests-dropped-by-donthave', g.at, `${g.requests.length} request(s) for piece ${g.piece} (begin ${begins}) were outstanding when lt_donthave arrived; ${rule}: ${outcome}`, g.piece);
}

export function reportUnanswered(emit: Emit, c: Conn, s: Side): void {
  if (!s.anyRequests) return;
  const all = [...s.requests.values()].filter((q) => q.group === undefined);
  // A request sent before bytes were lost may have been answered (or cancelled) in them.
  const open = all.filter((q) => q.losses === c.losses);
  if (open.length < all.length) countUnjudged(c, 'request-unanswered', 'lost-bytes-after');
  if (open.length === 0 && s.untrackedRequests === 0) return;
  const first = open[0];
  if (first === undefined) return;
  const more = s.untrackedRequests > 0 ? ` (and ${s.untrackedRequests} more not tracked)` : '';
  emit(c, 'request-unanswered', first.at, `${open.length} request(s) from ${s.addr}${more} got no piece, reject or cancel before the capture ended; the first: piece ${first.piece} begin ${first.begin} length ${first.length}`, first.piece);
  s.requests.clear();
}

/** Requests dropped by lt_donthave and requests never answered, reported once. */
export function reportOutstanding(emit: Emit, c: Conn): void {
  for (const g of c.groups) emitGroup(emit, c, g);
  c.groups = [];
  for (const s of c.sides) reportUnanswered(emit, c, s);
}
