// The peer-wire message table, in the style of Wireshark's hf_register_info: one entry per message
// type with its id, its name, its exact length when fixed (id byte included) and the fields its
// layout fixes (offset from the first byte of the length prefix, and length). It drives the
// decoder's fixed fields (messages.ts), the length rules (wire.ts) and the byte ranges the details
// and hex panes highlight (ui/field-tree.ts).
import type { MessageName } from '../model/record.js';

/** BEP 52 hash request / hashes / hash reject header: id, pieces root, base layer, index, length, proof layers. */
export const HASH_HEADER_LENGTH = 1 + 32 + 16;

export interface FieldSpec {
  name: 'piece' | 'begin' | 'length' | 'port';
  offset: number;
  length: 2 | 4;
}

export interface MessageSpec {
  id: number;
  name: MessageName;
  /** The exact length (id byte included) of a fixed-size message. */
  length?: number;
  fields: readonly FieldSpec[];
}

const piece: FieldSpec = { name: 'piece', offset: 5, length: 4 };
const begin: FieldSpec = { name: 'begin', offset: 9, length: 4 };
const blockLength: FieldSpec = { name: 'length', offset: 13, length: 4 };

export const MESSAGES: readonly MessageSpec[] = [
  { id: 0, name: 'choke', length: 1, fields: [] },
  { id: 1, name: 'unchoke', length: 1, fields: [] },
  { id: 2, name: 'interested', length: 1, fields: [] },
  { id: 3, name: 'not_interested', length: 1, fields: [] },
  { id: 4, name: 'have', length: 5, fields: [piece] },
  { id: 5, name: 'bitfield', fields: [] },
  { id: 6, name: 'request', length: 13, fields: [piece, begin, blockLength] },
  // The block's length is what the message's size leaves (messages.ts).
  { id: 7, name: 'piece', fields: [piece, begin] },
  { id: 8, name: 'cancel', length: 13, fields: [piece, begin, blockLength] },
  { id: 9, name: 'port', length: 3, fields: [{ name: 'port', offset: 5, length: 2 }] },
  { id: 13, name: 'suggest_piece', length: 5, fields: [piece] },
  { id: 14, name: 'have_all', length: 1, fields: [] },
  { id: 15, name: 'have_none', length: 1, fields: [] },
  { id: 16, name: 'reject_request', length: 13, fields: [piece, begin, blockLength] },
  { id: 17, name: 'allowed_fast', length: 5, fields: [piece] },
  { id: 20, name: 'extended', fields: [] },
  { id: 21, name: 'hash_request', length: HASH_HEADER_LENGTH, fields: [] },
  { id: 22, name: 'hashes', fields: [] },
  { id: 23, name: 'hash_reject', length: HASH_HEADER_LENGTH, fields: [] },
];

export const MESSAGE_BY_ID: ReadonlyMap<number, MessageSpec> = new Map(MESSAGES.map((m) => [m.id, m]));
export const MESSAGE_BY_NAME: ReadonlyMap<string, MessageSpec> = new Map(MESSAGES.map((m) => [m.name, m]));
