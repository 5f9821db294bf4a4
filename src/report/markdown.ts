// `--report FILE.md`: GitHub-flavoured Markdown to paste into an issue: the verdict, the findings
// table, the extension maps table and, for each of the first ten findings, a mermaid sequence
// diagram of the messages around it. Peer strings go through escapeMarkdown in tables and
// escapeMermaid in diagrams: none can end a cell, a code fence or a mermaid statement. Tables are
// capped so the text stays within what an issue comment takes (65,536 characters).
import type { ConnInfo, Finding, ReportCollector } from './collect.js';
import { clientOf, extensionRows, formatBytes, relTime, scopeOf, type ConnSelection, type ReportMeta } from './common.js';
import { isoTime } from '../output/time-format.js';
import { rowLabel } from './ladder.js';
import { escapeMarkdown, escapeMermaid, markdownEntities, mermaidEntities } from '../output/escape.js';
import { partitionPoint } from '../util/sorted.js';

/** Findings with a diagram. */
export const MAX_DIAGRAMS = 10;
/** Messages shown before and after the one a finding points at. */
const AROUND = 4;
const MAX_TABLE_FINDINGS = 40;
const MAX_MAP_CONNS = 12;

export function renderMarkdown(c: ReportCollector, meta: ReportMeta, selected: ConnSelection = () => true): string {
  const scope = scopeOf(c, selected);
  const out: string[] = [];
  out.push(`## ltdh-inspect report: ${escapeMarkdown(meta.capture, 200)}`, '');
  out.push(`**${markdownEntities(scope.verdict)}**`, '');
  const span = Number.isFinite(c.firstTs) ? `${isoTime(c.firstTs, 3)}, ${(c.lastTs - c.firstTs).toFixed(3)} s` : 'no BitTorrent traffic';
  const size = meta.captureBytes !== undefined ? ` (${formatBytes(meta.captureBytes)})` : '';
  out.push(`Capture ${escapeMarkdown(meta.capture, 200)}${size}, ${span}. Made by ltdh-inspect ${escapeMarkdown(meta.version)}: ${escapeMarkdown(meta.command, 500)}`, '');
  out.push(...findingsTable(c, scope.findings), '');
  out.push(...mapsTable(scope.conns), '');
  scope.findings.slice(0, MAX_DIAGRAMS).forEach((f, n) => out.push(...diagram(c, f, n), ''));
  if (scope.findings.length > MAX_DIAGRAMS) out.push(`Diagrams for the first ${MAX_DIAGRAMS} findings only; the HTML report (\`--report FILE.html\`) has the whole ladder.`, '');
  return out.join('\n');
}

function findingsTable(c: ReportCollector, findings: Finding[]): string[] {
  if (findings.length === 0) return ['### Findings', '', 'No findings.'];
  const lines = ['### Findings', '', '| # | severity | code | conn | from → to | time (s) | frame | piece | explanation |', '|---|---|---|---|---|---|---|---|---|'];
  findings.slice(0, MAX_TABLE_FINDINGS).forEach((f, n) => {
    const r = f.record;
    const frame = f.row >= 0 && c.frame[f.row]! > 0 ? String(c.frame[f.row]) : '';
    const where = r.conn > 0 ? `${escapeMarkdown(r.src)} → ${escapeMarkdown(r.dst)}` : '';
    lines.push(`| ${n + 1} | ${r.severity ?? 'info'} | ${escapeMarkdown(r.finding ?? '?')} | ${r.conn > 0 ? r.conn : 'capture'} | ${where} | ${relTime(c, r.ts)} | ${frame} | ${r.piece ?? ''} | ${escapeMarkdown(r.message ?? '', 600)} |`);
  });
  if (findings.length > MAX_TABLE_FINDINGS) lines.push('', `… and ${findings.length - MAX_TABLE_FINDINGS} more findings (see \`--check\` or the HTML report).`);
  return lines;
}

