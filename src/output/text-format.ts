// One line of text per record, for the text timeline (stdout not a terminal, or --no-tui).
// Every string that came from the wire goes through escapeText.
import type { AnyRecord, EventRecord, MessageRecord, SideSummary } from '../model/record.js';
import { escapeText } from './escape.js';
import { formatTime, secondsSince } from './time-format.js';

/** Marks lt_donthave lines so they stand out in a plain-text timeline. */
export const DONTHAVE_MARK = '>>';

/** The frame column: the capture packet's number (Wireshark's No.); nothing when frames are not known. */
function frameColumn(frame: number | undefined): string {
  return frame === undefined ? '' : `frame ${String(frame).padEnd(6)} `;
}

/** Where a late finding's line goes: when it was judged (see EventRecord.late). */
export function judgedAt(r: AnyRecord): { ts: number | undefined; frame: number | undefined } {
  if ('late' in r && r.late === true) return { ts: r.judgedTs ?? r.ts, frame: r.judgedFrame ?? r.frame };
  return { ts: r.ts, frame: r.frame };
}

/** An input warning's message, escaped, with its byte offset unless the message already names it. */
export function inputWarningText(r: { message: string; offset?: number }): string {
  const at = r.offset !== undefined && !r.message.includes(`at byte ${r.offset}`) ? ` (at byte ${r.offset})` : '';
  return escapeText(r.message) + at;
}

/**
 * One timeline line: time since `t0`, frame, connection, direction, what. A late finding's line is
 * at the time it was judged and names its message's time and frame.
 */
export function formatRecord(r: AnyRecord, t0: number): string {
  if (!('conn' in r)) return `${formatTime(r.ts, t0)}  ${frameColumn(r.frame)}warning: ${inputWarningText(r)}`;
  const at = judgedAt(r);
  const head = `${formatTime(at.ts, t0)}  ${frameColumn(at.frame)}#${r.conn}${r.transport === 'utp' ? ' utp' : ''}  ${r.src} -> ${r.dst}  `;
  return head + ('msg' in r ? describeMessage(r) : describeEvent(r, t0));
}

/** "(late: judged after its message at 0.123456, frame 42)" for a late finding, else "". */
export function lateNote(r: EventRecord, t0: number): string {
  if (r.late !== true) return '';
  const frame = r.frame !== undefined ? `, frame ${r.frame}` : '';
  return ` (late: judged after its message at ${secondsSince(r.ts, t0)}${frame})`;
}

export function describeMessage(r: MessageRecord): string {
  let text = messageBody(r);
  if (r.malformed !== undefined) text += `  [malformed: ${escapeText(r.malformed)}]`;
  if (r.probably !== undefined) text += `  [probably ${escapeText(r.probably)} (${escapeText(r.probablyWhy ?? 'a guess')})${probableFields(r)}]`;
  if (r.resync) text += '  [after resync]';
  return text;
}

/** The key fields of an unresolved message's payload decoded as its probable extension. */
function probableFields(r: MessageRecord): string {
  if (r.piece !== undefined) return ` piece=${r.piece}`;
  if (r.msg_type !== undefined) return ` msg_type=${r.msg_type}${metadataTypeName(r.msg_type)}`;
  return '';
}

function messageBody(r: MessageRecord): string {
  switch (r.msg) {
    case 'handshake':
      return handshakeText(r);
    case 'have':
    case 'suggest_piece':
    case 'allowed_fast':
      return `${r.msg} piece=${r.piece ?? '?'}`;
    case 'request':
    case 'piece':
    case 'cancel':
    case 'reject_request':
      return `${r.msg} piece=${r.piece ?? '?'} begin=${r.begin ?? '?'} length=${r.length ?? '?'}`;
    case 'bitfield':
      return r.bits !== undefined ? `bitfield ${r.set ?? 0}/${r.bits} bits set` : 'bitfield';
    case 'port':
      return `port ${r.port ?? '?'}`;
    case 'hash_request':
    case 'hashes':
    case 'hash_reject':
      return hashText(r);
    case 'extended':
      return extendedText(r);
    case 'unknown':
      return `unknown id=${r.id ?? '?'} ${r.size} bytes`;
    default:
      return r.msg;
  }
}

