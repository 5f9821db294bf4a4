// The terminal UI's view: the indices of the records that pass the filter and connection in force,
// and the pass that makes it when either changes. The pass runs in slices (Wireshark's progressive
// filtering): `step(rows)` scans the next rows and the view holds the matches found so far, so the UI
// can paint the first screenful at once, keep answering keys, and drop the pass for a new filter.
// Records that arrive while a pass runs are reached by it (it runs to the store's length, which
// grows); once it is done, each new record is tested as it arrives. Also the view's lookups (a
// record's position, the next lt_donthave or finding shown). Plain code: the scheduling of
// the slices (setImmediate) belongs to the UI (src/ui/view-pass-runner.ts).
import type { AnyRecord } from './record.js';
import type { RecordColumns } from './record-columns.js';
import { countAtMost, countBelow } from '../util/sorted.js';

/** A filter; with `fields` (a compiled filter's RecordTest), the keys it reads: a pass brings only those up to date. */
export type Predicate = ((r: AnyRecord) => boolean) & { readonly fields?: ReadonlySet<string> };

/** How far a pass has gone: rows scanned of the rows there are. */
export interface PassProgress {
  scanned: number;
  total: number;
}

export class ViewPass {
  /**
   * Every record index in order: the view while no filter or connection is chosen, and kept up to
   * date while one is, so that clearing it takes no pass (at 10 million records, making this array
   * again took a quarter of a second).
   */
  private readonly all: number[] = [];
  /** Indices (into records) of the records that pass the filter and connection choice (so far, while a pass runs). */
  view: number[] = this.all;
  private filterInForce: Predicate | undefined;
  private conn: number | undefined;
  /** Rows the pass has scanned; undefined when no pass is running. */
  private scanned: number | undefined;

  constructor(private readonly rows: RecordColumns) {}

  get connection(): number | undefined {
    return this.conn;
  }

  get filter(): Predicate | undefined {
    return this.filterInForce;
  }

  /** The pass running, if one is. */
  get progress(): PassProgress | undefined {
    return this.scanned === undefined ? undefined : { scanned: this.scanned, total: this.rows.length };
  }

  /** Record `index` was added (the last row): it joins the view if it passes, unless a pass will reach it. */
  appended(index: number, record: AnyRecord): void {
    this.all.push(index);
    if (this.view !== this.all && this.scanned === undefined && this.passes(record)) this.view.push(index);
  }

  /**
   * Starts a pass for a new filter and connection, dropping any pass running. Neither: the view is
   * every record at once, no pass.
   */
  start(filter: Predicate | undefined, conn: number | undefined): void {
    this.filterInForce = filter;
    this.conn = conn;
    if (filter === undefined && conn === undefined) {
      this.view = this.all;
      this.scanned = undefined;
      return;
    }
    this.view = [];
    this.scanned = 0;
  }

  /** Scans up to `maxRows` more rows of the running pass; true when no pass is left running. */
  step(maxRows: number): boolean {
    if (this.scanned === undefined) return true;
    const rows = this.rows;
    const end = Math.min(rows.length, this.scanned + Math.max(1, maxRows));
    // The connection is read from its column; the filter reads each row in a reused object, with
    // only the keys it reads brought up to date when it says which (a compiled filter does).
    const view = this.view;
    const filter = this.filterInForce;
    const keys = filter?.fields;
    const conn = this.conn;
    for (let i = this.scanned; i < end; i++) {
      if (conn !== undefined && rows.conn(i) !== conn) continue;
      if (filter === undefined || filter(keys !== undefined ? rows.peekKeys(i, keys)! : rows.peek(i)!)) view.push(i);
    }
    this.scanned = end === rows.length ? undefined : end;
    return this.scanned === undefined;
  }

  /** Position in the view of the first row at or after record `index` (view.length if none). */
  positionAtOrAfter(index: number): number {
    return countBelow(this.view, index);
  }

  /** Next or previous entry of `list` (record indices, ascending) that is in the view, from view position `from`. */
  findIn(list: number[], from: number, dir: 1 | -1): number {
    const current = this.view[from] ?? (dir === 1 ? -1 : Number.MAX_SAFE_INTEGER);
    // The first candidate past the current record.
    const past = countAtMost(list, current);
    let i = dir === 1 ? past : past - 1;
    if (dir === -1 && list[i] === current) i--;
    for (; i >= 0 && i < list.length; i += dir) {
      const index = list[i]!;
      const pos = this.positionAtOrAfter(index);
      if (this.view[pos] === index) return pos;
    }
    return -1;
  }

  private passes(record: AnyRecord): boolean {
    if (this.conn !== undefined && (!('conn' in record) || record.conn !== this.conn)) return false;
    return this.filterInForce === undefined || this.filterInForce(record);
  }
}
