// Typed columns in chunks: the terminal UI's store keeps one value per record in each, a few bytes a
// record instead of an object of several hundred. Chunks of CHUNK_ROWS values, never copied: growing
// by doubling would hold the old and the new array at once (at 10 million records that transient
// was hundreds of MB of peak RSS), and leave up to half of the last array unused.

type Typed = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** Values per chunk (a power of two: row >>> CHUNK_SHIFT is the chunk, row & CHUNK_MASK the place in it). */
export const CHUNK_SHIFT = 16;
export const CHUNK_ROWS = 1 << CHUNK_SHIFT;
export const CHUNK_MASK = CHUNK_ROWS - 1;

/** A typed column with a length, grown a chunk at a time as values are pushed. */
export class Column<T extends Typed> {
  length = 0;
  readonly chunks: T[] = [];
  constructor(private readonly make: (n: number) => T) {}

  push(v: number): void {
    const at = this.length & CHUNK_MASK;
    if (at === 0) this.chunks.push(this.make(CHUNK_ROWS));
    this.chunks[this.chunks.length - 1]![at] = v;
    this.length++;
  }

  /** Value `i`; undefined past the end. */
  get(i: number): number | undefined {
    return i >= 0 && i < this.length ? this.chunks[i >>> CHUNK_SHIFT]![i & CHUNK_MASK] : undefined;
  }

  set(i: number, v: number): void {
    if (i >= 0 && i < this.length) this.chunks[i >>> CHUNK_SHIFT]![i & CHUNK_MASK] = v;
  }
}

export const f64 = (): Column<Float64Array> => new Column((n) => new Float64Array(n));
export const i32 = (): Column<Int32Array> => new Column((n) => new Int32Array(n));
export const u32 = (): Column<Uint32Array> => new Column((n) => new Uint32Array(n));
export const u16 = (): Column<Uint16Array> => new Column((n) => new Uint16Array(n));
export const u8 = (): Column<Uint8Array> => new Column((n) => new Uint8Array(n));

/** Strings kept once each, named by a number (addresses, names, finding codes). */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly strings: string[] = [];

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  /** The id of `s` if it was interned, else -1 (a lookup that must not add). */
  find(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  string(id: number): string {
    return this.strings[id]!;
  }
}
