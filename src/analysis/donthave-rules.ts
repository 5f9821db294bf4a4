// BEP 54 lt_donthave rules, and the have/bitfield/have_all history they are judged against: which
// pieces each side announced and withdrew, and the requests a donthave leaves outstanding.
import type { MappingView } from '../bittorrent/ext-mapping.js';
import { fits } from '../bittorrent/extensions.js';
import type { MessageRecord } from '../model/record.js';
import { rangeLater, describeCount, fastBoth, MAX_PIECE_SET, pieceBound, type At, type Conn, type DropGroup, type Emit, type Side } from './conn-state.js';
import { formatMapping } from './extended-format.js';

/** A have: the piece is announced (again), so an earlier withdrawal no longer holds. */
export function announce(s: Side, piece: number): void {
  s.removed.delete(piece);
  if (s.added.size < MAX_PIECE_SET) s.added.add(piece);
}

/** Whether `s` has announced `piece` (bitfield, have_all or have) and not withdrawn it since. */
export function has(s: Side, piece: number): boolean {
  if (s.removed.has(piece)) return false;
  if (s.haveAll || s.added.has(piece)) return true;
  const b = s.bitfield;
  return b !== undefined && piece >> 3 < b.length && ((b[piece >> 3] ?? 0) & (0x80 >> (piece & 7))) !== 0;
}

/** An lt_donthave from `s` to `p`, `payload` being the bytes after the extended id. */
export function donthave(emit: Emit, c: Conn, s: Side, p: Side, r: MessageRecord, payload: Uint8Array | undefined, at: At): void {
  if (r.malformed !== undefined || fits('lt_donthave', payload) === false || r.piece === undefined) {
    emit(c, 'donthave-malformed', at, `lt_donthave payload is ${payload?.length ?? '?'} bytes; BEP 54 requires exactly 4 (a big-endian piece index)`);
    return;
  }
  const piece = r.piece;
  const bound = pieceBound(c);
  if (bound !== undefined && piece >= bound.count) {
    emit(c, 'donthave-out-of-range', at, `lt_donthave for piece ${piece}, beyond ${describeCount(bound)}`, piece);
    return;
  }
  if (bound === undefined || !bound.exact) rangeLater(c, 'lt_donthave', piece, at);
  // Both judged on the sender's history: the emit's gate drops them when that is incomplete.
  const before = s.removed.get(piece);
  if (before !== undefined) {
    emit(c, 'donthave-redundant', at, `piece ${piece} was already withdrawn at ${before.toFixed(6)} with no have in between (libtorrent sends one per failed block request)`, piece);
  } else if (!has(s, piece)) {
    emit(c, 'donthave-not-announced', at, `lt_donthave for piece ${piece}, which ${s.addr} never announced (${announceSummary(s)})`, piece);
  }
  s.added.delete(piece);
  if (!s.removed.has(piece) && s.removed.size < MAX_PIECE_SET) s.removed.set(piece, at.ts);
  const dropped = [...p.requests.values()].filter((q) => q.piece === piece && q.group === undefined);
  if (dropped.length > 0) {
    const g: DropGroup = { at, losses: c.losses, piece, fast: fastBoth(s, p), requests: dropped, done: false };
    for (const q of dropped) q.group = g;
    c.groups.push(g);
  }
}

export function donthaveUnsupported(emit: Emit, c: Conn, p: Side, pm: MappingView, at: At): void {
  emit(c, 'donthave-unsupported', at, `lt_donthave sent to ${p.addr}, whose extended handshake does not list lt_donthave (${formatMapping(pm)})`);
}

function announceSummary(s: Side): string {
  const parts: string[] = [];
  if (s.bitfield !== undefined) parts.push('not in its bitfield');
  if (s.added.size > 0) parts.push(`${s.added.size} have(s), none for it`);
  if (parts.length === 0) parts.push('no bitfield, have_all or have for it');
  return parts.join(', ');
}
