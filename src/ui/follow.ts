// Follow a connection (Wireshark's Follow TCP Stream), as plain functions over the store: a ladder of
// its messages between the two peers' columns, and its bytes in both directions as hex and ASCII
// with each message's boundary marked. Only the lines on screen are formatted: the bytes view knows
// how many lines each message takes without reading it.
import type { RecordStore } from '../model/store.js';
import type { MessageRecord } from '../model/record.js';
import { escapeText } from '../output/escape.js';
import { keyFields } from './row-format.js';

type FollowStore = Pick<RecordStore, 'record' | 'size' | 'bytes' | 'connectionInfo'>;

/** The message records of `conn`, in capture order (indices into the store). */
export function connectionMessages(store: FollowStore, conn: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < store.size; i++) {
    const r = store.record(i)!;
    if ('msg' in r && r.conn === conn) out.push(i);
  }
  return out;
}

/** Header and one ladder line per message: A's column on the left, B's on the right. */
export function ladderLines(store: FollowStore, conn: number, messages: readonly number[], from: number, count: number, width: number): string[] {
  const info = store.connectionInfo(conn);
  const a = info?.addr[0] ?? '?';
  const t0 = messages.length > 0 ? (store.record(messages[0]!)!.ts ?? 0) : 0;
  const lines: string[] = [];
  for (let k = from; k < Math.min(messages.length, from + count); k++) {
    const r = store.record(messages[k]!) as MessageRecord;
    const name = r.msg !== 'extended' ? r.msg : r.ext === null || r.ext === undefined ? `ext#${r.extId ?? '?'}` : r.ext === 'handshake' ? 'ext handshake' : r.ext;
    // Escaped before it is measured: an escaped peer string is longer than the raw one.
    const label = ` ${escapeText(`${name} ${keyFields(r)}`)} `;
    const span = Math.max(10, width - 14);
    const body = [...label].length + 3 > span ? [...label].slice(0, span - 4).join('') + '… ' : label;
    const fill = '─'.repeat(Math.max(0, span - [...body].length - 2));
    const arrow = r.src === a ? `├${body}${fill}▶` : `◀${fill}${body}┤`;
    lines.push(`${('+' + ((r.ts ?? t0) - t0).toFixed(3)).padStart(11)} ${arrow}`);
  }
  return lines;
}

export function ladderHeader(store: FollowStore, conn: number, width: number): string {
  const info = store.connectionInfo(conn);
  const a = escapeText(info?.addr[0] ?? '?', 46);
  const b = escapeText(info?.addr[1] ?? '?', 46);
  return `${' '.repeat(12)}A ${a}${' '.repeat(Math.max(1, width - 16 - a.length - b.length))}B ${b}`;
}

const HEX = '0123456789abcdef';

/** Lines a message takes in the bytes view: its boundary line and its bytes. */
function messageLines(total: number, perLine: number): number {
  return 1 + Math.ceil(total / perLine);
}

/** How many lines the bytes view has (for scrolling); cheap: sizes only. */
export function bytesLineCount(store: FollowStore, messages: readonly number[], perLine: number): number {
  let n = 0;
  for (const i of messages) n += messageLines((store.record(i) as MessageRecord).size, perLine);
  return n;
}

/** Lines `from`..`from+count` of the bytes view: "── A -> B piece (16397 bytes) ──", then hex and ASCII. */
export function bytesLines(store: FollowStore, conn: number, messages: readonly number[], from: number, count: number, perLine: number): string[] {
  const a = store.connectionInfo(conn)?.addr[0];
  const lines: string[] = [];
  let line = 0;
  for (const i of messages) {
    const r = store.record(i) as MessageRecord;
    const n = messageLines(r.size, perLine);
    if (line + n <= from) {
      line += n;
      continue;
    }
    if (line >= from + count) break;
    const got = store.bytes(i);
    for (let k = 0; k < n && line < from + count; k++, line++) {
      if (line < from) continue;
      if (k === 0) {
        const name = r.msg === 'extended' ? (r.ext ?? `ext#${r.extId ?? '?'}`) : r.msg;
        lines.push(escapeText(`── ${r.src === a ? 'A -> B' : 'B -> A'} ${name} (${r.size} bytes) ──`));
        continue;
      }
      const offset = (k - 1) * perLine;
      const chunk = got?.bytes.subarray(offset, offset + perLine);
      if (chunk === undefined || chunk.length === 0) {
        // A message takes its lines whether its bytes were kept or not (the scroll counts on it):
        // the first says why, the others stay empty.
        const kept = got?.bytes.length ?? 0;
        lines.push(offset === Math.ceil(kept / perLine) * perLine ? `${offset.toString(16).padStart(6, '0')}  (${r.size - kept} bytes not kept: ${escapeText(got?.note ?? 'no bytes', 80)})` : '');
        continue;
      }
      let hex = '';
      let ascii = '';
      for (const b of chunk) {
        hex += HEX[b >> 4]! + HEX[b & 15]! + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      }
      lines.push(`${offset.toString(16).padStart(6, '0')}  ${hex.padEnd(perLine * 3)} ${ascii}`);
    }
  }
  return lines;
}

/** The connection's bytes, both directions in capture order, as Follow TCP Stream's "raw" save writes them. */
export function connectionBytes(store: FollowStore, messages: readonly number[]): { bytes: Uint8Array; missing: number } {
  const parts: Uint8Array[] = [];
  let missing = 0;
  for (const i of messages) {
    const got = store.bytes(i);
    const size = (store.record(i) as MessageRecord).size;
    if (got === undefined) missing += size;
    else {
      parts.push(got.bytes);
      missing += size - got.bytes.length;
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, missing };
}
