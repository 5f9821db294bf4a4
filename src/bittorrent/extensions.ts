// BEP 10 extended messages: the payload decoders for the extensions ltdh-inspect knows (BEP 9 ut_metadata, BEP 11 ut_pex, BEP 54 lt_donthave,
// upload_only, BEP 55 ut_holepunch), and the one test of whether a payload has an extension's shape.
// Everything else is reported raw. The mappings are in ext-mapping.ts.
import type { JsonValue, MessageRecord, PexPeer } from '../model/record.js';
import { canonicalDict, decodeBencode, isBytes, isDict, isInt, printableText, toJsonValue, valueAt, type BValue } from './bencode.js';
import { readU16, readU32 } from './wire.js';
import { formatIpv6 } from '../net/decode.js';
import { MAX_EXTENSION_ID, MAX_MAPPING_ENTRIES } from './ext-mapping.js';

/** Peers listed per pex list; the rest are counted. */
const MAX_PEX_PEERS = 1000;

// The mappings live in ext-mapping.ts; importable from here as before.
export { AdvertisedMappings, ExtensionMapping, GivenMappings, hostOf, parseExtMap, type AdvertisedName, type GivenMapping, type MappingView } from './ext-mapping.js';

export type ExtendedFields = Partial<MessageRecord>;

/** A top-level entry of an extended handshake; for a dictionary value, its entries (what `m` needs). */
type HandshakeEntry = [key: string, value: BValue, entries: readonly (readonly [string, BValue])[] | undefined];

/**
 * Extended handshake (id 0): the dictionary and the mapping it announces (already validated). A
 * canonical dictionary is read in place (canonicalDict): the values are read without the package, and
 * of `m` only the entries the mapping can keep (an `m` of 30,000 keys decoded whole, then listed, took
 * two thirds of the time). Anything else goes through decodeBencode, the package; so does everything
 * with `viaPackage`, the reference the tests hold the first way to.
 */
export function decodeExtendedHandshake(payload: Uint8Array, viaPackage = false): { fields: ExtendedFields; m?: Record<string, number> } {
  const inPlace = viaPackage ? undefined : readInPlace(payload);
  if (inPlace !== undefined) return handshakeFields(inPlace.entries, inPlace.end, payload.length);
  const decoded = decodeBencode(payload);
  if (!decoded.ok) return { fields: { malformed: decoded.error } };
  const dict = decoded.value;
  if (!isDict(dict)) return { fields: { malformed: 'extended handshake is not a bencoded dictionary' } };
  const entries = Object.entries(dict).map(([k, v]): HandshakeEntry => [k, v, k === 'm' && isDict(v) ? Object.entries(v) : undefined]);
  return handshakeFields(entries, decoded.end, payload.length);
}

/** A canonical handshake's entries read in place, `m` cut after the entries the mapping keeps; undefined otherwise. */
function readInPlace(payload: Uint8Array): { entries: HandshakeEntry[]; end: number } | undefined {
  const top = canonicalDict(payload, 0, Infinity, 0, { key: 'm', keep: MAX_MAPPING_ENTRIES + 1 });
  if (top === undefined) return undefined;
  const entries = top.entries.map((e): HandshakeEntry => {
    if (e.dict === undefined) return [e.key, valueAt(payload, e), undefined];
    return [e.key, {}, e.dict.entries.map((x) => [x.key, valueAt(payload, x)] as const)];
  });
  return { entries, end: top.end };
}

