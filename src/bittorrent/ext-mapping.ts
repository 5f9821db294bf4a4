// BEP 10 extension mappings: the ids each side registered in its extended handshakes (the one owner
// of the update rules), what an endpoint advertised on other connections of the capture (for ids on
// connections whose handshakes were missed), and the mappings --ext-map gives (Decode As).

/** Ids an extension can have on the wire (the id is one byte; 0 is the handshake). */
export const MAX_EXTENSION_ID = 255;
/** Entries of one `m` dictionary kept; a peer cannot make the mapping grow without bound. */
export const MAX_MAPPING_ENTRIES = 256;
/** Former (name, id) pairs remembered per side. */
const MAX_FORMER = 1024;
const NO_IDS: Map<number, string> = new Map();
const NO_NAMES: Map<string, number> = new Map();
const NO_FORMER: Set<string> = new Set();

/** What the analyzer reads of a side's mapping (the decoder's ExtensionMapping, passed with each extended message). */
export interface MappingView {
  /** Extended handshakes with an `m` seen from this side. */
  readonly handshakes: number;
  name(id: number): string | undefined;
  id(name: string): number | undefined;
  formerly(name: string, id: number): boolean;
  format(): string;
}

/**
 * The extensions one side registered: names to the ids it wants to receive them with (BEP 10). The
 * one owner of the mapping rules: the decoder resolves ids through it and hands it to the analyzer
 * with each extended message. It also remembers which names each id had before: a message with such
 * an id used the receiver's old id, not the sender's own.
 */
export class ExtensionMapping implements MappingView {
  // Shared empty collections until the first handshake (most sides of a large capture never send
  // one, and three empty collections cost ~300 bytes): only update() and remember() write, after
  // making their own.
  private byId = NO_IDS;
  private byName = NO_NAMES;
  private former = NO_FORMER;
  handshakes = 0;

  /** Applies a later handshake: listed names change, id 0 disables, unlisted names stay; an id given to a second name names that one. */
  update(m: Readonly<Record<string, number>>): void {
    this.handshakes++;
    if (this.byId === NO_IDS) {
      this.byId = new Map();
      this.byName = new Map();
    }
    for (const [name, id] of Object.entries(m)) {
      const old = this.byName.get(name);
      if (old !== undefined) {
        this.byName.delete(name);
        if (this.byId.get(old) === name) this.byId.delete(old);
        if (old !== id) this.remember(name, old);
      }
      if (id === 0 || this.byName.size >= MAX_MAPPING_ENTRIES) continue;
      const taken = this.byId.get(id);
      if (taken !== undefined && taken !== name) this.remember(taken, id);
      this.byName.set(name, id);
      this.byId.set(id, name);
    }
  }

  /** The extension an id names now. */
  name(id: number): string | undefined {
    return this.byId.get(id);
  }

  /** The id an extension is received with now; undefined when not advertised, disabled or taken by another name. */
  id(name: string): number | undefined {
    const id = this.byName.get(name);
    return id !== undefined && this.byId.get(id) === name ? id : undefined;
  }

  get size(): number {
    return this.byName.size;
  }

  /** Whether `id` named `name` in an earlier state of this mapping (and no longer does). */
  formerly(name: string, id: number): boolean {
    return this.byId.get(id) !== name && this.former.has(formerKey(name, id));
  }

  /** "ut_pex 1, lt_donthave 3": the ids as they resolve now, sorted by id (bounded). */
  format(): string {
    if (this.byId.size === 0) return 'empty';
    const entries = [...this.byId].sort((a, b) => a[0] - b[0]);
    const shown = entries.slice(0, 12).map(([id, name]) => `${name.length > 40 ? `${name.slice(0, 40)}...` : name} ${id}`);
    return shown.join(', ') + (entries.length > 12 ? `, ... (${entries.length} in all)` : '');
  }

  private remember(name: string, id: number): void {
    if (this.former === NO_FORMER) this.former = new Set();
    if (this.former.size < MAX_FORMER) this.former.add(formerKey(name, id));
  }
}

function formerKey(name: string, id: number): string {
  return `${id}\u0000${name}`;
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
