// The terminal UI's records as columns: about 60 bytes a record instead of an object of several
// hundred. A record is described by its shape (its keys in order, and the values that repeat: the
// transport, message, extension and event names), interned once; its other values go to typed
// columns (time, frame, connection, addresses as interned strings, size, up to four more integers
// such as piece/begin/length and one more string). A record is rebuilt from its row when asked
// (the rows on screen, the selected one, a filter pass), with its keys in their order. Records that
// do not fit a shape (handshakes, findings, summaries: a few per connection) stay objects.
import type { AnyRecord } from './record.js';
import { CHUNK_MASK, CHUNK_ROWS, CHUNK_SHIFT, Interner } from './columns.js';

/** How a key's value is kept: in a column, as a constant of the shape, in an integer slot or the string slot. */
const enum Kind {
  Ts,
  Frame,
  FirstFrame,
  Conn,
  Src,
  Dst,
  Size,
  Const,
  Int,
  Str,
}

interface Field {
  key: string;
  kind: Kind;
  /** Kind.Const: the value; Kind.Int: the slot. */
  value?: unknown;
}

/** A step of the shapes' trie: after a key, or after a constant key's value. */
interface ShapeNode {
  next?: Map<string, ShapeNode>;
  consts?: Map<unknown, ShapeNode>;
  shape?: number;
}

/** Shape 0: the record is an object in the side table. */
const OBJECT = 0;
/** Shapes beyond this are not made (extension names come from peers): such records stay objects. */
const MAX_SHAPES = 60_000;
const INT_SLOTS = 4;
/** Keys whose value is the same for many records: kept in the shape, not per row. */
const CONST_KEYS = new Set(['transport', 'msg', 'event', 'ext', 'resync', 'severity', 'late']);
/** Strings kept as constants only when short (a name, not a peer's free text). */
const MAX_CONST_STRING = 64;

const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v && !Object.is(v, -0);
const isUint32 = (v: unknown): v is number => typeof v === 'number' && v >>> 0 === v && !Object.is(v, -0);

export class RecordColumns {
  // Every column in chunks of CHUNK_ROWS rows (columns.ts: never copied), a chunk of each added
  // together. Plain typed arrays (not Column objects) so that each access is monomorphic: a push is on
  // the decoder's path for every record. Row r is at [r >>> CHUNK_SHIFT][r & CHUNK_MASK].
  private rows = 0;
  private readonly shapeOf: Uint16Array[] = [];
  private readonly tsCol: Float64Array[] = [];
  private readonly frameCol: Uint32Array[] = [];
  private readonly firstFrameCol: Uint32Array[] = [];
  private readonly connCol: Int32Array[] = [];
  private readonly srcCol: Uint32Array[] = [];
  private readonly dstCol: Uint32Array[] = [];
  private readonly sizeCol: Uint32Array[] = [];
  /** INT_SLOTS integers per row. */
  private readonly intCol: Int32Array[] = [];
  private readonly strCol: Uint32Array[] = [];
  private readonly strings = new Interner();
  private readonly shapes: Field[][] = [[]];
  private readonly root: ShapeNode = {};
  /** Per shape, the object peek() fills. */
  private readonly scratch: (Record<string, unknown> | undefined)[] = [];
  /** The keys of the last peekKeys() and, per shape, the fields it updates for them. */
  private readKeys: ReadonlySet<string> | undefined;
  private readFields: (Field[] | undefined)[] = [];
  /** Rows kept as objects (shape 0). */
  private readonly objects = new Map<number, AnyRecord>();

  get length(): number {
    return this.rows;
  }

  /** Appends `r`; returns its row. One pass over its keys stores the values and finds the shape. */
  push(r: AnyRecord): number {
    const row = this.rows;
    const at = row & CHUNK_MASK;
    if (at === 0) this.addChunk();
    this.rows++;
    const c = row >>> CHUNK_SHIFT;
    const rec = r as unknown as Record<string, unknown>;
    // Defaults for the columns every row has (a record without them, such as a capture warning).
    this.tsCol[c]![at] = NaN;
    this.connCol[c]![at] = -1;
    const shape = this.store(rec, c, at);
    this.shapeOf[c]![at] = shape;
    if (shape === OBJECT) this.objects.set(row, r);
    return row;
  }

