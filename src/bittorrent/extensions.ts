// BEP 10 extended messages: the per-side extension mapping and the payload decoders for the
// extensions ltdh-inspect knows (BEP 9 ut_metadata, BEP 11 ut_pex, BEP 54 lt_donthave,
// upload_only, BEP 55 ut_holepunch). Everything else is reported raw.
import type { JsonValue, MessageRecord, PexPeer } from '../model/record.js';
import { decodeBencode, isBytes, isDict, isInt, printableText, toJsonValue, type BValue } from './bencode.js';
import { readU16, readU32 } from './wire.js';
import { formatIpv6 } from '../net/decode.js';

/** Ids an extension can have on the wire (the id is one byte; 0 is the handshake). */
const MAX_EXTENSION_ID = 255;
/** Entries of one `m` dictionary kept; a peer cannot make the mapping grow without bound. */
const MAX_MAPPING_ENTRIES = 256;
/** Peers listed per pex list; the rest are counted. */
const MAX_PEX_PEERS = 1000;

/** The extensions one side registered: names to the ids it wants to receive them with. */
export class ExtensionMapping {
  private readonly byId = new Map<number, string>();
  private readonly byName = new Map<string, number>();
  /** Extended handshakes seen from this side. */
  handshakes = 0;

  /** Applies a later handshake: listed names change, id 0 disables, unlisted names stay (BEP 10). */
  update(m: Readonly<Record<string, number>>): void {
    this.handshakes++;
    for (const [name, id] of Object.entries(m)) {
      const old = this.byName.get(name);
      if (old !== undefined) {
        this.byName.delete(name);
        if (this.byId.get(old) === name) this.byId.delete(old);
      }
      if (id === 0 || this.byName.size >= MAX_MAPPING_ENTRIES) continue;
      this.byName.set(name, id);
      this.byId.set(id, name);
    }
  }

  name(id: number): string | undefined {
    return this.byId.get(id);
  }

  id(name: string): number | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }
}

/** Endpoints remembered by AdvertisedMappings (each holds one mapping of at most 256 names). */
const MAX_ADVERTISED = 4096;

interface Advertisement {
  mapping: ExtensionMapping;
  conn: number;
  endpoint: string;
  /** The advertiser's client (from its BitTorrent handshake, or the extended handshake's `v`). */
  client: string | undefined;
}

/** Where a probable name came from: the connection and endpoint that advertised it. */
export interface AdvertisedName {
  name: string;
  conn: number;
  endpoint: string;
  /** 'endpoint': the same ip:port; 'host': another port of the same IP with the same client. */
  match: 'endpoint' | 'host';
}

/**
 * The mapping each endpoint advertised in its latest extended handshake, on any connection of the
 * capture so far. A client uses one mapping for all its connections, so when a capture misses a
 * connection's handshakes, what the same listening endpoint (same address and port) advertised on
 * another connection says what an id probably is. An outgoing connection's ephemeral port matches
 * nothing; for it, the same host (IP) counts when the host ran one client: every advertisement of
 * that IP by the receiver's client (or by a single client, when the receiver's is unknown) must give
 * the id the same name.
 */
export class AdvertisedMappings {
  private readonly byEndpoint = new Map<string, Advertisement>();

  advertise(endpoint: string, mapping: ExtensionMapping, conn: number, client?: string): void {
    this.byEndpoint.delete(endpoint);
    this.byEndpoint.set(endpoint, { mapping, conn, endpoint, client });
    if (this.byEndpoint.size > MAX_ADVERTISED) {
      const [oldest] = this.byEndpoint.keys();
      this.byEndpoint.delete(oldest!);
    }
  }

  /** The name `endpoint` (or its host) gave `id` on a connection other than `conn`. */
  lookup(endpoint: string, id: number, conn: number, client?: string): AdvertisedName | undefined {
    const e = this.byEndpoint.get(endpoint);
    if (e !== undefined && e.conn !== conn) {
      const name = e.mapping.name(id);
      return name === undefined ? undefined : { name, conn: e.conn, endpoint, match: 'endpoint' };
    }
    return this.lookupHost(hostOf(endpoint), id, conn, client);
  }

  private lookupHost(host: string, id: number, conn: number, client: string | undefined): AdvertisedName | undefined {
    const same = [...this.byEndpoint.values()].filter((a) => a.conn !== conn && hostOf(a.endpoint) === host);
    const clients = new Set(same.map((a) => a.client));
    // Without the receiver's client, the host must have run only one (two clients on one host may
    // number their extensions differently).
    const candidates = client !== undefined ? same.filter((a) => a.client === client) : clients.size === 1 && !clients.has(undefined) ? same : [];
    const names = new Set(candidates.map((a) => a.mapping.name(id)));
    const [name] = names;
    if (names.size !== 1 || name === undefined) return undefined;
    const latest = candidates[candidates.length - 1]!;
    return { name, conn: latest.conn, endpoint: latest.endpoint, match: 'host' };
  }
}

