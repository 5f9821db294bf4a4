// Link layer -> IPv4/IPv6 -> TCP/UDP, by hand on the captured bytes (no copies: the payload is
// a view). Lengths come from the IP header, so Ethernet padding and trailers never become
// payload. A packet cut short by the snaplen yields the payload that was captured; the TCP
// reassembler then sees a shorter segment and reports the rest as a gap.
import type { NetPacket, NetResult } from './types.js';

const LINK_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'BSD loopback (NULL)'],
  [1, 'Ethernet'],
  [6, 'Token Ring'],
  [9, 'PPP'],
  [10, 'FDDI'],
  [12, 'raw IP'],
  [14, 'raw IP'],
  [50, 'PPP in HDLC-like framing'],
  [101, 'raw IP'],
  [104, 'Cisco HDLC'],
  [105, 'IEEE 802.11'],
  [108, 'OpenBSD loopback'],
  [113, 'Linux cooked (SLL)'],
  [119, 'Prism'],
  [127, 'radiotap'],
  [147, 'user-defined (DLT_USER0)'],
  [163, 'AVS'],
  [189, 'Linux USB'],
  [192, 'PPI'],
  [195, 'IEEE 802.15.4'],
  [201, 'Bluetooth HCI H4'],
  [220, 'Linux USB (mmapped)'],
  [228, 'raw IPv4'],
  [229, 'raw IPv6'],
  [249, 'Linux netlink'],
  [251, 'Bluetooth LE'],
  [263, 'pktap'],
  [276, 'Linux cooked v2 (SLL2)'],
]);

const SUPPORTED = new Set([0, 1, 12, 14, 101, 108, 113, 228, 229, 276]);

export function isSupportedLinkType(lt: number): boolean {
  return SUPPORTED.has(lt);
}

export function linkTypeName(lt: number): string {
  return LINK_NAMES.get(lt) ?? `LINKTYPE_${lt}`;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const MAX_VLAN_TAGS = 8;

export function decodeLink(linkType: number, d: Uint8Array): NetResult {
  switch (linkType) {
    case 1:
      return ethernet(d);
    case 113:
      if (d.length < 16) return 'truncated Linux cooked header';
      return etherType(d, 16, (d[14]! << 8) | d[15]!);
    case 276:
      if (d.length < 20) return 'truncated Linux cooked v2 header';
      return etherType(d, 20, (d[0]! << 8) | d[1]!);
    case 0:
      return nullLoopback(d, false);
    case 108:
      return nullLoopback(d, true);
    case 12:
    case 14:
    case 101:
      return rawIp(d, 0);
    case 228:
      return ipv4(d, 0);
    case 229:
      return ipv6(d, 0);
    default:
      return `unsupported link type ${linkType}`;
  }
}

function ethernet(d: Uint8Array): NetResult {
  if (d.length < 14) return 'truncated Ethernet header';
  return etherType(d, 14, (d[12]! << 8) | d[13]!);
}

/** Dispatches on an EtherType at `p`, unwrapping 802.1Q/802.1ad VLAN tags. */
function etherType(d: Uint8Array, p: number, type: number): NetResult {
  for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200; tags++) {
    if (tags === MAX_VLAN_TAGS) return 'too many VLAN tags';
    if (d.length < p + 4) return 'truncated VLAN tag';
    type = (d[p + 2]! << 8) | d[p + 3]!;
    p += 4;
  }
  if (type === ETH_IPV4) return ipv4(d, p);
  if (type === ETH_IPV6) return ipv6(d, p);
  return null;
}

/** BSD loopback: a 4-byte address family, in the capturing host's byte order (LOOP: big-endian). */
function nullLoopback(d: Uint8Array, bigEndianOnly: boolean): NetResult {
  if (d.length < 4) return 'truncated loopback header';
  const be = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  const le = ((d[3]! << 24) | (d[2]! << 16) | (d[1]! << 8) | d[0]!) >>> 0;
  const af = bigEndianOnly || be < 0x10000 ? be : le;
  if (af === 2) return ipv4(d, 4);
  if (af === 24 || af === 28 || af === 30) return ipv6(d, 4);
  return null;
}

function rawIp(d: Uint8Array, p: number): NetResult {
  if (d.length <= p) return 'empty raw IP packet';
  const version = d[p]! >> 4;
  if (version === 4) return ipv4(d, p);
  if (version === 6) return ipv6(d, p);
  return `raw IP packet with IP version ${version}`;
}

function ipv4(d: Uint8Array, p: number): NetResult {
  if (d.length < p + 20) return 'truncated IPv4 header';
  if (d[p]! >> 4 !== 4) return 'IPv4 header with a wrong version';
  const headerLength = (d[p]! & 0x0f) * 4;
  if (headerLength < 20) return 'bad IPv4 header length';
  if (d.length < p + headerLength) return 'truncated IPv4 header';
  const totalLength = (d[p + 2]! << 8) | d[p + 3]!;
  let end: number;
  // Total length 0: a segmentation-offloaded packet captured before the NIC split it.
  if (totalLength === 0) end = d.length;
  else if (totalLength < headerLength) return 'bad IPv4 total length';
  else end = Math.min(p + totalLength, d.length);
  const fragment = (d[p + 6]! << 8) | d[p + 7]!;
  if ((fragment & 0x1fff) !== 0) return null;
  const proto = d[p + 9]!;
  if (proto !== 6 && proto !== 17) return null;
  if (fragment & 0x2000) return 'IPv4 fragment not reassembled';
  const src = ipv4Entry(d, p + 12);
  const dst = ipv4Entry(d, p + 16);
  return transport(d, p + headerLength, end, proto, 4, src, dst);
}

