// The report's two graphs per connection, as inline SVG strings: each side's pieces over time
// (announced, withdrawn with lt_donthave, announced again) and bytes per second per direction.
// Both are drawn on a fixed grid, so their size does not grow with the capture.
import type { ConnInfo, ReportCollector } from './collect.js';
import { PieceHoldings, PieceState } from '../analysis/piece-state.js';
import type { MessageName, MessageRecord } from '../model/record.js';

const COLUMNS = 80;
const MAX_PIECE_ROWS = 40;
const CELL_W = 5;
const CELL_H = 5;
/** Cell states, drawn with the CSS classes p1..p4. */
const HAVE_ALL = 1;
const AGAIN = 2;
const LOST = 3;
const HAVE_SOME = 4;

const PIECE_KINDS = new Set(['have', 'bitfield', 'have_all', 'have_none', 'lt_donthave']);

/** Each side's piece map over time, or undefined when the connection says nothing of pieces. */
export function pieceMapSvgs(c: ReportCollector, info: ConnInfo): [string, string] | undefined {
  const n = info.pieces;
  if (n === 0) return undefined;
  const groups = Math.min(n, MAX_PIECE_ROWS);
  const per = Math.ceil(n / groups);
  const { t0, t1 } = span(c, info);
  const width = (t1 - t0) / COLUMNS;
  const sides = [new PieceHoldings(), new PieceHoldings()];
  const everLost = [new Uint8Array(n), new Uint8Array(n)];
  const grid = [new Uint8Array(COLUMNS * groups), new Uint8Array(COLUMNS * groups)];
  let col = 0;
  const snapshot = (): void => {
    for (let s = 0; s < 2; s++) for (let g = 0; g < groups; g++) grid[s]![col * groups + g] = cellState(sides[s]!, everLost[s]!, g * per, Math.min(n, (g + 1) * per));
    col++;
  };
  let any = false;
  for (let k = 0; k < info.rows.length; k++) {
    const row = info.rows.at(k);
    const kind = c.kindName(row);
    if (c.isMessage[row] !== 1 || !PIECE_KINDS.has(kind)) continue;
    while (col < COLUMNS - 1 && width > 0 && c.ts[row]! >= t0 + (col + 1) * width) snapshot();
    const s = c.dir[row]!;
    const piece = c.piece[row]!;
    const r = { msg: (kind === 'lt_donthave' ? 'extended' : kind) as MessageName, ext: kind === 'lt_donthave' ? 'lt_donthave' : undefined, piece: piece >= 0 ? piece : undefined } as MessageRecord;
    sides[s]!.apply(r, c.bitfields.get(row));
    if (kind === 'lt_donthave' && piece >= 0 && piece < n) everLost[s]![piece] = 1;
    any = true;
  }
  if (!any) return undefined;
  while (col < COLUMNS) snapshot();
  return [gridSvg(grid[0]!, groups, per, n, t1 - t0), gridSvg(grid[1]!, groups, per, n, t1 - t0)];
}

function cellState(side: PieceHoldings, everLost: Uint8Array, from: number, to: number): number {
  let have = 0;
  let again = false;
  for (let p = from; p < to; p++) {
    const state = side.state(p);
    if (state === PieceState.Lost) return LOST;
    if (state === PieceState.Have) {
      have++;
      if (everLost[p] === 1) again = true;
    }
  }
  if (again) return AGAIN;
  return have === 0 ? 0 : have === to - from ? HAVE_ALL : HAVE_SOME;
}

function gridSvg(grid: Uint8Array, groups: number, per: number, n: number, seconds: number): string {
  const w = COLUMNS * CELL_W;
  const h = groups * CELL_H;
  const parts = [`<svg class="pm" width="${w + 60}" height="${h + 16}" viewBox="0 0 ${w + 60} ${h + 16}" role="img"><rect class="bg" x="56" y="0" width="${w}" height="${h}"/>`];
  for (let g = 0; g < groups; g++) {
    // Runs of equal cells in a row become one rectangle.
    for (let x = 0; x < COLUMNS; ) {
      const state = grid[x * groups + g]!;
      let end = x + 1;
      while (end < COLUMNS && grid[end * groups + g] === state) end++;
      if (state !== 0) parts.push(`<rect class="p${state}" x="${56 + x * CELL_W}" y="${g * CELL_H}" width="${(end - x) * CELL_W}" height="${CELL_H}"/>`);
      x = end;
    }
  }
  parts.push(`<text x="52" y="8" text-anchor="end">0</text><text x="52" y="${h}" text-anchor="end">${n - 1}</text>`);
  parts.push(`<text x="56" y="${h + 13}">0 s</text><text x="${56 + w}" y="${h + 13}" text-anchor="end">${seconds.toFixed(3)} s</text>`);
  if (per > 1) parts.push(`<text x="${56 + w / 2}" y="${h + 13}" text-anchor="middle">(a row = ${per} pieces)</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Bytes per second per direction over the connection's time, like Wireshark's IO graph. */
export function ioGraphSvg(c: ReportCollector, info: ConnInfo): string {
  const { t0, t1 } = span(c, info);
  const seconds = Math.max(t1 - t0, 1e-6);
  const bucket = seconds / COLUMNS;
  const sums = [new Float64Array(COLUMNS), new Float64Array(COLUMNS)];
  for (let k = 0; k < info.rows.length; k++) {
    const row = info.rows.at(k);
    if (c.isMessage[row] !== 1) continue;
    const b = Math.min(COLUMNS - 1, Math.floor((c.ts[row]! - t0) / bucket));
    sums[c.dir[row]!]![b]! += c.size[row]!;
  }
  let max = 1;
  for (const s of sums) for (const v of s) max = Math.max(max, v / bucket);
  const w = COLUMNS * CELL_W;
  const h = 80;
  const line = (s: Float64Array): string =>
    Array.from(s, (v, x) => `${56 + x * CELL_W + CELL_W / 2},${(h - (v / bucket / max) * h).toFixed(1)}`).join(' ');
  return (
    `<svg class="io" width="${w + 60}" height="${h + 16}" viewBox="0 0 ${w + 60} ${h + 16}" role="img">` +
    `<rect class="bg" x="56" y="0" width="${w}" height="${h}"/>` +
    `<polyline class="d0" points="${line(sums[0]!)}"/><polyline class="d1" points="${line(sums[1]!)}"/>` +
    `<text x="52" y="9" text-anchor="end">${rate(max)}</text><text x="52" y="${h}" text-anchor="end">0</text>` +
    `<text x="56" y="${h + 13}">0 s</text><text x="${56 + w}" y="${h + 13}" text-anchor="end">${seconds.toFixed(3)} s</text>` +
    `</svg>`
  );
}

function rate(bytesPerSecond: number): string {
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let v = bytesPerSecond;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function span(c: ReportCollector, info: ConnInfo): { t0: number; t1: number } {
  const n = info.rows.length;
  if (n === 0) return { t0: 0, t1: 0 };
  return { t0: c.ts[info.rows.at(0)]!, t1: c.ts[info.rows.at(n - 1)]! };
}
