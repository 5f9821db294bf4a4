// The display-filter language shared by the terminal UI and `--filter`:
//   bare words      lt_donthave  have  handshake  gap  finding   (message, extension or event name)
//   comparisons     piece == 30  conn != 2  size >= 100  client ~ libtorrent  ip == 10.0.0.2
//                   (field names: filter-fields.ts; an unknown one is an error that suggests the close match)
//   combinators     and or not  && || !  ( )
// Field values are compared as numbers when both sides are numbers, else as case-insensitive text.
// A missing field never matches a comparison (so `not piece == 3` keeps records without a piece).
import type { AnyRecord } from './record.js';
import { closestName, KNOWN_FIELDS } from './filter-fields.js';

/**
 * A compiled filter's test. `fields` names every record key it reads (key presence included): a
 * record whose other keys hold stale values gets the same answer, so the UI's store brings only
 * these up to date in the object it reuses for a filter pass (record-columns.ts peekKeys).
 */
export type RecordTest = ((r: AnyRecord) => boolean) & { readonly fields: ReadonlySet<string> };

export type CompiledFilter = { ok: true; test: RecordTest } | { ok: false; error: string; position: number };

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | '~';
type Predicate = (r: AnyRecord) => boolean;

interface Token {
  kind: 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'end';
  text: string;
  pos: number;
}

class FilterError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const WORD_CHAR = /[A-Za-z0-9_.:\-\[\]/+*@#%$,?]/;
const OPS: readonly string[] = ['==', '!=', '<=', '>=', '<', '>', '~', '='];

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '(') tokens.push({ kind: 'lparen', text: c, pos: i++ });
    else if (c === ')') tokens.push({ kind: 'rparen', text: c, pos: i++ });
    else if (expr.startsWith('&&', i)) tokens.push({ kind: 'and', text: '&&', pos: (i += 2) - 2 });
    else if (expr.startsWith('||', i)) tokens.push({ kind: 'or', text: '||', pos: (i += 2) - 2 });
    else if (c === '"' || c === "'") {
      let text = '';
      i++;
      while (i < expr.length && expr[i] !== c) {
        if (expr[i] === '\\' && i + 1 < expr.length) i++;
        text += expr[i];
        i++;
      }
      if (i >= expr.length) throw new FilterError('unterminated string', start);
      i++;
      tokens.push({ kind: 'string', text, pos: start });
    } else if (OPS.some((op) => expr.startsWith(op, i))) {
      const op = OPS.find((o) => expr.startsWith(o, i))!;
      i += op.length;
      tokens.push({ kind: 'op', text: op === '=' ? '==' : op, pos: start });
    } else if (c === '!') tokens.push({ kind: 'not', text: '!', pos: i++ });
    else if (WORD_CHAR.test(c)) {
      while (i < expr.length && WORD_CHAR.test(expr[i]!)) i++;
      const text = expr.slice(start, i);
      const lower = text.toLowerCase();
      const kind = lower === 'and' ? 'and' : lower === 'or' ? 'or' : lower === 'not' ? 'not' : 'word';
      tokens.push({ kind, text, pos: start });
    } else {
      throw new FilterError(`unexpected character '${printable(c)}'`, start);
    }
  }
  tokens.push({ kind: 'end', text: '', pos: expr.length });
  return tokens;
}

function printable(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
}