function mapsTable(conns: ConnInfo[]): string[] {
  const withMaps = conns.filter((i) => extensionRows(i).length > 0);
  if (withMaps.length === 0) return ['### Extension maps', '', 'No extended handshake captured.'];
  const lines = [
    '### Extension maps',
    '',
    "A message from one side carries the id the other side advertised: A → B uses B's id.",
    '',
    "| conn | A (initiator) | B (responder) | extension | B → A uses (A's map) | A → B uses (B's map) |",
    '|---|---|---|---|---|---|',
  ];
  for (const info of withMaps.slice(0, MAX_MAP_CONNS)) {
    const a = `${escapeMarkdown(info.addr[0])} ${escapeMarkdown(clientOf(info, 0), 60)}`;
    const b = `${escapeMarkdown(info.addr[1])} ${escapeMarkdown(clientOf(info, 1), 60)}`;
    extensionRows(info).forEach((r, k) => {
      const id = (v: number | undefined): string => (v === undefined ? '—' : v === 0 ? '0 (disabled)' : String(v));
      const mark = r.ids[0] !== undefined && r.ids[1] !== undefined && r.ids[0] !== r.ids[1] ? ' (ids differ)' : '';
      lines.push(`| ${k === 0 ? info.conn : ''} | ${k === 0 ? a : ''} | ${k === 0 ? b : ''} | ${escapeMarkdown(r.name, 60)}${mark} | ${id(r.ids[0])} | ${id(r.ids[1])} |`);
    });
  }
  if (withMaps.length > MAX_MAP_CONNS) lines.push('', `… and ${withMaps.length - MAX_MAP_CONNS} more connections with extension maps.`);
  return lines;
}

/** A sequence diagram of the messages around the one finding `n` points at. */
function diagram(c: ReportCollector, f: Finding, n: number): string[] {
  const r = f.record;
  const title = `#### ${n + 1}. ${r.severity ?? 'info'} ${escapeMarkdown(r.finding ?? '?')}${r.conn > 0 ? ` on conn ${r.conn}` : ''}`;
  const text = escapeMarkdown(r.message ?? '', 600);
  const info = c.conns.get(r.conn);
  if (info === undefined || f.row < 0) return [title, '', text, '', '(no message of the capture to draw it at)'];
  const at = positionOf(info, f.row);
  const from = Math.max(0, at - AROUND);
  const to = Math.min(info.rows.length - 1, at + AROUND);
  const lines = [title, '', text, '', '```mermaid', 'sequenceDiagram'];
  lines.push(`    participant A as A ${escapeMermaid(info.addr[0])} ${escapeMermaid(clientOf(info, 0), 40)}`);
  lines.push(`    participant B as B ${escapeMermaid(info.addr[1])} ${escapeMermaid(clientOf(info, 1), 40)}`);
  for (let k = from; k <= to; k++) {
    const row = info.rows.at(k);
    const kind = c.kindName(row);
    const label = mermaidEntities(rowLabel(c, row).replace(/^>> /, '').slice(0, 120));
    const frame = c.frame[row]! > 0 ? ` frame ${c.frame[row]}` : '';
    const time = `${relTime(c, c.ts[row]!)} s`;
    if (c.isMessage[row] === 0) lines.push(`    Note over A,B: ${time} ${label}`);
    else lines.push(`    ${c.dir[row] === 0 ? 'A->>B' : 'B->>A'}: ${time}${frame} ${label}`);
    if (kind === 'lt_donthave') lines.push(`    Note over A,B: lt_donthave ${c.piece[row]! >= 0 ? `piece ${c.piece[row]}` : '(no piece: malformed)'}`);
    if (row === f.row) lines.push(`    Note ${c.dir[row] === 0 ? 'right of B' : 'left of A'}: ${(r.severity ?? 'info').toUpperCase()} ${escapeMermaid(r.finding ?? '?')}`);
  }
  lines.push('```');
  return lines;
}

/** Where row index `row` is in the connection's (increasing) row list. */
function positionOf(info: ConnInfo, row: number): number {
  // At most the last position.
  return partitionPoint(info.rows.length - 1, (k) => info.rows.at(k) < row);
}
