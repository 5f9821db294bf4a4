// The details pane's tree: every field of a record, nested values expanded, each with the byte range
// it occupies in the message when the layout fixes it (so the hex pane can highlight it).
import type { AnyRecord, MessageRecord } from '../model/record.js';
import { escapeText } from '../output/escape.js';
import { MESSAGE_BY_NAME } from '../bittorrent/message-table.js';
import { packetLayers, type FramePacket } from './packet-layers.js';

export interface FieldNode {
  depth: number;
  label: string;
  value: string;
  /** [start, end) byte offsets in the message, when known. */
  range?: [number, number];
  /** A layer's heading (Frame, IPv4, TCP, BitTorrent...), shown bold. */
  heading?: true;
}

const MAX_NODES = 2000;

/**
 * With `packet` (the record's frame read back, or why it could not be), the tree is layered as in
 * Wireshark: Frame, link, IP, TCP or uTP, then the BitTorrent message with its fields one level down.
 */
export function fieldTree(r: AnyRecord, packet?: FramePacket | string): FieldNode[] {
  if (packet === undefined || r.frame === undefined) return messageTree(r, 0);
  const heading: FieldNode = 'msg' in r ? { depth: 0, heading: true, label: 'BitTorrent', value: escapeText(r.msg === 'extended' ? `extended ${r.ext ?? r.probably ?? 'unresolved'}` : r.msg, 60) } : { depth: 0, heading: true, label: 'Record', value: escapeText(r.event, 40) };
  return [...packetLayers(r, r.frame, packet), heading, ...messageTree(r, 1)];
}

function messageTree(r: AnyRecord, depth: number): FieldNode[] {
  const nodes: FieldNode[] = [];
  const ranges = 'msg' in r ? byteRanges(r) : {};
  if ('msg' in r && r.msg !== 'handshake') {
    nodes.push({ depth, label: 'length prefix', value: String(r.size - 4), range: [0, 4] });
    if (r.msg !== 'keep_alive') nodes.push({ depth, label: 'id', value: r.msg === 'unknown' ? String(r.id ?? '?') : r.msg, range: [4, 5] });
  }
  for (const [key, value] of Object.entries(r)) addNode(nodes, depth, key, value, ranges[key]);
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
