// The one bencode decoder: a strict front for the `bencode` package, which is lenient (it accepts
// truncated strings and reports a position past the end, non-canonical integers, returns null for
// empty input, and recurses without a limit). Peer bytes and .torrent files only reach it through
// decodeBencode, which first scans the structure (depth, canonical integers and lengths, strings
// within the input, size) and turns every problem into a result with its offset.
import bencode from 'bencode';
import type { JsonValue } from '../model/record.js';
import { toHex } from './wire.js';

export type BValue = number | Uint8Array | BValue[] | { [key: string]: BValue };

export type BencodeResult =
  | { ok: true; value: BValue; /** Bytes the value took; what follows is trailing data. */ end: number }
  | { ok: false; error: string };

/** Nesting deeper than this is refused before the recursive decoder sees it. */
const MAX_DEPTH = 64;
/** Larger input is refused (a .torrent is read up to 64 MiB; peer messages are smaller). */
const MAX_BYTES = 64 << 20;
const DEPTH_ERROR = `bencode nested deeper than ${MAX_DEPTH}`;

export interface BencodeOptions {
  /** Trailing bytes after the value are an error (a .torrent file, an info dictionary). */
  strict?: boolean;
}

export function decodeBencode(bytes: Uint8Array, options: BencodeOptions = {}): BencodeResult {
  if (bytes.length === 0) return { ok: false, error: 'empty bencoded value' };
  if (bytes.length > MAX_BYTES) return { ok: false, error: `bencoded value of ${bytes.length} bytes is too large` };
  const scanned = scanValue(bytes, 0, 0, options.strict === true);
  if (options.strict) {
    // Every problem, with its offset: a .torrent or info dictionary is all or nothing.
    if (typeof scanned === 'string') return { ok: false, error: scanned };
    if (scanned < bytes.length) return { ok: false, error: `trailing bytes after the bencoded value at offset ${scanned}` };
  } else if (scanned === DEPTH_ERROR) {
    // Peer data: only the depth is refused up front; the package's own errors name the rest.
    return { ok: false, error: DEPTH_ERROR };
  }
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

/**
 * Where each value of the dictionary that `bytes` holds lies, [start, end) by key (latin1): what a
 * hash over exact bytes needs (a .torrent's info dictionary). Undefined when it is not a valid dictionary.
 */
export function dictionarySpans(bytes: Uint8Array): Map<string, [number, number]> | undefined {
  if (bytes[0] !== 0x64) return undefined;
  const spans = new Map<string, [number, number]>();
  let i = 1;
  while (i < bytes.length && bytes[i] !== 0x65) {
    const keyEnd = scanValue(bytes, i, 1, true);
    if (typeof keyEnd === 'string' || bytes[i]! < 0x30 || bytes[i]! > 0x39) return undefined;
    const end = scanValue(bytes, keyEnd, 1, true);
    if (typeof end === 'string') return undefined;
    const key = Buffer.from(bytes.buffer, bytes.byteOffset + i, keyEnd - i).toString('latin1');
    spans.set(key.slice(key.indexOf(':') + 1), [keyEnd, end]);
    i = end;
  }
  return i < bytes.length ? spans : undefined;
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

/**
 * The end of the value starting at `i`, or why it is not one (with its offset). Nesting is always
 * bounded by MAX_DEPTH; `strict` also wants canonical integers and string lengths and string keys.
 * Not strict, it reads integers and lengths as leniently as the package does, so that it never stops
 * short of nesting the package would recurse into.
 */
function scanValue(b: Uint8Array, i: number, depth: number, strict: boolean): number | string {
  const c = b[i];
  if (c === undefined) return `bencoded value is truncated at offset ${i}`;
  if (c === 0x69) {
    const e = b.indexOf(0x65, i + 1);
    if (e < 0 || (strict && (e - i > 22 || !/^(0|-?[1-9][0-9]*)$/.test(latin1(b, i + 1, e))))) return `bad integer at offset ${i}`;
    return e + 1;
  }
  if (c === 0x6c || c === 0x64) {
    if (depth >= MAX_DEPTH) return DEPTH_ERROR;
    let j = i + 1;
    for (let n = 0; b[j] !== 0x65; n++) {
      if (j >= b.length) return `unterminated ${c === 0x6c ? 'list' : 'dictionary'} at offset ${i}`;
      if (strict && c === 0x64 && n % 2 === 0 && !(b[j]! >= 0x30 && b[j]! <= 0x39)) return `dictionary key is not a string at offset ${j}`;
      const end = scanValue(b, j, depth + 1, strict);
      if (typeof end === 'string') return end;
      j = end;
    }
    return j + 1;
  }
  if (c >= 0x30 && c <= 0x39) {
    let colon = i;
    while (colon < b.length && b[colon]! >= 0x30 && b[colon]! <= 0x39 && colon - i <= 12) colon++;
    if (b[colon] !== 0x3a || (strict && !/^(0|[1-9][0-9]*)$/.test(latin1(b, i, colon)))) return `bad string length at offset ${i}`;
    const end = colon + 1 + Number(latin1(b, i, colon));
    return end > b.length ? `string at offset ${i} runs past the end` : end;
  }
  return `unexpected byte 0x${c.toString(16)} at offset ${i}`;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
