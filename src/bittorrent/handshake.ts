// The 68-byte BitTorrent handshake: protocol string, reserved bits, info hash, peer id.
import peerid from 'bittorrent-peerid';
import type { MessageRecord } from '../model/record.js';
import { HANDSHAKE_LENGTH, PROTOCOL, toHex } from './wire.js';
import { SharedStrings } from '../util/shared-strings.js';

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

/** Printable ASCII bytes as text (a spread into String.fromCharCode took five times as long). */
const ascii = new TextDecoder('latin1');

/** The peer id as text when it is printable ASCII, else as hex. */
export function peerIdText(id: Uint8Array): string {
  for (const c of id) if (c < 0x20 || c > 0x7e) return toHex(id);
  return ascii.decode(id);
}

/**
 * One string per client name: the decoder and the analyzer keep a live connection's client on both
 * sides. Past 4,096 distinct names they are kept as they come.
 */
const clientNames = new SharedStrings(4096);

export function clientName(id: Uint8Array): string | undefined {
  const aria2 = aria2Version(id);
  if (aria2 !== undefined) return clientNames.share(`aria2 ${aria2}`);
  try {
    const { client, version } = peerid(Buffer.from(id.buffer, id.byteOffset, id.byteLength));
    if (!client || client === 'unknown') return undefined;
    return clientNames.share(version ? `${client} ${version}` : client);
  } catch {
    return undefined;
  }
}

/**
 * aria2 since 1.x: `A2-<major>-<minor>-<patch>-` then random bytes (1.36.0: `A2-1-36-0-`).
 * bittorrent-peerid 2.0.2 knows only the old `-aria2-` prefix, and its Shadow style takes this one
 * for ABC; libtorrent makes the same mistake ("ABC 2.1.36").
 */
const ARIA2_PEER_ID = /^A2-(\d{1,3})-(\d{1,3})-(\d{1,3})-/;
function aria2Version(id: Uint8Array): string | undefined {
  if (id[0] !== 0x41 || id[1] !== 0x32 || id[2] !== 0x2d) return undefined; // "A2-"
  const m = ARIA2_PEER_ID.exec(ascii.decode(id.subarray(0, 15)));
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}