  /** The record of `row`, rebuilt (a new object each time, equal to the one pushed). */
  get(row: number): AnyRecord | undefined {
    if (row < 0 || row >= this.rows) return undefined;
    const shape = this.shapeOf[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
    if (shape === OBJECT) return this.objects.get(row);
    const out: Record<string, unknown> = {};
    for (const f of this.shapes[shape]!) out[f.key] = this.value(row, f);
    return out as unknown as AnyRecord;
  }

  /**
   * The record of `row` in an object reused for every row of its shape: valid only until the next
   * call (a filter pass reads each record once and keeps none; no object is made per row).
   */
  peek(row: number): AnyRecord | undefined {
    if (row < 0 || row >= this.rows) return undefined;
    const shape = this.shapeOf[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
    if (shape === OBJECT) return this.objects.get(row);
    let out = this.scratch[shape];
    if (out === undefined) return (this.scratch[shape] = this.get(row) as unknown as Record<string, unknown>) as unknown as AnyRecord;
    for (const f of this.shapes[shape]!) out[f.key] = this.value(row, f);
    return out as unknown as AnyRecord;
  }

  /**
   * peek(), with only `keys` brought up to date: the object reused for the row's shape keeps the other
   * keys' values from an earlier row. For a filter that reads only `keys` (filter.ts RecordTest.fields):
   * the shape fixes which keys a row has and the constant values (names), so most rows cost one or
   * two column reads, not a rebuilt record.
   */
  peekKeys(row: number, keys: ReadonlySet<string>): AnyRecord | undefined {
    if (row < 0 || row >= this.rows) return undefined;
    const c = row >>> CHUNK_SHIFT;
    const at = row & CHUNK_MASK;
    const shape = this.shapeOf[c]![at]!;
    if (shape === OBJECT) return this.objects.get(row);
    const out = this.scratch[shape];
    if (out === undefined) return this.peek(row);
    if (this.readKeys !== keys) {
      this.readKeys = keys;
      this.readFields = [];
    }
    // Per shape, its fields among `keys` whose value varies by row.
    const fields = (this.readFields[shape] ??= this.shapes[shape]!.filter((f) => f.kind !== Kind.Const && keys.has(f.key)));
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      out[f.key] = this.valueAt(c, at, f);
    }
    return out as unknown as AnyRecord;
  }

  /** Replaces the record of `row` (Decode As renames messages): kept as an object from then on. */
  replace(row: number, r: AnyRecord): void {
    this.shapeOf[row >>> CHUNK_SHIFT]![row & CHUNK_MASK] = OBJECT;
    this.objects.set(row, r);
  }

  /** Columns read without rebuilding the record: time (NaN if none), connection (-1 if none), src and dst ids. */
  ts(row: number): number {
    return this.tsCol[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
  }
  conn(row: number): number {
    return this.connCol[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
  }
  srcId(row: number): number {
    return this.srcCol[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
  }
  dstId(row: number): number {
    return this.dstCol[row >>> CHUNK_SHIFT]![row & CHUNK_MASK]!;
  }
  /** The id of address `s` (-1 when no record has it). */
  addressId(s: string): number {
    return this.strings.find(s);
  }

  /** A chunk more of every column (new typed arrays are zero: src and dst default to id 0). */
  private addChunk(): void {
    this.shapeOf.push(new Uint16Array(CHUNK_ROWS));
    this.tsCol.push(new Float64Array(CHUNK_ROWS));
    this.frameCol.push(new Uint32Array(CHUNK_ROWS));
    this.firstFrameCol.push(new Uint32Array(CHUNK_ROWS));
    this.connCol.push(new Int32Array(CHUNK_ROWS));
    this.srcCol.push(new Uint32Array(CHUNK_ROWS));
    this.dstCol.push(new Uint32Array(CHUNK_ROWS));
    this.sizeCol.push(new Uint32Array(CHUNK_ROWS));
    this.intCol.push(new Int32Array(CHUNK_ROWS * INT_SLOTS));
    this.strCol.push(new Uint32Array(CHUNK_ROWS));
  }

  private value(row: number, f: Field): unknown {
    return this.valueAt(row >>> CHUNK_SHIFT, row & CHUNK_MASK, f);
  }

  /** Field `f`'s value at place `at` of chunk `c`. */
  private valueAt(c: number, at: number, f: Field): unknown {
    switch (f.kind) {
      case Kind.Ts:
        return this.tsCol[c]![at];
      case Kind.Frame:
        return this.frameCol[c]![at];
      case Kind.FirstFrame:
        return this.firstFrameCol[c]![at];
      case Kind.Conn:
        return this.connCol[c]![at];
      case Kind.Src:
        return this.strings.string(this.srcCol[c]![at]!);
      case Kind.Dst:
        return this.strings.string(this.dstCol[c]![at]!);
      case Kind.Size:
        return this.sizeCol[c]![at];
      case Kind.Const:
        return f.value;
      case Kind.Int:
        return this.intCol[c]![at * INT_SLOTS + (f.value as number)];
      case Kind.Str:
        return this.strings.string(this.strCol[c]![at]!);
    }
  }

  /**
   * Stores `r`'s values in row `row` and returns its shape, made on first sight; OBJECT when some
   * value fits no column (what was stored then is only the columns read without the record). The
   * shape is found by walking a trie of keys (and constant values) in order: Map lookups on the
   * record's own strings, no signature text built per record.
   */
  private store(r: Record<string, unknown>, c: number, at: number): number {
    let node = this.root;
    let ints = 0;
    let strs = 0;
    const full = this.shapes.length >= MAX_SHAPES;
    for (const key in r) {
      const v = r[key];
      const kind = columnKind(key, v);
      switch (kind) {
        case undefined:
          return OBJECT;
        case Kind.Ts:
          this.tsCol[c]![at] = v as number;
          break;
        case Kind.Frame:
          this.frameCol[c]![at] = v as number;
          break;
        case Kind.FirstFrame:
          this.firstFrameCol[c]![at] = v as number;
          break;
        case Kind.Conn:
          this.connCol[c]![at] = v as number;
          break;
        case Kind.Src:
          this.srcCol[c]![at] = this.strings.id(v as string);
          break;
        case Kind.Dst:
          this.dstCol[c]![at] = this.strings.id(v as string);
          break;
        case Kind.Size:
          this.sizeCol[c]![at] = v as number;
          break;
        case Kind.Int:
          if (ints === INT_SLOTS) return OBJECT;
          this.intCol[c]![at * INT_SLOTS + ints++] = v as number;
          break;
        case Kind.Str:
          if (strs++ === 1) return OBJECT;
          this.strCol[c]![at] = this.strings.id(v as string);
          break;
        default:
      }
      let next = node.next?.get(key);
      if (next === undefined) {
        if (full) return OBJECT;
        next = {};
        (node.next ??= new Map()).set(key, next);
      }
      node = next;
      if (kind !== Kind.Const) continue;
      next = node.consts?.get(v);
      if (next === undefined) {
        if (full) return OBJECT;
        next = {};
        (node.consts ??= new Map()).set(v, next);
      }
      node = next;
    }
    if (node.shape !== undefined) return node.shape;
    if (full) return OBJECT;
    const fields: Field[] = [];
    let slot = 0;
    for (const key in r) {
      const kind = columnKind(key, r[key])!;
      fields.push(kind === Kind.Const ? { key, kind, value: r[key] } : kind === Kind.Int ? { key, kind, value: slot++ } : { key, kind });
    }
    node.shape = this.shapes.length;
    this.shapes.push(fields);
    return node.shape;
  }
}

/** Where `key`'s value `v` can be kept, or undefined when only the object can keep it. */
function columnKind(key: string, v: unknown): Kind | undefined {
  switch (key) {
    case 'ts':
      return typeof v === 'number' ? Kind.Ts : undefined;
    case 'frame':
      return isUint32(v) ? Kind.Frame : undefined;
    case 'firstFrame':
      return isUint32(v) ? Kind.FirstFrame : undefined;
    case 'conn':
      return isInt32(v) ? Kind.Conn : undefined;
    case 'src':
      return typeof v === 'string' ? Kind.Src : undefined;
    case 'dst':
      return typeof v === 'string' ? Kind.Dst : undefined;
    case 'size':
      return isUint32(v) ? Kind.Size : undefined;
    default:
  }
  if (CONST_KEYS.has(key)) {
    if (v === null || v === true || typeof v === 'number') return Kind.Const;
    return typeof v === 'string' && v.length <= MAX_CONST_STRING ? Kind.Const : undefined;
  }
  if (isInt32(v)) return Kind.Int;
  return typeof v === 'string' ? Kind.Str : undefined;
}
