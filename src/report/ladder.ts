// The message ladder of one connection as items to draw: single rows, runs of bulk messages
// (piece, request, have...) collapsed into one line, and, when a connection holds more rows than
// the report's budget, stretches left out with what they held. Sans-I/O: rows in, items out.
import type { ReportCollector } from './collect.js';
import { describeMessage } from '../output/text-format.js';
import type { MessageName, MessageRecord } from '../model/record.js';

/** Message kinds that collapse when they come in long runs. */
const BULK = new Set(['piece', 'request', 'have', 'cancel', 'reject_request', 'keep_alive', 'suggest_piece', 'allowed_fast']);
/** A run of bulk rows this long (or longer) collapses into one line. */
export const MIN_RUN = 6;
/** Rows of a collapsed run shown when it is expanded: its first and last this many. */
export const RUN_EDGE = 15;
/** Rows kept beside a row a finding points at, before and after, when a ladder is thinned. */
const CONTEXT = 3;

/** `from`, `to`: positions in the connection's row list (inclusive); `row`, `rows`: row indices. */
export type LadderItem =
  | { type: 'row'; row: number; from: number; to: number }
  | { type: 'run'; rows: number[]; count: number; from: number; to: number; hidden: number }
  | { type: 'elided'; count: number; from: number; to: number };

/** What an item costs in drawn lines. */
export function itemCost(item: LadderItem): number {
  return item.type === 'run' ? 1 + item.rows.length + (item.hidden > 0 ? 1 : 0) : 1;
}

/**
 * The connection's rows with long bulk runs collapsed. Rows a finding points at never collapse,
 * so every finding sits beside its own arrow.
 */
export function collapse(c: ReportCollector, rows: ArrayLike<number>, pinned: ReadonlySet<number>): LadderItem[] {
  const items: LadderItem[] = [];
  let start = 0;
  const endRun = (end: number): void => {
    if (end - start >= MIN_RUN) items.push(runItem(rows, start, end - 1));
    else for (let k = start; k < end; k++) items.push({ type: 'row', row: rows[k]!, from: k, to: k });
  };
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    if (c.isMessage[row] === 1 && BULK.has(c.kindName(row)) && !pinned.has(row)) continue;
    endRun(k);
    items.push({ type: 'row', row, from: k, to: k });
    start = k + 1;
  }
  endRun(rows.length);
  return items;
}

function runItem(rows: ArrayLike<number>, from: number, to: number, edge = RUN_EDGE): LadderItem {
  const count = to - from + 1;
  const shown: number[] = [];
  for (let k = from; k <= to; k++) {
    if (count > 2 * edge && k === from + edge) k = to - edge + 1;
    shown.push(rows[k]!);
  }
  return { type: 'run', rows: shown, count, from, to, hidden: count - shown.length };
}

/** Rows of a collapsed run shown when the ladder is thinned. */
const RUN_EDGE_THIN = 3;

/**
 * Keeps at most `budget` lines (a hard limit: a capture with a million findings still gives a
 * small page): rows a finding points at first, then their neighbours, then lt_donthave,
 * handshakes and events, then the rest in order. Runs show fewer of their rows. What is left out
 * becomes `elided` items that say how many messages they stand for.
 */
export function thin(c: ReportCollector, rows: ArrayLike<number>, items: LadderItem[], pinned: ReadonlySet<number>, budget: number): LadderItem[] {
  if (items.reduce((n, it) => n + itemCost(it), 0) <= budget) return items;
  items = items.map((it) => (it.type === 'run' ? runItem(rows, it.from, it.to, RUN_EDGE_THIN) : it));
  const priority: number[] = items.map((it) => (it.type === 'row' && (c.isMessage[it.row] === 0 || important(c.kindName(it.row))) ? 2 : 3));
  items.forEach((it, k) => {
    if (it.type !== 'row' || !pinned.has(it.row)) return;
    for (let j = Math.max(0, k - CONTEXT); j <= Math.min(items.length - 1, k + CONTEXT); j++) priority[j] = Math.min(priority[j]!, 1);
    priority[k] = 0;
  });
  const order = items.map((_, k) => k).sort((a, b) => priority[a]! - priority[b]! || a - b);
  // The lines saying what was left out count too: select again with less room while they overflow.
  let out = select(items, order, budget);
  for (let room = budget, pass = 0; pass < 8; pass++) {
    const over = out.reduce((n, it) => n + itemCost(it), 0) - budget;
    if (over <= 0) break;
    room -= over;
    out = select(items, order, Math.max(0, room));
  }
  return out;
}

/** The items `order` fits in `room` lines, in their place; the others merged into elided items. */
function select(items: LadderItem[], order: number[], room: number): LadderItem[] {
  const keep = new Uint8Array(items.length);
  let used = 0;
  for (const k of order) {
    const cost = itemCost(items[k]!);
    if (used + cost > room) continue;
    keep[k] = 1;
    used += cost;
  }
  const out: LadderItem[] = [];
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (keep[k] === 1) {
      out.push(it);
      continue;
    }
    const count = it.type === 'row' ? 1 : it.count;
    const prev = out[out.length - 1];
    if (prev?.type === 'elided') {
      prev.count += count;
      prev.to = it.to;
    } else out.push({ type: 'elided', count, from: it.from, to: it.to });
  }
  return out;
}

function important(kind: string): boolean {
  return kind === 'lt_donthave' || kind === 'handshake' || kind === 'extended handshake' || kind === 'bitfield' || kind === 'extended?';
}

/** A row's text: its stored label, or rebuilt from its columns (bulk kinds store none). */
export function rowLabel(c: ReportCollector, row: number): string {
  const stored = c.label[row]!;
  if (stored >= 0) return c.labels[stored]!;
  const kind = c.kindName(row);
  const piece = c.piece[row]!;
  if (kind === 'lt_donthave') return `>> lt_donthave piece=${piece}`;
  if (c.isMessage[row] === 0) return kind.replace(/^event:/, '');
  const r = { msg: kind as MessageName, size: c.size[row]!, piece: piece >= 0 ? piece : undefined, begin: c.begin[row], length: c.length[row] } as MessageRecord;
  if (r.piece === undefined || !['request', 'piece', 'cancel', 'reject_request'].includes(kind)) {
    delete r.begin;
    delete r.length;
  }
  return describeMessage(r);
}

/** "600 request A→B, 598 piece B→A" for positions `from` to `to` of a connection's rows. */
export function countKinds(c: ReportCollector, rows: ArrayLike<number>, from: number, to: number): string {
  // Counted by kind and direction in an array: runs may hold a million rows.
  const counts = new Map<number, number>();
  for (let k = from; k <= to; k++) {
    const row = rows[k]!;
    const key = c.kind[row]! * 2 + c.dir[row]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${n.toLocaleString('en')} ${(c.kinds[key >> 1] ?? 'other').replace(/^event:/, '')} ${key & 1 ? 'B→A' : 'A→B'}`)
    .join(', ');
}