class Parser {
  private at = 0;
  /** The record keys the predicate being built reads. */
  readonly fields = new Set<string>();
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    return this.tokens[this.at++]!;
  }

  parse(): Predicate {
    if (this.peek().kind === 'end') throw new FilterError('empty expression', 0);
    const p = this.parseOr();
    const t = this.peek();
    if (t.kind === 'rparen') throw new FilterError("unmatched ')'", t.pos);
    if (t.kind !== 'end') throw new FilterError(`expected 'and', 'or' or the end, found ${describe(t)}`, t.pos);
    return p;
  }

  private parseOr(): Predicate {
    let left = this.parseAnd();
    while (this.peek().kind === 'or') {
      this.next();
      const l = left;
      const r = this.parseAnd();
      left = (rec) => l(rec) || r(rec);
    }
    return left;
  }

  private parseAnd(): Predicate {
    let left = this.parseNot();
    while (this.peek().kind === 'and') {
      this.next();
      const l = left;
      const r = this.parseNot();
      left = (rec) => l(rec) && r(rec);
    }
    return left;
  }

  private parseNot(): Predicate {
    if (this.peek().kind === 'not') {
      this.next();
      const inner = this.parseNot();
      return (rec) => !inner(rec);
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Predicate {
    const t = this.next();
    if (t.kind === 'lparen') {
      if (this.peek().kind === 'rparen') throw new FilterError('empty parentheses', this.peek().pos);
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== 'rparen') throw new FilterError(`missing ')' for the '(' at ${t.pos}, found ${describe(close)}`, close.pos);
      this.next();
      return inner;
    }
    if (t.kind === 'word' || t.kind === 'string') {
      const op = this.peek();
      if (op.kind === 'op') {
        this.next();
        if (t.kind === 'string') throw new FilterError('a field name cannot be quoted', t.pos);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.text)) throw new FilterError(`'${t.text}' is not a field name`, t.pos);
        if (!KNOWN_FIELDS.has(t.text)) throw unknownField(t);
        const value = this.next();
        if (value.kind !== 'word' && value.kind !== 'string') throw new FilterError(`expected a value after '${op.text}', found ${describe(value)}`, value.pos);
        for (const key of keysRead(t.text)) this.fields.add(key);
        return comparison(t.text, op.text as Op, value);
      }
      for (const key of NAME_KEYS) this.fields.add(key);
      return nameMatch(t.text);
    }
    if (t.kind === 'op') throw new FilterError(`'${t.text}' needs a field name before it`, t.pos);
    if (t.kind === 'rparen') throw new FilterError("unmatched ')'", t.pos);
    throw new FilterError(`expected a name or a comparison, found ${describe(t)}`, t.pos);
  }
}

/** A comparison on a field no record has: never silently empty, and the close match when there is one. */
function unknownField(t: Token): FilterError {
  const near = closestName(t.text, KNOWN_FIELDS);
  return new FilterError(`unknown field '${t.text}'${near === undefined ? '' : `: did you mean '${near}'?`}`, t.pos);
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end' : `'${t.text}'`;
}

/** The record keys a bare name reads (nameMatch). */
const NAME_KEYS = ['msg', 'ext', 'event'] as const;

/** The record keys a comparison on `field` reads (fieldValues: port and ip read both endpoints). */
function keysRead(field: string): string[] {
  if (field === 'port' || field === 'ip') return ['src', 'dst'];
  if (field === 'client') return ['client', 'v'];
  return [field];
}

