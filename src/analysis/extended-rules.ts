// BEP 10 extended messages: each id as the decoder resolved it through the receiver's mapping
// (the record's ext); lt_donthave and ut_metadata go on to their rules. An id the receiver's mapping
// does not read as sent is judged here: the sender's own id (the direction bug), a stale id, or
// unknown. The mappings are the decoder's (DecodeContext), not rebuilt here.
import type { MappingView } from '../bittorrent/ext-mapping.js';
import { fits } from '../bittorrent/extensions.js';
import type { DecodeContext, MessageRecord } from '../model/record.js';
import type { At, Conn, Emit, Side } from './conn-state.js';
import { donthave, donthaveUnsupported } from './donthave-rules.js';
import { formatMapping, misfit } from './extended-format.js';
import type { MetadataAssembler } from './metadata-assembly.js';

export interface ExtendedContext {
  emit: Emit;
  metadata: MetadataAssembler;
}

/** An extended message from `s` to `p`, with the mappings the decoder resolved it with. */
export function extended(x: ExtendedContext, c: Conn, s: Side, p: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At, context?: DecodeContext): void {
  const id = r.extId;
  if (id === 0 || r.ext === 'handshake') return extHandshake(s, r, context);
  if (id === undefined) return;
  const payload = raw !== undefined && raw.length >= 6 ? raw.subarray(6) : undefined;
  const sm = s.mapping;
  const pm = p.mapping;
  const own = sm?.name(id);
  if (pm === undefined && r.mappingFrom?.startsWith('--ext-map') === true && typeof r.ext === 'string') {
    // Decode As: the user gave the receiver's mapping; read the message by the name it gave.
    if (r.ext === 'lt_donthave') donthave(x.emit, c, s, p, r, payload, at);
    else if (r.ext === 'ut_metadata') x.metadata.message(c, s, p, r, raw, at);
    return;
  }
  if (pm === undefined) {
    // Judged only when the sender's start and the receiver's direction up to here were captured.
    const guess = own !== undefined ? ` (id ${id} is ${own} in the sender's own mapping)` : '';
    x.emit(c, 'ext-before-handshake', at, `extended message id ${id}${guess} sent before ${p.addr} sent its extended handshake: there is no mapping yet to read it with`);
    return;
  }
  // The receiver's name for the id: the decoder's resolution.
  const theirs = r.ext ?? undefined;
  if (theirs !== undefined && !misfit(theirs, own, payload)) {
    if (theirs === 'lt_donthave') donthave(x.emit, c, s, p, r, payload, at);
    else if (theirs === 'ut_metadata') x.metadata.message(c, s, p, r, raw, at);
    return;
  }
  misread(x.emit, c, s, p, { sm, pm }, id, theirs, own, payload, at);
}

/** A side's mapping counts from its first extended handshake on: the decoder's, which it updated for this one. */
function extHandshake(s: Side, r: MessageRecord, context: DecodeContext | undefined): void {
  s.mapping ??= context?.mappings?.sender;
  if (r.metadata_size !== undefined) s.metadataSize = r.metadata_size;
  if (r.v !== undefined && s.client === undefined) s.client = r.v;
}

/** An extended id the receiver's mapping does not read as sent: the direction bug, a stale id, or unknown. */
function misread(emit: Emit, c: Conn, s: Side, p: Side, maps: { sm: MappingView | undefined; pm: MappingView }, id: number, theirs: string | undefined, own: string | undefined, payload: Uint8Array | undefined, at: At): void {
  const { sm, pm } = maps;
  const size = payload !== undefined ? `its ${payload.length}-byte payload` : 'its payload';
  const where = theirs === undefined ? `id ${id} is not in the receiver's mapping (${formatMapping(pm)})` : `id ${id} is ${theirs} in the receiver's mapping (${formatMapping(pm)}), which ${size} does not fit`;
  const ownFits = own !== undefined && fits(own, payload) !== false;
  if (ownFits && pm.formerly(own, id)) {
    // The receiver itself had `own` at this id: the sender used the receiver's old id, not its own.
    const now = pm.id(own);
    const change = now !== undefined ? `moved ${own} to id ${now}` : `disabled ${own}`;
    emit(c, 'ext-unknown-id', at, `${where}; it was ${own} there until a later extended handshake of ${p.addr} ${change}: the sender used the receiver's old id (or sent this before that handshake reached it)`);
  } else if (ownFits) {
    const evidence = theirs !== undefined && payload !== undefined ? ` (${size} fits ${own}, not ${theirs})` : '';
    const right = pm.id(own);
    const fix = right !== undefined ? `; the receiver's id for ${own} is ${right}` : `; the receiver does not advertise ${own}`;
    const head = theirs === undefined ? where : `id ${id} is ${theirs} in the receiver's mapping (${formatMapping(pm)})`;
    emit(c, 'ext-id-own-mapping', at, `${head} but ${own} in the sender's own (${formatMapping(sm)}): the sender used its own id, so this was most likely ${own}${evidence}${fix}`);
  } else {
    const sender = own === undefined ? `nor in the sender's (${formatMapping(sm)})` : `and in the sender's own (${formatMapping(sm)}) it is ${own}, which ${size} does not fit either`;
    emit(c, 'ext-unknown-id', at, `extended id ${id} is not in the receiver's mapping (${formatMapping(pm)}) ${sender}`);
  }
  if (own === 'lt_donthave' && pm.id('lt_donthave') === undefined) donthaveUnsupported(emit, c, p, pm, at);
}