function handshakeText(r: MessageRecord): string {
  const parts = ['handshake'];
  if (r.client !== undefined) parts.push(`client="${escapeText(r.client)}"`);
  if (r.infoHash !== undefined) parts.push(`info_hash=${r.infoHash}`);
  if (r.extensions !== undefined && r.extensions.length > 0) parts.push(`reserved=[${r.extensions.join(', ')}]`);
  return parts.join(' ');
}

function hashText(r: MessageRecord): string {
  const parts: string[] = [r.msg];
  if (r.piecesRoot !== undefined) parts.push(`root=${r.piecesRoot.slice(0, 16)}…`);
  if (r.baseLayer !== undefined) parts.push(`base_layer=${r.baseLayer}`);
  if (r.index !== undefined) parts.push(`index=${r.index}`);
  if (r.length !== undefined) parts.push(`length=${r.length}`);
  if (r.proofLayers !== undefined) parts.push(`proof_layers=${r.proofLayers}`);
  if (r.hashCount !== undefined) parts.push(`hashes=${r.hashCount}`);
  return parts.join(' ');
}

function extendedText(r: MessageRecord): string {
  if (r.ext === 'handshake') return extendedHandshakeText(r);
  if (r.ext === 'lt_donthave') return `${DONTHAVE_MARK} lt_donthave piece=${r.piece ?? '?'} (ext id ${r.extId ?? '?'})`;
  if (r.ext === null || r.ext === undefined) return `extended id=${r.extId ?? '?'} UNRESOLVED (no name for it in the receiver's mapping as captured) ${r.size} bytes`;
  const parts = [`extended ${escapeText(r.ext)} (id ${r.extId ?? '?'})`];
  if (r.msg_type !== undefined) parts.push(`msg_type=${r.msg_type}${metadataTypeName(r.msg_type)}`);
  const metaPiece = (r as { metaPiece?: number }).metaPiece;
  if (metaPiece !== undefined) parts.push(`piece=${metaPiece}`);
  if (r.total_size !== undefined) parts.push(`total_size=${r.total_size}`);
  if (r.trailing !== undefined && r.trailing > 0) parts.push(`+${r.trailing} bytes`);
  if (r.added !== undefined && r.added.length > 0) parts.push(`added=[${r.added.map((p) => escapeText(p.addr)).join(' ')}]`);
  if (r.dropped !== undefined && r.dropped.length > 0) parts.push(`dropped=[${r.dropped.map(escapeText).join(' ')}]`);
  if (r.upload_only !== undefined) parts.push(`upload_only=${r.upload_only}`);
  if (r.payloadLength !== undefined) parts.push(`${r.payloadLength} bytes`);
  return parts.join(' ');
}

function metadataTypeName(t: number): string {
  return t === 0 ? ' (request)' : t === 1 ? ' (data)' : t === 2 ? ' (reject)' : '';
}

function extendedHandshakeText(r: MessageRecord): string {
  const parts = ['extended handshake'];
  if (r.m !== undefined) parts.push(`m={${formatMapping(r.m)}}`);
  if (r.v !== undefined) parts.push(`v="${escapeText(r.v)}"`);
  if (r.p !== undefined) parts.push(`p=${r.p}`);
  if (r.reqq !== undefined) parts.push(`reqq=${r.reqq}`);
  if (r.metadata_size !== undefined) parts.push(`metadata_size=${r.metadata_size}`);
  if (r.upload_only !== undefined) parts.push(`upload_only=${r.upload_only}`);
  if (r.yourip !== undefined) parts.push(`yourip=${escapeText(r.yourip)}`);
  return parts.join(' ');
}

