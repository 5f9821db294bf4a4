// A guarded front for the `bencode` package, which is lenient: it accepts truncated strings (and
// reports a position past the end), returns null for empty input, and recurses without a limit.
// Peer bytes only reach it through decodeBencode, which turns all of that into a result.
import bencode from 'bencode';
import type { JsonValue } from '../model/record.js';
import { toHex } from './wire.js';

export type BValue = number | Uint8Array | BValue[] | { [key: string]: BValue };

export type BencodeResult =
  | { ok: true; value: BValue; /** Bytes the value took; what follows is trailing data. */ end: number }
  | { ok: false; error: string };

/** Nesting deeper than this is refused before the recursive decoder sees it. */
const MAX_DEPTH = 64;

export function decodeBencode(bytes: Uint8Array): BencodeResult {
  if (bytes.length === 0) return { ok: false, error: 'empty bencoded value' };
  if (nestingDepth(bytes) > MAX_DEPTH) return { ok: false, error: `bencode nested deeper than ${MAX_DEPTH}` };
  let value: unknown;
  try {
    value = bencode.decode(bytes);
  } catch (err) {
    return { ok: false, error: `bad bencode: ${firstLine(err)}` };
  }
  const end = bencode.decode.position;
  if (value === null || value === undefined) return { ok: false, error: 'bad bencode' };
  if (end > bytes.length) return { ok: false, error: 'bencoded value is truncated' };
  return { ok: true, value: value as BValue, end };
}

export function isDict(v: BValue | undefined): v is { [key: string]: BValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function isInt(v: BValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

export function isBytes(v: BValue | undefined): v is Uint8Array {
  return v instanceof Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Byte string as text when it is valid UTF-8 without control characters, else undefined. */
export function printableText(b: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(b);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

/** Bounds on how much of a peer's dictionary is copied into a record. */
const MAX_JSON_ITEMS = 256;
const MAX_JSON_BYTES = 1024;

/** JSON-safe rendering: text for printable byte strings, `{hex}` otherwise; big values are cut. */
export function toJsonValue(v: BValue, depth = 0): JsonValue {
  if (typeof v === 'number') return v;
  if (v instanceof Uint8Array) {
    const cut = v.length > MAX_JSON_BYTES ? v.subarray(0, MAX_JSON_BYTES) : v;
    const text = printableText(cut);
    const shown: JsonValue = text !== undefined ? text : { hex: toHex(cut) };
    if (cut === v) return shown;
    return typeof shown === 'string' ? `${shown}… (${v.length} bytes)` : { hex: `${shown.hex}… (${v.length} bytes)` };
  }
  if (depth >= 8) return '…';
  if (Array.isArray(v)) return v.slice(0, MAX_JSON_ITEMS).map((x) => toJsonValue(x, depth + 1));
  const out: { [k: string]: JsonValue } = {};
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (n++ >= MAX_JSON_ITEMS) break;
    out[k] = toJsonValue(x, depth + 1);
  }
  return out;
}

/** Upper bound on list/dict nesting, counting only structure outside byte strings. */
function nestingDepth(b: Uint8Array): number {
  let depth = 0;
  let max = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c === 0x6c || c === 0x64) {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_DEPTH) return max;
      i++;
    } else if (c === 0x65) {
      depth--;
      i++;
      if (depth <= 0) return max;
    } else if (c === 0x69) {
      while (i < b.length && b[i] !== 0x65) i++;
      i++;
    } else if (c >= 0x30 && c <= 0x39) {
      let n = 0;
      while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39 && n < 1e9) n = n * 10 + (b[i++]! - 0x30);
      i += 1 + n;
    } else {
      return max;
    }
  }
  return max;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
