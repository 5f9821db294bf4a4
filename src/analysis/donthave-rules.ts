// BEP 54 lt_donthave rules, and the have/bitfield/have_all history they are judged against: which
// pieces each side announced and withdrew, and the requests a donthave leaves outstanding.
import type { MappingView } from '../bittorrent/ext-mapping.js';
import { fits } from '../bittorrent/extensions.js';
import type { MessageRecord } from '../model/record.js';
import { rangeLater, describeCount, fastBoth, pieceBound, type At, type Conn, type DropGroup, type Emit, type Side } from './conn-state.js';
import { formatMapping } from './extended-format.js';

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
  const held = s.holdings;
  const announced = held.has(piece);
  const before = held.donthave(piece, at.ts);
  if (before !== undefined) {
    emit(c, 'donthave-redundant', at, `piece ${piece} was already withdrawn at ${before.toFixed(6)} with no have in between (libtorrent sends one per failed block request)`, piece);
  } else if (!announced) {
    emit(c, 'donthave-not-announced', at, `lt_donthave for piece ${piece}, which ${s.addr} never announced (${announceSummary(s)})`, piece);
  }
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
  if (s.holdings.bitfield !== undefined) parts.push('not in its bitfield');
  if (s.holdings.haves > 0) parts.push(`${s.holdings.haves} have(s), none for it`);
  if (parts.length === 0) parts.push('no bitfield, have_all or have for it');
  return parts.join(', ');
}
