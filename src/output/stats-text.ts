// `--stats`: the statistics of src/model/statistics.ts as text (Conversations, message types per
// direction, IO graph). Peer strings (clients) are escaped for the terminal.
import type { Conversation, HierarchyRow, Statistics } from '../model/statistics.js';
import { sparkline } from '../model/statistics.js';
import { escapeText } from './escape.js';

/** Lines of the three tables; `width` bounds the IO graph. */
export function formatStatistics(stats: Statistics, width = 100): string[] {
  return [...conversationLines(stats.conversations), '', ...hierarchyLines(stats.hierarchy), '', ...ioLines(stats, width)];
}

export function conversationLines(conversations: readonly Conversation[]): string[] {
  const head = ['conn', 'A (initiator) <-> B', 'duration', 'A->B msgs', 'bytes', 'B->A msgs', 'bytes', 'lt_donthave A->B/B->A', 'findings'];
  const rows = conversations.map((c) => {
    const { a, b } = c;
    return [
      `#${c.conn}`,
      `${escapeText(a.addr)} <-> ${escapeText(b.addr)} ${c.transport}${c.encrypted ? ' encrypted' : ''}`,
      seconds(c.end - c.start),
      String(a.messages),
      bytesText(a.bytes),
      String(b.messages),
      bytesText(b.bytes),
      `${a.donthave}/${b.donthave}`,
      findingsText(c.findings),
    ];
  });
  const lines = table(head, rows, [false, false, true, true, true, true, true, true, false]);
  const out = [`Conversations: ${conversations.length} connection${conversations.length === 1 ? '' : 's'}`, lines[0]!];
  conversations.forEach((c, i) => {
    out.push(lines[i + 1]!);
    const clients = [c.a, c.b].map((s) => escapeText(s.client ?? '?', 40));
    out.push(`      clients: A ${clients[0]}, B ${clients[1]}`);
  });
  return out;
}

export function hierarchyLines(rows: readonly HierarchyRow[]): string[] {
  const head = ['message type', 'A->B msgs', 'bytes', 'B->A msgs', 'bytes', '% bytes'];
  const total = rows.filter((r) => r.depth === 0).reduce((n, r) => n + r.bytes[0] + r.bytes[1], 0);
  const body = rows.map((r) => [
    `${r.depth === 1 ? '  ' : ''}${escapeText(r.depth === 1 ? r.name.slice(r.name.indexOf('/') + 1).replace(/^\?$/, '(unresolved id)') : r.name, 40)}`,
    String(r.messages[0]),
    bytesText(r.bytes[0]),
    String(r.messages[1]),
    bytesText(r.bytes[1]),
    total === 0 ? '-' : `${(((r.bytes[0] + r.bytes[1]) / total) * 100).toFixed(1)}%`,
  ]);
  return ['Message types per direction (A = the initiator of each connection):', ...table(head, body, [false, true, true, true, true, true])];
}

export function ioLines(stats: Statistics, width: number): string[] {
  const { io } = stats;
  const n = io.rates[0].length;
  if (n === 0) return ['IO graph: no messages'];
  const peak = (v: readonly number[]): number => Math.max(0, ...v);
  const scale = Math.max(peak(io.rates[0]), peak(io.rates[1]));
  const shown = Math.max(10, width - 12);
  const cut = (v: readonly number[]): number[] => v.slice(0, shown);
  return [
    `IO graph: bytes/s, ${io.binSeconds} s per column, ${seconds(n * io.binSeconds)} in all; peak A->B ${bytesText(peak(io.rates[0]))}/s, B->A ${bytesText(peak(io.rates[1]))}/s`,
    `  A->B |${sparkline(cut(io.rates[0]), scale)}|`,
    `  B->A |${sparkline(cut(io.rates[1]), scale)}|`,
  ];
}

/** Columns padded to their widest cell; `right` aligns numbers. */
function table(head: readonly string[], rows: readonly string[][], right: readonly boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    '  ' +
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

export function bytesText(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function seconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

function findingsText(f: Conversation['findings']): string {
  const parts = (['error', 'warning', 'info'] as const).filter((k) => f[k] > 0).map((k) => `${f[k]} ${k}${f[k] === 1 ? '' : 's'}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}