function nameMatch(word: string): Predicate {
  const w = word.toLowerCase();
  return (r) => {
    if ('msg' in r) return r.msg === w || (typeof r.ext === 'string' && r.ext.toLowerCase() === w);
    return r.event === w;
  };
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$|^0x[0-9a-f]+$/i;

function comparison(field: string, op: Op, value: Token): Predicate {
  const text = value.text;
  const num = NUMBER.test(text) ? Number(text) : NaN;
  if ((op === '<' || op === '<=' || op === '>' || op === '>=') && Number.isNaN(num)) {
    throw new FilterError(`'${op}' needs a number, found '${text}'`, value.pos);
  }
  if (field !== 'port' && field !== 'ip' && field !== 'client') {
    // The common case, kept allocation-free: it runs once per record on a million-record rebuild.
    if (!Number.isNaN(num) && op !== '~') {
      return (r) => {
        const v = (r as unknown as Record<string, unknown>)[field];
        return typeof v === 'number' ? compareNumber(v, op, num) : v !== undefined && Object.hasOwn(r, field) && compareValue(v, op, text, num);
      };
    }
    return (r) => {
      const v = (r as unknown as Record<string, unknown>)[field];
      return v !== undefined && Object.hasOwn(r, field) && compareValue(v, op, text, num);
    };
  }
  const values = fieldValues(field);
  if (field === 'ip' && op !== '~') {
    const want = normalizeIp(text);
    return (r) => values(r).some((v) => compareValue(normalizeIp(String(v)), op, want, NaN));
  }
  return (r) => values(r).some((v) => compareValue(v, op, text, num));
}

/** The values a field stands for in a record (two for port and ip: both endpoints). */
function fieldValues(field: string): (r: AnyRecord) => unknown[] {
  switch (field) {
    case 'port':
      return (r) => endpoints(r).map((e) => portOf(e));
    case 'ip':
      return (r) => endpoints(r).map((e) => ipOf(e));
    case 'client':
      return (r) => [(r as { client?: unknown }).client, (r as { v?: unknown }).v].filter((v) => v !== undefined);
    default:
      return (r) => {
        const v = (r as unknown as Record<string, unknown>)[field];
        return v === undefined || !Object.hasOwn(r, field) ? [] : [v];
      };
  }
}

function endpoints(r: AnyRecord): string[] {
  return 'src' in r ? [r.src, r.dst] : [];
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

function ipOf(endpoint: string): string {
  const cut = endpoint.lastIndexOf(':');
  const host = cut < 0 ? endpoint : endpoint.slice(0, cut);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Canonical text for an IP: IPv6 expanded to eight lower-case groups, so `::1` equals `0:0::1`. */
export function normalizeIp(text: string): string {
  let s = text.trim().toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (!s.includes(':')) return s;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const octets = last.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) return s;
    s = s.slice(0, lastColon + 1) + ((octets[0]! << 8) | octets[1]!).toString(16) + ':' + ((octets[2]! << 8) | octets[3]!).toString(16);
  }
  const halves = s.split('::');
  if (halves.length > 2) return s;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...new Array<string>(Math.max(0, 8 - head.length - rest.length)).fill('0'), ...rest] : head;
  return groups.map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16).toString(16) : g)).join(':');
}

function compareValue(v: unknown, op: Op, text: string, num: number): boolean {
  if (op === '~') return textOf(v).toLowerCase().includes(text.toLowerCase());
  if (typeof v === 'number' || typeof v === 'boolean') {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    let want = num;
    if (typeof v === 'boolean' && Number.isNaN(want)) {
      const t = text.toLowerCase();
      want = t === 'true' ? 1 : t === 'false' ? 0 : NaN;
    }
    if (Number.isNaN(want)) return op === '!=';
    return compareNumber(n, op, want);
  }
  if (op === '==' || op === '!=') {
    const equal = textOf(v).toLowerCase() === text.toLowerCase();
    return op === '==' ? equal : !equal;
  }
  // Ordering on text fields: compare as numbers when the field text is numeric.
  const n = Number(textOf(v));
  if (Number.isNaN(n)) return false;
  return op === '<' ? n < num : op === '<=' ? n <= num : op === '>' ? n > num : n >= num;
}

function compareNumber(n: number, op: Op, want: number): boolean {
  switch (op) {
    case '==':
      return n === want;
    case '!=':
      return n !== want;
    case '<':
      return n < want;
    case '<=':
      return n <= want;
    case '>':
      return n > want;
    case '>=':
      return n >= want;
    default:
      return false;
  }
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function compileFilter(expr: string): CompiledFilter {
  try {
    const parser = new Parser(tokenize(expr));
    const predicate = parser.parse();
    return { ok: true, test: Object.assign(predicate, { fields: parser.fields as ReadonlySet<string> }) };
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, error: err.message, position: err.position };
    throw err;
  }
}