function ipv6(d: Uint8Array, p: number): NetResult {
  if (d.length < p + 40) return 'truncated IPv6 header';
  if (d[p]! >> 4 !== 6) return 'IPv6 header with a wrong version';
  const payloadLength = (d[p + 4]! << 8) | d[p + 5]!;
  const end = payloadLength === 0 ? d.length : Math.min(p + 40 + payloadLength, d.length);
  let next = d[p + 6]!;
  let q = p + 40;
  for (let n = 0; n < 16; n++) {
    if (next === 6 || next === 17) {
      return transport(d, q, end, next, 6, ipv6Entry(d, p + 8), ipv6Entry(d, p + 24));
    }
    if (next === 0 || next === 43 || next === 60 || next === 51 || next === 44) {
      if (end < q + 8) return 'truncated IPv6 extension header';
      if (next === 44) {
        const fragment = (d[q + 2]! << 8) | d[q + 3]!;
        if ((fragment & 0xfff8) !== 0) return null;
        if (fragment & 1) return 'IPv6 fragment not reassembled';
      }
      const length = next === 44 ? 8 : next === 51 ? (d[q + 1]! + 2) * 4 : (d[q + 1]! + 1) * 8;
      next = d[q]!;
      q += length;
      continue;
    }
    return null;
  }
  return 'too many IPv6 extension headers';
}

function transport(d: Uint8Array, p: number, end: number, proto: number, ipVersion: 4 | 6, src: AddressEntry, dst: AddressEntry): NetResult {
  if (proto === 6) {
    if (end < p + 20) return 'truncated TCP header';
    const offset = (d[p + 12]! >> 4) * 4;
    if (offset < 20) return 'bad TCP data offset';
    if (end < p + offset) return 'truncated TCP header';
    const srcPort = (d[p]! << 8) | d[p + 1]!;
    const dstPort = (d[p + 2]! << 8) | d[p + 3]!;
    return packet(ipVersion, src, dst, srcPort, dstPort, 'tcp', u32(d, p + 4), u32(d, p + 8), d[p + 13]!, d.subarray(p + offset, end));
  }
  if (end < p + 8) return 'truncated UDP header';
  const length = (d[p + 4]! << 8) | d[p + 5]!;
  if (length !== 0 && length < 8) return 'bad UDP length';
  // Length 0: an IPv6 jumbogram (or offloaded packet): the IP length rules.
  const udpEnd = length === 0 ? end : Math.min(p + length, end);
  const srcPort = (d[p]! << 8) | d[p + 1]!;
  const dstPort = (d[p + 2]! << 8) | d[p + 3]!;
  return packet(ipVersion, src, dst, srcPort, dstPort, 'udp', 0, 0, 0, d.subarray(p + 8, udpEnd));
}

function packet(
  ipVersion: 4 | 6,
  src: AddressEntry,
  dst: AddressEntry,
  srcPort: number,
  dstPort: number,
  proto: 'tcp' | 'udp',
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array,
): NetPacket {
  return {
    ipVersion,
    srcIp: src.text,
    dstIp: dst.text,
    srcPort,
    dstPort,
    src: endpoint(src, srcPort),
    dst: endpoint(dst, dstPort),
    proto,
    seq,
    ack,
    flags,
    payload,
  };
}

function u32(d: Uint8Array, i: number): number {
  return ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) >>> 0;
}

// ---- address text, cached: the same few addresses and endpoints recur in every packet ----

interface AddressEntry {
  text: string;
  /** "ip:port" by port. */
  endpoints: Map<number, string>;
}

const MAX_CACHED_ADDRESSES = 4096;
const MAX_CACHED_PORTS = 4096;
const ipv4Cache = new Map<number, AddressEntry>();
const IPV6_SLOTS = 16;
const ipv6Keys: Uint8Array[] = [];
const ipv6Entries: AddressEntry[] = [];
let ipv6Next = 0;

function endpoint(entry: AddressEntry, port: number): string {
  let text = entry.endpoints.get(port);
  if (text === undefined) {
    if (entry.endpoints.size >= MAX_CACHED_PORTS) entry.endpoints.clear();
    text = entry.text.includes(':') ? `[${entry.text}]:${port}` : `${entry.text}:${port}`;
    entry.endpoints.set(port, text);
  }
  return text;
}

function ipv4Entry(d: Uint8Array, p: number): AddressEntry {
  const key = u32(d, p);
  let entry = ipv4Cache.get(key);
  if (entry === undefined) {
    if (ipv4Cache.size >= MAX_CACHED_ADDRESSES) ipv4Cache.clear();
    entry = { text: `${d[p]}.${d[p + 1]}.${d[p + 2]}.${d[p + 3]}`, endpoints: new Map() };
    ipv4Cache.set(key, entry);
  }
  return entry;
}

function ipv6Entry(d: Uint8Array, p: number): AddressEntry {
  search: for (let i = 0; i < ipv6Keys.length; i++) {
    const key = ipv6Keys[i]!;
    for (let j = 0; j < 16; j++) if (key[j] !== d[p + j]) continue search;
    return ipv6Entries[i]!;
  }
  const entry: AddressEntry = { text: formatIpv6(d, p), endpoints: new Map() };
  const slot = ipv6Next;
  ipv6Next = (ipv6Next + 1) % IPV6_SLOTS;
  ipv6Keys[slot] = d.slice(p, p + 16);
  ipv6Entries[slot] = entry;
  return entry;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (2+) of zero groups as "::". */
export function formatIpv6(d: Uint8Array, p: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((d[p + 2 * i]! << 8) | d[p + 2 * i + 1]!);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${d[p + 12]}.${d[p + 13]}.${d[p + 14]}.${d[p + 15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}
