// The one bencode decoder: a strict front for the `bencode` package, which is lenient (it accepts
// truncated strings and reports a position past the end, non-canonical integers, returns null for
// empty input, and recurses without a limit). Peer bytes and .torrent files only reach it through
// decodeBencode, which first scans the structure (depth, canonical integers and lengths, strings
// within the input, size) and turns every problem into a result with its offset. canonicalDict reads
// a canonical dictionary in place, for callers that need a few of many entries (extended handshakes).
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
  if (options.strict) {
    // Every problem, with its offset: a .torrent or info dictionary is all or nothing.
    const scanned = scanValue(bytes, 0, 0);
    if (typeof scanned === 'string') return { ok: false, error: scanned };
    if (scanned < bytes.length) return { ok: false, error: `trailing bytes after the bencoded value at offset ${scanned}` };
  } else {
    // Peer data: what would make the package recurse without a limit or loop for ever is refused up
    // front; the package's own errors name the rest.
    const refused = walkAsPackage(bytes);
    if (refused !== undefined) return { ok: false, error: refused };
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
    const keyEnd = scanValue(bytes, i, 1);
    if (typeof keyEnd === 'string' || !isDigit(bytes[i]!)) return undefined;
    const end = scanValue(bytes, keyEnd, 1);
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
 * The end of the canonical value starting at `i`, or why it is not one (with its offset): nesting
 * within MAX_DEPTH, canonical integers and string lengths, string keys, strings within the input.
 */
function scanValue(b: Uint8Array, i: number, depth: number): number | string {
  const c = b[i];
  if (c === undefined) return `bencoded value is truncated at offset ${i}`;
  if (c === 0x69) {
    const e = intEnd(b, i);
    return e < 0 ? `bad integer at offset ${i}` : e;
  }
  if (c === 0x6c || c === 0x64) {
    if (depth >= MAX_DEPTH) return DEPTH_ERROR;
    let j = i + 1;
    for (let n = 0; b[j] !== 0x65; n++) {
      if (j >= b.length) return `unterminated ${c === 0x6c ? 'list' : 'dictionary'} at offset ${i}`;
      if (c === 0x64 && n % 2 === 0 && !isDigit(b[j]!)) return `dictionary key is not a string at offset ${j}`;
      const end = scanValue(b, j, depth + 1);
      if (typeof end === 'string') return end;
      j = end;
    }
    return j + 1;
  }
  if (isDigit(c)) {
    const at = stringAt(b, i);
    if (at < 0) return `bad string length at offset ${i}`;
    const end = at + stringLength(b, i, at - 1);
    return end > b.length ? `string at offset ${i} runs past the end` : end;
  }
  return `unexpected byte 0x${c.toString(16)} at offset ${i}`;
}

/** Where the content of the canonical string whose length starts at `i` begins, or -1 (13 digits at most). */
function stringAt(b: Uint8Array, i: number): number {
  let colon = i;
  while (colon < b.length && isDigit(b[colon]!) && colon - i <= 12) colon++;
  if (b[colon] !== 0x3a || colon === i || (b[i] === 0x30 && colon - i > 1)) return -1;
  return colon + 1;
}

function stringLength(b: Uint8Array, from: number, colon: number): number {
  let n = 0;
  for (let k = from; k < colon; k++) n = n * 10 + (b[k]! - 0x30);
  return n;
}

/** `0|-?[1-9][0-9]*` between `from` and `end`. */
function canonicalInt(b: Uint8Array, from: number, end: number): boolean {
  const first = b[from] === 0x2d ? from + 1 : from;
  if (first >= end || !isDigit(b[first]!) || (b[first] === 0x30 && (end - first > 1 || first > from))) return false;
  for (let k = first + 1; k < end; k++) if (!isDigit(b[k]!)) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Follows the bytes as the package would read them (any delimiter found ahead, lengths and integers
 * read as leniently as it reads them) and returns why they must not reach it: nesting past MAX_DEPTH
 * (it recurses without a limit) or a negative string length (it moves back and can loop for ever,
 * as on `d1:a-6:e`). Undefined: the package may decode them, or throws with its own message.
 */
function walkAsPackage(b: Uint8Array): string | undefined {
  let pos = 0;
  const next = (depth: number): string | undefined => {
    const c = b[pos];
    if (c === 0x64 || c === 0x6c) {
      if (depth >= MAX_DEPTH) return DEPTH_ERROR;
      pos++;
      for (let n = 0; b[pos] !== 0x65; n++) {
        // The package reads a dictionary's key as a string, whatever its first byte.
        const why = c === 0x64 && n % 2 === 0 ? string() : next(depth + 1);
        if (why !== undefined) return why;
        if (pos >= b.length) return undefined; // the package throws at its next delimiter search
      }
      pos++;
      return undefined;
    }
    if (c === 0x69) {
      const e = b.indexOf(0x65, pos);
      // Not found, or not a number: the package throws here.
      pos = e < 0 || Number.isNaN(packageInt(b, pos + 1, e)) ? b.length : e + 1;
      return undefined;
    }
    return string();
  };
  const string = (): string | undefined => {
    const colon = b.indexOf(0x3a, pos);
    if (colon < 0) {
      pos = b.length;
      return undefined;
    }
    const length = packageInt(b, pos, colon);
    if (length < 0) return `negative string length at offset ${pos}`;
    pos = colon + 1 + (Number.isNaN(length) ? b.length : length);
    return undefined;
  };
  return next(0);
}

/** The package's integer reading (sign, digits, a '.' ends it); NaN where it would throw. */
function packageInt(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let sign = 1;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (isDigit(c)) sum = sum * 10 + (c - 0x30);
    else if (i === start && c === 0x2b) continue;
    else if (i === start && c === 0x2d) sign = -1;
    else if (c === 0x2e) break;
    else return NaN;
  }
  return sum * sign;
}

/** One entry of a dictionary read in place: its key, and where its value lies ([start, end)). */
export interface DictEntry {
  key: string;
  start: number;
  end: number;
  /** The value read in place too, when it is the dictionary canonicalDict was asked to open. */
  dict?: CanonicalDict;
}

export interface CanonicalDict {
  /** The first `keep` entries. */
  entries: DictEntry[];
  /** Entries in all. */
  count: number;
  end: number;
}

/**
 * The entries of the dictionary at `bytes[start]`, read in place, for the common case only: a
 * canonical dictionary (every value canonical bencode within MAX_DEPTH, `depth` being the
 * dictionary's own) whose keys are strictly sorted, printable ASCII, and none that JavaScript would
 * order first (a digit first) or treat specially (`__proto__`). On such bytes the package's object has
 * exactly these entries, in this order, so a caller may read the few values it needs and skip the
 * rest. Anything else: undefined, and the caller decodes with decodeBencode. Only the first `keep`
 * keys are made strings; `count` counts them all. `open`: the dictionary value of that key is read
 * the same way in the same pass (its first `keep` entries), and must be canonical too.
 */
export function canonicalDict(bytes: Uint8Array, start: number, keep: number, depth = 0, open?: { key: string; keep: number }): CanonicalDict | undefined {
  if (bytes[start] !== 0x64 || bytes.length > MAX_BYTES || depth >= MAX_DEPTH) return undefined;
  const entries: DictEntry[] = [];
  let count = 0;
  let prevAt = -1;
  let prevEnd = -1;
  let j = start + 1;
  while (bytes[j] !== 0x65) {
    if (j >= bytes.length || !isDigit(bytes[j]!)) return undefined;
    const at = stringAt(bytes, j);
    if (at < 0) return undefined;
    const keyEnd = at + stringLength(bytes, j, at - 1);
    if (keyEnd > bytes.length || !plainKey(bytes, at, keyEnd) || (prevAt >= 0 && compareBytes(bytes, prevAt, prevEnd, at, keyEnd) >= 0)) return undefined;
    let end: number | string;
    let dict: CanonicalDict | undefined;
    if (open !== undefined && bytes[keyEnd] === 0x64 && latin1(bytes, at, keyEnd) === open.key) {
      dict = canonicalDict(bytes, keyEnd, open.keep, depth + 1);
      if (dict === undefined) return undefined;
      end = dict.end;
    } else {
      end = bytes[keyEnd] === 0x69 ? intEnd(bytes, keyEnd) : scanValue(bytes, keyEnd, depth + 1);
      if (typeof end === 'string' || end < 0) return undefined;
    }
    if (count++ < keep) entries.push(dict !== undefined ? { key: latin1(bytes, at, keyEnd), start: keyEnd, end, dict } : { key: latin1(bytes, at, keyEnd), start: keyEnd, end });
    prevAt = at;
    prevEnd = keyEnd;
    j = end;
  }
  return { entries, count, end: j + 1 };
}

/** The end of the canonical integer at `i` (as scanValue reads it, without its call), or -1. */
function intEnd(b: Uint8Array, i: number): number {
  const e = b.indexOf(0x65, i + 1);
  return e < 0 || e - i > 22 || !canonicalInt(b, i + 1, e) ? -1 : e + 1;
}

/** Printable ASCII, not starting with a digit (an integer-like key comes first in a JS object), not __proto__. */
function plainKey(b: Uint8Array, from: number, end: number): boolean {
  if (from < end && isDigit(b[from]!)) return false;
  for (let k = from; k < end; k++) if (b[k]! < 0x20 || b[k]! > 0x7e) return false;
  return !(end - from === 9 && latin1(b, from, end) === '__proto__');
}

function compareBytes(b: Uint8Array, a0: number, a1: number, c0: number, c1: number): number {
  const n = Math.min(a1 - a0, c1 - c0);
  for (let k = 0; k < n; k++) if (b[a0 + k] !== b[c0 + k]) return b[a0 + k]! - b[c0 + k]!;
  return a1 - a0 - (c1 - c0);
}

/**
 * The value of a canonicalDict entry, as the package gives it: an integer read as it reads them, a
 * byte string as a view (not a copy), a list or dictionary through decodeBencode.
 */
export function valueAt(bytes: Uint8Array, e: DictEntry): BValue {
  const c = bytes[e.start]!;
  if (c === 0x69) return packageInt(bytes, e.start + 1, e.end - 1);
  if (isDigit(c)) return bytes.subarray(stringAt(bytes, e.start), e.end);
  const decoded = decodeBencode(bytes.subarray(e.start, e.end));
  if (!decoded.ok) throw new Error(`canonicalDict entry at ${e.start} does not decode: ${decoded.error}`);
  return decoded.value;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