function handshakeFields(entries: readonly HandshakeEntry[], end: number, length: number): { fields: ExtendedFields; m?: Record<string, number> } {
  const fields: ExtendedFields = {};
  const problems: string[] = [];
  let m: Record<string, number> | undefined;
  const rest: Record<string, JsonValue> = {};
  for (const [key, value, dictEntries] of entries) {
    switch (key) {
      case 'm':
        m = mappingOf(dictEntries, problems);
        break;
      case 'v':
        if (isBytes(value)) fields.v = looseText(value);
        else problems.push('v is not a string');
        break;
      case 'yourip':
        if (isBytes(value) && (value.length === 4 || value.length === 16)) fields.yourip = ipText(value);
        else problems.push('yourip is not a 4- or 16-byte address');
        break;
      case 'p':
      case 'reqq':
      case 'metadata_size':
      case 'upload_only':
        if (isInt(value)) fields[key] = value;
        else problems.push(`${key} is not an integer`);
        break;
      default:
        rest[key] = toJsonValue(value);
    }
  }
  if (m !== undefined) fields.m = m;
  if (Object.keys(rest).length > 0) fields.fields = rest;
  if (end < length) fields.trailing = length - end;
  if (problems.length > 0) fields.malformed = problems.join('; ');
  return m !== undefined ? { fields, m } : { fields };
}

/** `entries`: those of the `m` dictionary (undefined: m is not one), at least the first MAX_MAPPING_ENTRIES + 1. */
function mappingOf(entries: Iterable<readonly [string, BValue]> | undefined, problems: string[]): Record<string, number> | undefined {
  if (entries === undefined) {
    problems.push('m is not a dictionary');
    return undefined;
  }
  const m: Record<string, number> = {};
  let n = 0;
  for (const [name, id] of entries) {
    if (n++ >= MAX_MAPPING_ENTRIES) {
      problems.push(`m has more than ${MAX_MAPPING_ENTRIES} entries`);
      break;
    }
    if (!isInt(id) || id < 0 || id > MAX_EXTENSION_ID) {
      problems.push(`m.${name} is not an id from 0 to ${MAX_EXTENSION_ID}`);
      continue;
    }
    m[name] = id;
  }
  return m;
}

/** Decodes the payload of an extended message by the extension name it resolved to. */
export function decodeExtensionPayload(name: string, payload: Uint8Array): ExtendedFields {
  switch (name) {
    case 'lt_donthave':
      return fits(name, payload) ? { piece: readU32(payload, 0) } : { malformed: `lt_donthave payload is ${payload.length} bytes, expected 4` };
    case 'ut_metadata':
      return decodeMetadata(payload);
    case 'ut_pex':
      return decodePex(payload);
    case 'upload_only':
      return fits(name, payload) ? { upload_only: payload[0]! } : { malformed: `upload_only payload is ${payload.length} bytes, expected 1`, payloadLength: payload.length };
    case 'ut_holepunch':
      return decodeHolepunch(payload);
    default:
      return { payloadLength: payload.length };
  }
}

/**
 * Whether a payload has the shape of an extension's messages (undefined: unknown extension or no
 * payload). The decoder decodes by it and the analyzer tells which mapping a sender used by it.
 */
export function fits(name: string, payload: Uint8Array | undefined): boolean | undefined {
  if (payload === undefined) return undefined;
  switch (name) {
    case 'lt_donthave':
      return payload.length === 4;
    case 'upload_only':
    case 'share_mode':
      return payload.length === 1;
    case 'ut_holepunch':
      return payload.length === 12 || payload.length === 24;
    case 'ut_metadata':
      return payload[0] === 0x64 && includesAscii(payload, '8:msg_type');
    case 'ut_pex':
      return payload[0] === 0x64 && !includesAscii(payload, '8:msg_type');
    default:
      return undefined;
  }
}

function includesAscii(b: Uint8Array, s: string): boolean {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 1024)).includes(s, 0, 'latin1');
}

function decodeMetadata(payload: Uint8Array): ExtendedFields {
  const decoded = decodeBencode(payload);
  if (!decoded.ok) return { malformed: decoded.error, payloadLength: payload.length };
  const d = decoded.value;
  if (!isDict(d)) return { malformed: 'ut_metadata message is not a bencoded dictionary', payloadLength: payload.length };
  const fields: ExtendedFields = {};
  const problems: string[] = [];
  if (isInt(d['msg_type'])) fields.msg_type = d['msg_type'];
  else problems.push('no integer msg_type');
  if (isInt(d['piece'])) fields.index = d['piece'];
  else problems.push('no integer piece');
  if (isInt(d['total_size'])) fields.total_size = d['total_size'];
  if (decoded.end < payload.length) fields.trailing = payload.length - decoded.end;
  if (fields.msg_type === 1 && fields.trailing === undefined) problems.push('data message without metadata bytes');
  if (problems.length > 0) fields.malformed = problems.join('; ');
  return fields;
}

