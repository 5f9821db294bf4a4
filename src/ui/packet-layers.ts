// The lower layers of the details tree, as in Wireshark: Frame, then link, IP and TCP or uTP of the
// packet that completed the message. The packet is read back from the capture file by frame number
// (nothing of it is kept in memory); its headers are decoded by their owners (net/decode.ts, the
// uTP reassembler's header parser), never re-parsed here.
import type { AnyRecord } from '../model/record.js';
import { decodeLink, linkTypeName } from '../net/decode.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../net/types.js';
import { parseUtpHeader } from '../transport/utp-reassembler.js';
import { escapeText } from '../output/escape.js';
import { isoTime } from '../output/time-format.js';
import type { FieldNode } from './field-tree.js';
import type { FramePacket } from '../capture/types.js';

export type { FramePacket } from '../capture/types.js';

const UTP_TYPES = ['ST_DATA', 'ST_FIN', 'ST_STATE', 'ST_RESET', 'ST_SYN'];

/**
 * The Frame layer and, when the packet could be read back, its link, IP and transport layers.
 * `packet` is a string saying why it could not be (shown as one line under Frame).
 */
export function packetLayers(r: AnyRecord, frame: number, packet: FramePacket | string): FieldNode[] {
  const nodes: FieldNode[] = [];
  const length = typeof packet === 'string' ? '' : `, ${packet.data.length} bytes captured`;
  const ts = r.ts ?? 0;
  const date = isoTime(ts, 3);
  nodes.push({ depth: 0, heading: true, label: `Frame ${frame}`, value: `${date}${length}` });
  nodes.push({ depth: 1, label: 'number', value: String(frame) });
  nodes.push({ depth: 1, label: 'time', value: `${ts} s since the epoch` });
  if (typeof packet === 'string') {
    nodes.push({ depth: 1, label: 'lower layers', value: `not shown: ${packet}` });
    return nodes;
  }
  nodes.push({ depth: 1, label: 'captured length', value: String(packet.data.length) });
  nodes.push({ depth: 1, label: 'link type', value: `${packet.linkType} (${linkTypeName(packet.linkType)})` });
  const net = decodeLink(packet.linkType, packet.data);
  if (net === null || typeof net === 'string') {
    nodes.push({ depth: 1, label: 'lower layers', value: `not decoded: ${net ?? 'not TCP or UDP over IP'}` });
    return nodes;
  }
  nodes.push({ depth: 0, heading: true, label: linkTypeName(packet.linkType), value: `link type ${packet.linkType}` });
  nodes.push({ depth: 0, heading: true, label: `IPv${net.ipVersion}`, value: `${net.srcIp} -> ${net.dstIp}` });
  nodes.push({ depth: 1, label: 'source', value: net.srcIp });
  nodes.push({ depth: 1, label: 'destination', value: net.dstIp });
  const ports = (depth: number): void => {
    nodes.push({ depth, label: 'source port', value: String(net.srcPort) });
    nodes.push({ depth, label: 'destination port', value: String(net.dstPort) });
  };
  if (net.proto === 'tcp') {
    nodes.push({ depth: 0, heading: true, label: 'TCP', value: `${net.srcPort} -> ${net.dstPort}, seq ${net.seq}, ${net.payload.length} bytes` });
    ports(1);
    nodes.push({ depth: 1, label: 'sequence number', value: String(net.seq) });
    nodes.push({ depth: 1, label: 'acknowledgment number', value: String(net.ack) });
    nodes.push({ depth: 1, label: 'flags', value: tcpFlags(net.flags) });
    nodes.push({ depth: 1, label: 'payload length', value: String(net.payload.length) });
    return nodes;
  }
  nodes.push({ depth: 0, heading: true, label: 'UDP', value: `${net.srcPort} -> ${net.dstPort}, ${net.payload.length} bytes` });
  ports(1);
  const utp = parseUtpHeader(net.payload);
  if (utp === null) {
    nodes.push({ depth: 1, label: 'uTP', value: 'not a uTP header' });
    return nodes;
  }
  nodes.push({ depth: 0, heading: true, label: 'uTP', value: `${UTP_TYPES[utp.type] ?? utp.type}, conn ${utp.connId}, seq ${utp.seq}` });
  nodes.push({ depth: 1, label: 'type', value: escapeText(UTP_TYPES[utp.type] ?? String(utp.type), 20) });
  nodes.push({ depth: 1, label: 'connection id', value: String(utp.connId) });
  nodes.push({ depth: 1, label: 'seq_nr', value: String(utp.seq) });
  nodes.push({ depth: 1, label: 'ack_nr', value: String(utp.ack) });
  nodes.push({ depth: 1, label: 'payload length', value: String(net.payload.length - utp.payloadOffset) });
  return nodes;
}

function tcpFlags(flags: number): string {
  const names: [number, string][] = [[TCP_SYN, 'SYN'], [TCP_ACK, 'ACK'], [TCP_PSH, 'PSH'], [TCP_FIN, 'FIN'], [TCP_RST, 'RST']];
  const set = names.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return `0x${flags.toString(16).padStart(3, '0')}${set.length > 0 ? ` (${set.join(', ')})` : ''}`;
}
