// Extended messages (BEP 10) in the stream decoder: the extended handshake updates its sender's
// mapping; any other id is resolved in the receiver's mapping (a message from A to B carries the id
// B registered), from --ext-map (Decode As) when the capture never showed that mapping, or guessed
// from the receiver's client or what its endpoint advertised on another connection.
import type { BtContext } from './types.js';
import type { Direction } from './direction.js';
import type { MessageFields } from './messages.js';
import { decodeExtendedHandshake, decodeExtensionPayload } from './extensions.js';
import { probableExtension } from './mse.js';

/** What the decoding needs of the connection. */
export interface ExtendedEnv {
  ctx: BtContext;
  conn: number;
  /** The connection's key exchange showed encryption (asked only when an id must be guessed). */
  encrypted(): boolean;
}

/** Decodes an extended message's payload into `fields` (`kept` may stop short of `size`). */
export function decodeExtended(d: Direction, receiver: Direction, kept: Uint8Array, size: number, fields: MessageFields, env: ExtendedEnv): void {
  const extId = kept[5]!;
  const payload = kept.subarray(6);
  const whole = kept.length === size;
  if (extId === 0) {
    fields.ext = 'handshake';
    fields.extId = 0;
    if (!whole) {
      fields.malformed = `extended handshake of ${size} bytes is too large to decode`;
      return;
    }
    const hs = decodeExtendedHandshake(payload);
    Object.assign(fields, hs.fields);
    if (hs.m !== undefined) {
      d.mapping.update(hs.m);
      d.client ??= hs.fields.v;
      env.ctx.advertised?.advertise(d.src, d.mapping, env.conn, d.client);
    }
    return;
  }
  // A message from A to B carries the id B registered: resolve it in the receiver's mapping.
  const resolved = resolveExtId(receiver, extId, env.ctx);
  const name = resolved?.name;
  fields.ext = name ?? null;
  fields.extId = extId;
  if (name === undefined) {
    fields.payloadLength = size - 6;
    if (receiver.extHandshakes === 0 && whole) guessExtension(receiver, extId, payload, fields, env);
    return;
  }
  fields.mappingFrom = resolved!.from;
  if (!whole) {
    fields.payloadLength = size - 6;
    fields.malformed = `${name} message of ${size} bytes is too large to decode`;
    return;
  }
  Object.assign(fields, decodeExtensionPayload(name, payload));
}

/**
 * The receiver's name for an id: from its extended handshakes in the capture, else from the
 * mapping --ext-map gives for it (Decode As).
 */
export function resolveExtId(receiver: Direction, extId: number, ctx: BtContext): { name: string; from: string } | undefined {
  if (receiver.extHandshakes > 0) {
    const name = receiver.mapping.name(extId);
    return name === undefined ? undefined : { name, from: `${receiver.src} extended handshake #${receiver.mapping.handshakes}` };
  }
  const given = ctx.given?.find(receiver.src);
  const name = given?.mapping.name(extId);
  return name === undefined ? undefined : { name, from: given!.from };
}

/**
 * An id whose mapping the capture never showed (its handshake was encrypted, or before the
 * capture began): the extension it probably is, from the receiver's client when that client has
 * fixed ids, or from what the receiver's endpoint advertised on another connection. The payload is
 * decoded as that extension's; a payload that does not fit it makes no guess.
 */
function guessExtension(receiver: Direction, extId: number, payload: Uint8Array, fields: MessageFields, env: ExtendedEnv): void {
  let name: string | undefined;
  let why: string | undefined;
  const fixed = env.encrypted() ? probableExtension(receiver.client, extId) : undefined;
  if (fixed !== undefined) {
    name = fixed;
    why = "libtorrent's id";
  } else {
    const seen = env.ctx.advertised?.lookup(receiver.src, extId, env.conn, receiver.client);
    if (seen === undefined) return;
    name = seen.name;
    why =
      seen.match === 'endpoint'
        ? `${receiver.src} gave id ${extId} to ${seen.name} in its extended handshake on conn ${seen.conn}`
        : `its host ${seen.endpoint} gave id ${extId} to ${seen.name} in its extended handshake on conn ${seen.conn} (same IP and client)`;
  }
  const decoded = decodeExtensionPayload(name, payload);
  if (decoded.malformed !== undefined) return;
  delete decoded.payloadLength;
  Object.assign(fields, decoded);
  fields.probably = name;
  fields.probablyWhy = why;
}