function decodePex(payload: Uint8Array): ExtendedFields {
  const decoded = decodeBencode(payload);
  if (!decoded.ok) return { malformed: decoded.error, payloadLength: payload.length };
  const d = decoded.value;
  if (!isDict(d)) return { malformed: 'ut_pex message is not a bencoded dictionary', payloadLength: payload.length };
  const problems: string[] = [];
  const added = [...compactPeers(d['added'], d['added.f'], 6, problems), ...compactPeers(d['added6'], d['added6.f'], 18, problems)];
  const dropped = [...compactPeers(d['dropped'], undefined, 6, problems), ...compactPeers(d['dropped6'], undefined, 18, problems)].map((p) => p.addr);
  const fields: ExtendedFields = { added, dropped };
  if (problems.length > 0) fields.malformed = problems.join('; ');
  return fields;
}

function compactPeers(list: BValue | undefined, flags: BValue | undefined, width: 6 | 18, problems: string[]): PexPeer[] {
  if (list === undefined) return [];
  if (!isBytes(list) || list.length % width !== 0) {
    problems.push(`peer list is not a whole number of ${width}-byte entries`);
    return [];
  }
  const f = isBytes(flags) ? flags : undefined;
  const peers: PexPeer[] = [];
  const count = Math.min(list.length / width, MAX_PEX_PEERS);
  for (let i = 0; i < count; i++) {
    const at = i * width;
    const peer: PexPeer = { addr: endpointText(list.subarray(at, at + width - 2), readU16(list, at + width - 2)) };
    if (f !== undefined && i < f.length) peer.flags = f[i]!;
    peers.push(peer);
  }
  if (list.length / width > MAX_PEX_PEERS) problems.push(`${list.length / width - MAX_PEX_PEERS} more peers not listed`);
  return peers;
}

function decodeHolepunch(payload: Uint8Array): ExtendedFields {
  if (payload.length < 2) return { malformed: `ut_holepunch payload is ${payload.length} bytes`, payloadLength: payload.length };
  const type = payload[0]!;
  const addrType = payload[1]!;
  const width = addrType === 0 ? 4 : addrType === 1 ? 16 : -1;
  if (width < 0) return { hp_type: type, malformed: `ut_holepunch address type ${addrType} is neither 0 (IPv4) nor 1 (IPv6)` };
  const expected = 2 + width + 2 + 4;
  if (payload.length !== expected) return { hp_type: type, malformed: `ut_holepunch payload is ${payload.length} bytes, expected ${expected}` };
  return {
    hp_type: type,
    hp_addr: endpointText(payload.subarray(2, 2 + width), readU16(payload, 2 + width)),
    hp_err: readU32(payload, 4 + width),
  };
}

/** "ip:port", IPv6 as "[addr]:port". */
export function endpointText(ip: Uint8Array, port: number): string {
  return ip.length === 16 ? `[${ipText(ip)}]:${port}` : `${ipText(ip)}:${port}`;
}

/** Dotted IPv4 or RFC 5952 IPv6 text of a 4- or 16-byte address. */
export function ipText(ip: Uint8Array): string {
  return ip.length === 4 ? `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}` : formatIpv6(ip, 0);
}

/** UTF-8 text of a peer's string, invalid bytes replaced (escaping happens at display). */
function looseText(b: Uint8Array): string {
  return printableText(b) ?? new TextDecoder('utf-8').decode(b.length > 256 ? b.subarray(0, 256) : b);
}
