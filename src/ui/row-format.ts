// One timeline row as text: time, frame, connection, direction, message name, key fields, and a marker
// column that makes lt_donthave rows, unresolved ids, malformed messages, gaps and findings stand out.
import type { AnyRecord, MessageRecord } from '../model/record.js';
import { escapeText } from '../output/escape.js';
import { rowTime, type RowTime } from '../output/time-format.js';
import type { ConnectionInfo, RecordStore } from '../model/store.js';

export type RowKind = 'donthave' | 'unresolved' | 'malformed' | 'gap' | 'finding' | 'event' | 'plain';

export interface RowText {
  marker: string;
  text: string;
  kind: RowKind;
}

export function rowKind(r: AnyRecord): RowKind {
  if ('msg' in r) {
    if (r.ext === 'lt_donthave') return 'donthave';
    if (r.malformed !== undefined) return 'malformed';
    if (r.msg === 'extended' && r.ext === null) return 'unresolved';
    if (r.resync) return 'gap';
    return 'plain';
  }
  if (r.event === 'gap' || r.event === 'resync') return 'gap';
  if (r.event === 'malformed') return 'malformed';
  if (r.event === 'finding' || r.event === 'warning') return 'finding';
  return 'event';
}

const MARKERS: Record<RowKind, string> = { donthave: '◆', unresolved: '?', malformed: '✗', gap: '~', finding: '!', event: '·', plain: ' ' };

/** Below this width the addresses give way to the connection number and an arrow (see addressLegend). */
export const COMPACT_WIDTH = 100;

/**
 * One row. `time` may be the capture's first timestamp (times since the start). Below COMPACT_WIDTH
 * the two addresses become "#conn ->" / "#conn <-" (-> is from the initiator): the message name and
 * its key fields (the piece index first) keep their room.
 */
export function formatRow(r: AnyRecord, time: number | RowTime, info: ConnectionInfo | undefined, width: number, frames = false): RowText {
  const kind = rowKind(r);
  const clock = typeof time === 'number' ? { display: 'start' as const, base: time } : time;
  const compact = width < COMPACT_WIDTH;
  // The capture packet's number, as Wireshark's No. column shows it (`frames`: the records carry
  // them: a capture file, or the proxy's --save file); left out of a narrow row.
  const frame = frames && !compact ? ` ${(r.frame !== undefined ? String(r.frame) : '').padStart(7)}` : '';
  let where = '';
  if ('conn' in r) {
    const forward = info === undefined || r.src === info.addr[0];
    where = compact
      ? `#${r.conn} ${forward ? '->' : '<-'}`
      : `#${String(r.conn).padEnd(3)} ${shortAddr(forward ? r.src : r.dst)}${forward ? ' -> ' : ' <- '}${shortAddr(forward ? r.dst : r.src)}`;
  }
  const name = 'msg' in r ? messageName(r) : r.event.toUpperCase();
  // Escaped once, as a whole: every part may carry peer-controlled text.
  const text = `${rowTime(r.ts, clock, width >= COMPACT_WIDTH)}${frame} ${where.padEnd(compact ? 8 : 44)} ${name.padEnd(compact ? 14 : 16)} ${keyFields(r)}`;
  return { marker: MARKERS[kind], text: escapeText(text, Math.max(0, width - 2)), kind };
}

/** The compact rows' legend: which addresses "#conn ->" stands for. */
export function addressLegend(conn: number, info: ConnectionInfo | undefined): string {
  if (info === undefined) return `#${conn}`;
  return `#${conn}: -> is ${escapeText(info.addr[0], 46)} to ${escapeText(info.addr[1], 46)}`;
}

function shortAddr(a: string): string {
  return (a.length > 21 ? a.slice(0, 20) + '…' : a).padEnd(21);
}

function messageName(r: MessageRecord): string {
  if (r.msg !== 'extended') return r.msg;
  if (r.ext === null || r.ext === undefined) return `ext#${r.extId ?? '?'}`;
  return r.ext === 'handshake' ? 'ext handshake' : r.ext;
}

/** Unescaped: the caller escapes. */
export function keyFields(r: AnyRecord): string {
  const parts: string[] = [];
  if ('msg' in r) {
    if (r.piece !== undefined) parts.push(`piece=${r.piece}`);
    if (r.begin !== undefined) parts.push(`begin=${r.begin}`);
    if (r.length !== undefined) parts.push(`length=${r.length}`);
    if (r.msg === 'bitfield' && r.bits !== undefined) parts.push(`bits=${r.bits} set=${r.set ?? '?'}`);
    if (r.msg === 'port' && r.port !== undefined) parts.push(`port=${r.port}`);
    if (r.msg === 'handshake' && r.client !== undefined) parts.push(r.client);
    if (r.msg === 'extended') {
      if (r.ext === null) parts.push(`unresolved id ${r.extId ?? '?'}${r.probably !== undefined ? `, probably ${r.probably}` : ''}`);
      else if (r.extId !== undefined && r.ext !== 'handshake') parts.push(`id=${r.extId}`);
      if (r.v !== undefined) parts.push(r.v);
      if (r.m !== undefined) parts.push(Object.entries(r.m).map(([k, v]) => `${k}:${v}`).join(' '));
    }
    if (r.malformed !== undefined) parts.push(`malformed: ${r.malformed}`);
    if (r.resync) parts.push('(resync)');
    parts.push(`${r.size}B`);
  } else {
    if ('finding' in r && r.finding !== undefined) parts.push(`${r.severity ?? ''} ${r.finding}${r.late === true ? ' (late)' : ''}`);
    if ('piece' in r && r.piece !== undefined) parts.push(`piece=${r.piece}`);
    if ('bytes' in r && r.bytes !== undefined) parts.push(`${r.bytes} bytes`);
    if (r.message !== undefined) parts.push(r.message);
  }
  return parts.join('  ');
}

/** What row times are relative to: the capture's first packet, else the first timestamp among the first records. */
export function firstTimestamp(store: RecordStore): number {
  if (store.origin !== undefined) return store.origin;
  for (let i = 0; i < Math.min(store.size, 16); i++) {
    const ts = store.ts(i);
    if (ts !== undefined) return ts;
  }
  return 0;
}
