// Byte builders for hand-made peer-wire fixtures.
import bencode from 'bencode';

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function handshake(opts: { infoHash?: number; peerId?: string; ext?: boolean; fast?: boolean } = {}): Uint8Array {
  const reserved = new Uint8Array(8);
  if (opts.ext !== false) reserved[5] = 0x10;
  if (opts.fast) reserved[7] = 0x04;
  const hash = new Uint8Array(20).fill(opts.infoHash ?? 0xab);
  const id = new TextEncoder().encode((opts.peerId ?? '-LT2000-abcdefghijkl').padEnd(20, 'x').slice(0, 20));
  return concat(Uint8Array.of(19), new TextEncoder().encode('BitTorrent protocol'), reserved, hash, id);
}

/** A length-prefixed message with this id and payload. */
export function msg(id: number, ...payload: Uint8Array[]): Uint8Array {
  const body = concat(Uint8Array.of(id), ...payload);
  return concat(u32(body.length), body);
}

export const keepAlive = (): Uint8Array => u32(0);
export const have = (piece: number): Uint8Array => msg(4, u32(piece));
export const request = (piece: number, begin: number, length: number): Uint8Array => msg(6, u32(piece), u32(begin), u32(length));
export const piece = (index: number, begin: number, data: Uint8Array): Uint8Array => msg(7, u32(index), u32(begin), data);

export function extended(extId: number, payload: Uint8Array): Uint8Array {
  return msg(20, Uint8Array.of(extId), payload);
}

export function extHandshake(dict: Record<string, unknown>): Uint8Array {
  return extended(0, bencode.encode(dict));
}

export const donthave = (extId: number, index: number): Uint8Array => extended(extId, u32(index));
