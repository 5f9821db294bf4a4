// Peer-wire constants and the length rules every message id must obey. The decoder and the
// resynchroniser share them: a length that breaks these rules is either a malformed message or a
// sign that the decoder is not at a message boundary.
import type { MessageName } from '../model/record.js';
import { HASH_HEADER_LENGTH, MESSAGES } from './message-table.js';

export const HANDSHAKE_LENGTH = 68;
export const PROTOCOL = 'BitTorrent protocol';
/** "\x13BitTorrent protocol": the first 20 bytes of every plaintext connection. */
export const HANDSHAKE_PREFIX = Uint8Array.from([19, ...Array.from(PROTOCOL, (c) => c.charCodeAt(0))]);

/** A length prefix above this is not a message: the stream is out of step (or hostile). */
export const MAX_MESSAGE_LENGTH = 4 * 1024 * 1024 + 64;
/** Bytes of one message kept for decoding; the rest of a larger message is skipped, not stored. */
export const MAX_KEPT_BYTES = 2 * 1024 * 1024 + 64;
/** Largest block a real client sends or asks for; used to judge plausibility while resynchronising. */
export const MAX_PLAUSIBLE_BLOCK = 128 * 1024;

/** Message names by id, from the message table. */
export const MESSAGE_NAMES: Readonly<Record<number, MessageName>> = Object.fromEntries(MESSAGES.map((m) => [m.id, m.name]));

export { HASH_HEADER_LENGTH };

/** Exact length (id byte included) of fixed-size messages, from the message table. */
const FIXED_LENGTH: Readonly<Record<number, number>> = Object.fromEntries(MESSAGES.flatMap((m) => (m.length === undefined ? [] : [[m.id, m.length]])));

export function messageName(id: number): MessageName {
  return MESSAGE_NAMES[id] ?? 'unknown';
}

/** Why a message of this id cannot have this length (id byte included), or undefined when it can. */
export function lengthProblem(id: number, length: number): string | undefined {
  const fixed = FIXED_LENGTH[id];
  if (fixed !== undefined) return length === fixed ? undefined : `length ${length}, ${messageName(id)} is ${fixed}`;
  switch (id) {
    case 5:
      return length >= 1 ? undefined : 'empty bitfield';
    case 7:
      return length >= 9 ? undefined : `length ${length}, piece needs at least 9`;
    case 20:
      return length >= 2 ? undefined : 'extended message without an extended id';
    case 22:
      if (length < HASH_HEADER_LENGTH) return `length ${length}, hashes needs at least ${HASH_HEADER_LENGTH}`;
      return (length - HASH_HEADER_LENGTH) % 32 === 0 ? undefined : `hashes payload of ${length - HASH_HEADER_LENGTH} bytes is not a whole number of 32-byte hashes`;
    default:
      return undefined;
  }
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function startsWithHandshake(b: Uint8Array, at = 0): boolean {
  const n = Math.min(HANDSHAKE_PREFIX.length, b.length - at);
  for (let i = 0; i < n; i++) if (b[at + i] !== HANDSHAKE_PREFIX[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(b: Uint8Array): string {
  // From 8 bytes on (info hashes, peer ids, reserved bits) Node's hex encoder is about twice as
  // fast as concatenating, and makes one flat string instead of a chain of pieces.
  if (b.length >= 8) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!]!;
  return s;
}