/** The IP of "ip:port" / "[v6]:port" (brackets dropped); a bare IP is returned as it is. */
export function hostOf(endpoint: string): string {
  if (endpoint.startsWith('[')) return endpoint.slice(1, endpoint.indexOf(']'));
  const colon = endpoint.indexOf(':');
  return colon >= 0 && colon === endpoint.lastIndexOf(':') ? endpoint.slice(0, colon) : endpoint;
}

/** One `--ext-map ENDPOINT=NAME:ID[,NAME:ID...]`: the mapping ENDPOINT advertised outside the capture. */
export interface GivenMapping {
  /** "ip:port" (IPv6 "[addr]:port") or a bare IP: every port of that host. */
  endpoint: string;
  m: Record<string, number>;
  /** The option as written, for `mappingFrom`. */
  spec: string;
}

/** Parses an --ext-map value; a string is the reason it is not one. */
export function parseExtMap(text: string): GivenMapping | string {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) return 'expected ENDPOINT=NAME:ID[,NAME:ID...], e.g. 10.0.0.2:6881=lt_donthave:3';
  const endpoint = normalEndpoint(text.slice(0, eq).trim());
  if (endpoint === undefined) return `"${text.slice(0, eq)}" is not ip, ip:port or [ipv6]:port`;
  const m: Record<string, number> = {};
  for (const pair of text.slice(eq + 1).split(',')) {
    const match = /^\s*([^:\s]+)\s*:\s*(\d+)\s*$/.exec(pair);
    const id = Number(match?.[2]);
    if (match === null || id < 1 || id > MAX_EXTENSION_ID) return `"${pair}" is not NAME:ID with an id from 1 to ${MAX_EXTENSION_ID}`;
    m[match[1]!] = id;
  }
  return { endpoint, m, spec: `${endpoint}=${Object.entries(m).map(([n, id]) => `${n}:${id}`).join(',')}` };
}

function normalEndpoint(text: string): string | undefined {
  const v6port = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text);
  if (v6port !== null) return Number(v6port[2]) <= 65535 ? `[${v6port[1]!.toLowerCase()}]:${Number(v6port[2])}` : undefined;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  if (v4port !== null) return Number(v4port[2]) <= 65535 ? `${v4port[1]}:${Number(v4port[2])}` : undefined;
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return text;
  if (/^\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*\]?$/.test(text)) return text.replace(/^\[|\]$/g, '').toLowerCase();
  return undefined;
}

/**
 * The --ext-map mappings ("Decode As"): for a receiver whose extended handshake the capture does
 * not hold, the mapping the user says it advertised. An ip:port entry wins over a bare-IP one.
 */
export class GivenMappings {
  private readonly byEndpoint = new Map<string, { mapping: ExtensionMapping; from: string }>();

  constructor(given: readonly GivenMapping[]) {
    for (const g of given) {
      const e = this.byEndpoint.get(g.endpoint) ?? { mapping: new ExtensionMapping(), from: '' };
      e.mapping.update(g.m);
      e.from = `${e.from}${e.from === '' ? '' : ' '}--ext-map ${g.spec}`;
      this.byEndpoint.set(g.endpoint, e);
    }
  }

  get size(): number {
    return this.byEndpoint.size;
  }

  /** The given mapping of `endpoint` ("ip:port"), by its exact endpoint first, then by its IP. */
  find(endpoint: string): { mapping: ExtensionMapping; from: string } | undefined {
    return this.byEndpoint.get(endpoint) ?? this.byEndpoint.get(hostOf(endpoint));
  }
}

export type ExtendedFields = Partial<MessageRecord>;

/** Extended handshake (id 0): the dictionary and the mapping it announces (already validated). */
export function decodeExtendedHandshake(payload: Uint8Array): { fields: ExtendedFields; m?: Record<string, number> } {
  const decoded = decodeBencode(payload);
  if (!decoded.ok) return { fields: { malformed: decoded.error } };
  const dict = decoded.value;
  if (!isDict(dict)) return { fields: { malformed: 'extended handshake is not a bencoded dictionary' } };
  const fields: ExtendedFields = {};
  const problems: string[] = [];
  let m: Record<string, number> | undefined;
  const rest: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(dict)) {
    switch (key) {
      case 'm':
        m = mappingOf(value, problems);
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
  if (decoded.end < payload.length) fields.trailing = payload.length - decoded.end;
  if (problems.length > 0) fields.malformed = problems.join('; ');
  return m !== undefined ? { fields, m } : { fields };
}

function mappingOf(value: BValue, problems: string[]): Record<string, number> | undefined {
  if (!isDict(value)) {
    problems.push('m is not a dictionary');
    return undefined;
  }
  const m: Record<string, number> = {};
  let n = 0;
  for (const [name, id] of Object.entries(value)) {
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
      return payload.length === 4 ? { piece: readU32(payload, 0) } : { malformed: `lt_donthave payload is ${payload.length} bytes, expected 4` };
    case 'ut_metadata':
      return decodeMetadata(payload);
    case 'ut_pex':
      return decodePex(payload);
    case 'upload_only':
      return payload.length === 1 ? { upload_only: payload[0]! } : { malformed: `upload_only payload is ${payload.length} bytes, expected 1`, payloadLength: payload.length };
    case 'ut_holepunch':
      return decodeHolepunch(payload);
    default:
      return { payloadLength: payload.length };
  }
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