export function formatMapping(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([name, id]) => `${escapeText(name)}:${id}`)
    .join(', ');
}

export function describeEvent(r: EventRecord, t0 = 0): string {
  switch (r.event) {
    case 'open':
      return 'connection opened';
    case 'close':
      return 'connection closed';
    case 'reset':
      return 'connection reset';
    case 'gap':
      return `-- gap: ${r.bytes ?? '?'} bytes never captured`;
    case 'resync':
      return `-- resync: skipped ${r.bytes ?? 0} bytes to the next message boundary`;
    case 'encrypted':
      return `ENCRYPTED (MSE/PE)${r.message !== undefined ? `: ${escapeText(r.message)}` : ''}`;
    case 'finding':
      return `${(r.severity ?? 'info').toUpperCase()} ${r.finding ?? '?'}${lateNote(r, t0)}: ${escapeText(r.message ?? '')}`;
    case 'summary':
      return 'summary';
    case 'released':
      return `connection released: ${escapeText(r.message ?? '')}`;
    default:
      return `${r.event}${r.message !== undefined ? `: ${escapeText(r.message)}` : ''}`;
  }
}

export function formatSummary(r: EventRecord): string[] {
  const s = r.summary;
  if (s === undefined) return [];
  const lines = [`#${r.conn} ${r.transport} ${s.initiator.addr} <-> ${s.responder.addr}${s.encrypted ? '  ENCRYPTED' : ''}`];
  lines.push(sideLine(s.initiator), sideLine(s.responder));
  const extra = [`gaps: ${s.gaps}`];
  if (s.released) extra.push('released after a silence');
  if (s.findings !== undefined) extra.push(`findings: ${plural(s.findings.error, 'error')}, ${plural(s.findings.warning, 'warning')}, ${s.findings.info} info`);
  if (s.stalls !== undefined && s.stalls.count > 0) extra.push(`stalls: ${s.stalls.count} (longest ${s.stalls.longest.toFixed(1)} s)`);
  if (s.unjudged !== undefined) extra.push(`not judged (the capture lacks what they need): ${unjudgedText(s.unjudged)}`);
  lines.push(`    ${extra.join('; ')}`);
  return lines;
}

/** "ext-before-handshake 2 (receiver-lost-bytes), ..." from an `unjudged` count (peer-free: our own codes). */
export function unjudgedText(u: Record<string, Record<string, number>>): string {
  return Object.entries(u)
    .flatMap(([code, reasons]) => Object.entries(reasons).map(([why, n]) => `${code} ${n} (${why})`))
    .join(', ');
}

/** Findings not judged in an `unjudged` count. */
export function unjudgedTotal(u: Record<string, Record<string, number>>): number {
  let n = 0;
  for (const reasons of Object.values(u)) for (const k of Object.values(reasons)) n += k;
  return n;
}

function sideLine(side: SideSummary): string {
  const who = [side.client, side.v !== undefined ? `v="${side.v}"` : undefined].filter((x) => x !== undefined).map((x) => escapeText(x!));
  const ext = side.extensions !== undefined ? `ext {${formatMapping(side.extensions)}}` : 'no extended handshake';
  return `    ${side.addr}  ${who.join(' ') || 'unknown client'}  ${ext}  ${side.messages} msgs, ${side.bytes} bytes, lt_donthave x${side.donthave}`;
}

/** "1 error", "2 errors", "0 warnings". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `count` connections, `released` of them after a silence. */
export function summaryHeader(count: number, released = 0, summarisedEarlier = 0): string {
  const earlier = summarisedEarlier > 0 ? `, ${summarisedEarlier === released ? 'each' : summarisedEarlier} summarised in the timeline where it was released` : '';
  const note = released > 0 ? ` (${released} released after a silence${earlier})` : '';
  return `${count} BitTorrent connection${count === 1 ? '' : 's'}${note}`;
}

