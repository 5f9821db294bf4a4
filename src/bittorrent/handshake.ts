// The 68-byte BitTorrent handshake: protocol string, reserved bits, info hash, peer id.
import peerid from 'bittorrent-peerid';
import type { MessageRecord } from '../model/record.js';
import { HANDSHAKE_LENGTH, PROTOCOL, toHex } from './wire.js';

/** Reserved bits in use: [byte, mask, name]. */
const RESERVED_BITS: ReadonlyArray<readonly [number, number, string]> = [
  [0, 0x80, 'azureus_messaging'],
  [5, 0x10, 'extension_protocol'],
  [5, 0x02, 'bep30_merkle'],
  [7, 0x10, 'v2'],
  [7, 0x08, 'nat_traversal'],
  [7, 0x04, 'fast'],
  [7, 0x01, 'dht'],
];

export type HandshakeFields = Pick<MessageRecord, 'protocol' | 'reserved' | 'infoHash' | 'peerId' | 'client' | 'extensions' | 'malformed'>;

export interface Handshake {
  fields: HandshakeFields;
  extensionProtocol: boolean;
  fast: boolean;
}

/** Decodes the 68 bytes of a handshake whose first 20 bytes were already matched. */
export function decodeHandshake(b: Uint8Array): Handshake {
  const reserved = b.subarray(20, 28);
  const id = b.subarray(48, HANDSHAKE_LENGTH);
  const extensions = RESERVED_BITS.filter(([byte, mask]) => (reserved[byte]! & mask) !== 0).map(([, , name]) => name);
  const fields: HandshakeFields = {
    protocol: PROTOCOL,
    reserved: toHex(reserved),
    infoHash: toHex(b.subarray(28, 48)),
    peerId: peerIdText(id),
    extensions,
  };
  const client = clientName(id);
  if (client !== undefined) fields.client = client;
  return { fields, extensionProtocol: (reserved[5]! & 0x10) !== 0, fast: (reserved[7]! & 0x04) !== 0 };
}

/** The peer id as text when it is printable ASCII, else as hex. */
export function peerIdText(id: Uint8Array): string {
  for (const c of id) if (c < 0x20 || c > 0x7e) return toHex(id);
  return String.fromCharCode(...id);
}

/** Distinct client names shared between connections; past this they are kept as they come. */
const MAX_CLIENT_NAMES = 4096;
const clientNames = new Map<string, string>();

export function clientName(id: Uint8Array): string | undefined {
  try {
    const { client, version } = peerid(Buffer.from(id.buffer, id.byteOffset, id.byteLength));
    if (!client || client === 'unknown') return undefined;
    return shared(version ? `${client} ${version}` : client);
  } catch {
    return undefined;
  }
}

/**
 * One string per client name: the decoder and the analyzer keep a live connection's client on both
 * sides, and a fresh copy for each cost about 80 bytes a connection.
 */
function shared(name: string): string {
  const known = clientNames.get(name);
  if (known !== undefined) return known;
  if (clientNames.size < MAX_CLIENT_NAMES) clientNames.set(name, name);
  return name;
}
