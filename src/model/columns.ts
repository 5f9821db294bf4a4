// Typed columns that grow by doubling: the terminal UI's store keeps one value per record in each,
// a few bytes a record instead of an object of several hundred.

type Typed = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** A typed array with a length, grown by doubling as values are pushed. */
export class Column<T extends Typed> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(Math.max(16, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  set(i: number, v: number): void {
    this.data[i] = v;
  }
}

export const f64 = (): Column<Float64Array> => new Column(new Float64Array(0), (n) => new Float64Array(n));
export const i32 = (): Column<Int32Array> => new Column(new Int32Array(0), (n) => new Int32Array(n));
export const u32 = (): Column<Uint32Array> => new Column(new Uint32Array(0), (n) => new Uint32Array(n));
export const u16 = (): Column<Uint16Array> => new Column(new Uint16Array(0), (n) => new Uint16Array(n));
export const u8 = (): Column<Uint8Array> => new Column(new Uint8Array(0), (n) => new Uint8Array(n));

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
