// The details pane's tree: every field of a record, nested values expanded, each with the byte range
// it occupies in the message when the layout fixes it (so the hex pane can highlight it).
import type { AnyRecord, MessageRecord } from '../model/record.js';
import { escapeText } from '../output/escape.js';
import { MESSAGE_BY_NAME } from '../bittorrent/message-table.js';

export interface FieldNode {
  depth: number;
  label: string;
  value: string;
  /** [start, end) byte offsets in the message, when known. */
  range?: [number, number];
}

const MAX_NODES = 2000;

export function fieldTree(r: AnyRecord): FieldNode[] {
  const nodes: FieldNode[] = [];
  const ranges = 'msg' in r ? byteRanges(r) : {};
  if ('msg' in r && r.msg !== 'handshake') {
    nodes.push({ depth: 0, label: 'length prefix', value: String(r.size - 4), range: [0, 4] });
    if (r.msg !== 'keep_alive') nodes.push({ depth: 0, label: 'id', value: r.msg === 'unknown' ? String(r.id ?? '?') : r.msg, range: [4, 5] });
  }
  for (const [key, value] of Object.entries(r)) addNode(nodes, 0, key, value, ranges[key]);
  return nodes;
}

function addNode(nodes: FieldNode[], depth: number, key: string, value: unknown, range?: [number, number]): void {
  if (nodes.length >= MAX_NODES) return;
  const label = escapeText(key, 40);
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const isHex = !Array.isArray(value) && entries.length === 1 && entries[0]![0] === 'hex';
    if (isHex) {
      nodes.push({ depth, label, value: `<hex> ${escapeText(String(entries[0]![1]), 200)}`, range });
      return;
    }
    nodes.push({ depth, label, value: Array.isArray(value) ? `[${value.length}]` : `{${entries.length}}`, range });
    for (const [k, v] of entries) addNode(nodes, depth + 1, k, v);
    return;
  }
  const text = String(value);
  nodes.push({ depth, label, value: escapeText(text, 400), range });
}

/** Byte ranges of fields whose position the message layout fixes. */
export function byteRanges(r: MessageRecord): Record<string, [number, number]> {
  switch (r.msg) {
    case 'handshake':
      return { protocol: [1, 20], reserved: [20, 28], infoHash: [28, 48], peerId: [48, 68], client: [48, 68] };
    case 'bitfield':
      return { bits: [5, r.size], set: [5, r.size] };
    case 'extended': {
      const ranges: Record<string, [number, number]> = { extId: [5, 6], ext: [5, 6], mappingFrom: [5, 6] };
      if (r.ext === 'lt_donthave' || (r.ext === null && r.probably === 'lt_donthave')) ranges['piece'] = [6, 10];
      if (r.payloadLength !== undefined) ranges['payloadLength'] = [6, r.size];
      return ranges;
    }
    default:
      // The fields the message table fixes (have, request, piece, cancel, port, ...).
      return Object.fromEntries((MESSAGE_BY_NAME.get(r.msg)?.fields ?? []).map((f) => [f.name, [f.offset, f.offset + f.length]]));
  }
}
