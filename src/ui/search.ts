// Ctrl-F: find the next record (after a view position, wrapping once) whose text matches, or whose
// bytes contain a hex sequence. The text is what the timeline and the JSON say of the record: its
// described line and every field, peer strings included (client, v, probablyWhy...), compared
// without case. Plain code over the store.
import type { RecordStore } from '../model/store.js';
import type { AnyRecord } from '../model/record.js';
import { formatRecord } from '../output/text-format.js';

/** Bytes a hex search may name (a search is typed: this bounds nothing real, only nonsense). */
const MAX_HEX_QUERY = 256;

/** "13 42 69", "134269", "0x13,0x42": the bytes, or why the text is not a hex byte sequence. */
export function parseHexQuery(text: string): Uint8Array | string {
  const digits = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length === 0 || digits.length % 2 !== 0) return `not hex bytes: ${text.slice(0, 40)} (e.g. 00 00 00 05 14)`;
  if (digits.length / 2 > MAX_HEX_QUERY) return `a hex search takes at most ${MAX_HEX_QUERY} bytes`;
  return Uint8Array.from(digits.match(/../g)!, (h) => parseInt(h, 16));
}

/** The text a record is searched in. */
export function searchText(r: AnyRecord): string {
  return `${formatRecord(r, r.ts ?? 0)}\n${JSON.stringify(r)}`.toLowerCase();
}

export type Found = { pos: number; offset?: number } | -1;

type SearchStore = Pick<RecordStore, 'view' | 'record' | 'bytes'>;

/** The first view position after `from` (wrapping, `from` itself last) that matches. */
export function findInView(store: SearchStore, from: number, query: string, bytes: boolean): Found {
  const n = store.view.length;
  if (n === 0) return -1;
  const hex = bytes ? parseHexQuery(query) : undefined;
  if (typeof hex === 'string') return -1;
  const needle = query.toLowerCase();
  for (let step = 1; step <= n; step++) {
    const pos = (((from + step) % n) + n) % n;
    const index = store.view[pos]!;
    if (hex === undefined) {
      const r = store.record(index);
      if (r !== undefined && searchText(r).includes(needle)) return { pos };
      continue;
    }
    const b = store.bytes(index)?.bytes;
    const offset = b === undefined ? -1 : indexOf(b, hex);
    if (offset >= 0) return { pos, offset };
  }
  return -1;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
