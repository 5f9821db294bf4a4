// `--report FILE.html`: one self-contained page to attach to a bug report. Header and verdict, the
// findings table linked to the ladder, then per connection its endpoints, clients, reserved bits,
// both extension maps side by side, message counts, piece maps, bytes per second and the message
// ladder. Every peer string is escaped (escapeHtml); the CSP allows only the page's own style and
// script. Sans-I/O: a collector in, a string out. Its size is bounded whatever the capture holds:
// long runs collapse, and ladders beyond ROW_BUDGET lines are thinned (what was left out is said).
import type { ConnInfo, Finding, ReportCollector } from './collect.js';
import { clientOf, extensionRows, formatBytes, relTime, scopeOf, type ConnSelection, type ReportMeta } from './common.js';
import { isoTime } from '../output/time-format.js';
import { collapse, countKinds, itemCost, rowLabel, thin, type LadderItem } from './ladder.js';
import { ioGraphSvg, pieceMapSvgs } from './graphs.js';
import { contentSecurityPolicy, SCRIPT, STYLE } from './html-assets.js';
import { escapeHtml, htmlEntities } from '../output/escape.js';
import type { ConnectionSummary, EventRecord } from '../model/record.js';

/**
 * Ladder lines drawn in all (about 200 bytes each, 400 with a finding beside): with the findings
 * table's cap, a report of any capture stays under 4 MB (a million messages with 4,177 findings:
 * measured in docs/report.md).
 */
export const ROW_BUDGET = 10_000;
/** Ladder items per lazily laid out chunk. */
const CHUNK = 100;
/** Connections drawn in full (those with findings first); the others get a line each. */
export const MAX_DETAILED = 60;
/** Connections listed at all. */
const MAX_LISTED = 2000;
/** Findings listed in the table (a capture may give thousands; --check lists them all). */
const MAX_TABLE_FINDINGS = 1000;
/** Characters of a finding's explanation shown beside its arrow (the table has it whole). */
const NOTE_CHARS = 100;

export function renderHtml(c: ReportCollector, meta: ReportMeta, selected: ConnSelection = () => true): string {
  const scope = scopeOf(c, selected);
  const detailed = pickDetailed(scope.conns);
  const byRow = findingsByRow(scope.findings);
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy()}">`,
    '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">',
    `<title>ltdh-inspect report: ${escapeHtml(meta.capture, 120)}</title><style>${STYLE}</style></head><body>`,
  );
  out.push(header(c, meta, scope.verdict, scope.counts, scope.conns.length));
  out.push(findingsTable(c, scope.findings, detailed));
  const budgets = ladderBudgets(c, detailed, byRow);
  const summaries = new Map(c.connectionSummaries().map((s) => [s.conn, s.summary]));
  for (const info of detailed) out.push(connectionSection(c, info, summaries.get(info.conn), byRow, budgets.get(info.conn)!));
  out.push(otherConnections(scope.conns, detailed));
  if (c.warnings.length > 0) out.push(`<h2>Input warnings</h2><ul>${c.warnings.map((w) => `<li>${escapeHtml(w, 300)}</li>`).join('')}</ul>`);
  out.push(`<script>${SCRIPT}</script></body></html>\n`);
  return out.join('\n');
}

function header(c: ReportCollector, meta: ReportMeta, verdict: string, counts: Record<string, number>, conns: number): string {
  const span = Number.isFinite(c.firstTs) ? `${isoTime(c.firstTs, 3)} to ${isoTime(c.lastTs, 3)} (${(c.lastTs - c.firstTs).toFixed(3)} s)` : 'no BitTorrent traffic';
  const word = verdict.includes('FAIL') ? 'FAIL' : 'PASS';
  return (
    `<h1>ltdh-inspect report: ${escapeHtml(meta.capture, 200)}</h1>` +
    `<p class="verdict ${word}" id="verdict">${htmlEntities(verdict)}</p>` +
    `<p><span class="sev error">${counts.error} error</span> <span class="sev warning">${counts.warning} warning</span> <span class="sev info">${counts.info} info</span> in ${conns} connection${conns === 1 ? '' : 's'}</p>` +
    '<table>' +
    row('capture', `${escapeHtml(meta.capture, 300)}${meta.captureBytes !== undefined ? ` (${formatBytes(meta.captureBytes)})` : ''}`) +
    row('time span', span) +
    row('messages', `${c.rows.toLocaleString('en')} messages and connection events`) +
    row('made by', `ltdh-inspect ${escapeHtml(meta.version)}: <code>${escapeHtml(meta.command, 1000)}</code>`) +
    '</table>'
  );
}

function row(name: string, value: string): string {
  return `<tr><th>${name}</th><td>${value}</td></tr>`;
}

function findingsTable(c: ReportCollector, findings: Finding[], detailed: ConnInfo[]): string {
  if (findings.length === 0) return '<h2 id="findings">Findings</h2><p>No findings.</p>';
  const drawn = new Set(detailed.map((d) => d.conn));
  const lines = findings.slice(0, MAX_TABLE_FINDINGS).map((f, n) => {
    const r = f.record;
    const link = f.row >= 0 && drawn.has(r.conn) ? `<a href="#r${f.row}">ladder</a>` : '';
    const frame = f.row >= 0 && c.frame[f.row]! > 0 ? String(c.frame[f.row]) : '';
    return (
      `<tr id="fi${n}" class="finding"><td><span class="sev ${r.severity ?? 'info'}">${r.severity ?? 'info'}</span></td><td><code>${escapeHtml(r.finding ?? '?')}</code></td>` +
      `<td>${r.conn > 0 ? `#${r.conn}` : 'capture'}</td><td class="mono">${r.conn > 0 ? `${escapeHtml(r.src)} → ${escapeHtml(r.dst)}` : ''}</td>` +
      `<td class="mono">${relTime(c, r.ts)}</td><td>${frame}</td><td>${r.piece ?? ''}</td><td>${escapeHtml(r.message ?? '', 2000)}</td><td>${link}</td></tr>`
    );
  });
  const listed = Math.min(findings.length, MAX_TABLE_FINDINGS);
  const more = total(c) > listed ? `<p class="muted">${(total(c) - listed).toLocaleString('en')} more findings are not listed here (the first ${listed}); <code>ltdh-inspect --check</code> lists them all.</p>` : '';
  return (
    `<h2 id="findings">Findings (${findings.length})</h2><table><tr><th>severity</th><th>code</th><th>conn</th><th>from → to</th><th>time (s)</th><th>frame</th><th>piece</th><th>explanation</th><th></th></tr>` +
    lines.join('') +
    `</table>${more}`
  );
}

function total(c: ReportCollector): number {
  return c.findingCounts.error + c.findingCounts.warning + c.findingCounts.info;
}

function connectionSection(c: ReportCollector, info: ConnInfo, summary: ConnectionSummary | undefined, byRow: Map<number, number[]>, budget: number): string {
  const sides = [0, 1] as const;
  const out: string[] = [];
  out.push(`<h2 id="conn${info.conn}">Connection #${info.conn} (${escapeHtml(info.transport)}): ${escapeHtml(info.addr[0])} ⇄ ${escapeHtml(info.addr[1])}</h2>`);
  out.push('<table><tr><th>side</th><th>endpoint</th><th>client</th><th>peer id</th><th>reserved bits</th><th>messages</th><th>bytes</th><th>lt_donthave</th></tr>');
  for (const s of sides) {
    const hs = info.handshake[s];
    const sum = s === 0 ? summary?.initiator : summary?.responder;
    const reserved = hs?.reserved !== undefined ? `<code>${escapeHtml(hs.reserved)}</code> ${escapeHtml((hs.extensions ?? []).join(', '))}` : '<span class="muted">no handshake captured</span>';
    out.push(
      `<tr><td>${s === 0 ? 'A (initiator)' : 'B (responder)'}</td><td class="mono">${escapeHtml(info.addr[s])}</td><td>${escapeHtml(clientOf(info, s), 200) || '<span class="muted">unknown</span>'}</td>` +
        `<td class="mono">${escapeHtml(hs?.peerId ?? '', 80)}</td><td>${reserved}</td><td>${sum?.messages ?? 0}</td><td>${sum?.bytes ?? 0}</td><td>${sum?.donthave ?? 0}</td></tr>`,
    );
  }
  out.push('</table>');
  // Side by side where the window is wide enough: the maps and counts, then the graphs.
  out.push(`<div class="row"><div>${extensionTable(info)}</div><div>${messageCounts(c, info)}</div></div><div class="row">`);
  const maps = pieceMapSvgs(c, info);
  if (maps !== undefined) {
    out.push('<div><h3>Pieces over time</h3><p class="muted">time left to right, piece index top to bottom:<br>' +
      '<span class="key k1"></span>announced<span class="key k4"></span>some of the row<span class="key k3"></span>withdrawn (lt_donthave)<span class="key k2"></span>announced again</p>');
    for (const s of sides) out.push(`<div class="side"><div class="mono">${s === 0 ? 'A' : 'B'} ${escapeHtml(info.addr[s])} has</div>${maps[s]}</div>`);
    out.push('</div>');
  }
  out.push(`<div><h3>Bytes per second</h3><p class="muted"><span class="key kd0"></span>A → B<span class="key kd1"></span>B → A</p>${ioGraphSvg(c, info)}</div></div>`);
  out.push(ladder(c, info, byRow, budget));
  return out.join('\n');
}

function extensionTable(info: ConnInfo): string {
  const rows = extensionRows(info);
  if (rows.length === 0) return '<p class="muted">No extended handshake captured on this connection.</p>';
  const id = (v: number | undefined): string => (v === undefined ? '<span class="muted">—</span>' : v === 0 ? '0 (disabled)' : String(v));
  return (
    '<h3>Extension maps</h3><p class="muted">A message from one side carries the id the <em>other</em> side advertised: A → B uses B\'s id, B → A uses A\'s.</p>' +
    `<table><tr><th>extension</th><th>B → A uses (A's map)</th><th>A → B uses (B's map)</th></tr>` +
    rows.map((r) => `<tr${r.ids[0] !== undefined && r.ids[1] !== undefined && r.ids[0] !== r.ids[1] ? ' class="diff"' : ''}><td><code>${escapeHtml(r.name, 80)}</code></td><td>${id(r.ids[0])}</td><td>${id(r.ids[1])}</td></tr>`).join('') +
    '</table>'
  );
}

function messageCounts(c: ReportCollector, info: ConnInfo): string {
  const counts = new Map<string, [number, number]>();
  for (let k = 0; k < info.rows.length; k++) {
    const row = info.rows.at(k);
    if (c.isMessage[row] !== 1) continue;
    const name = c.kindName(row);
    const entry = counts.get(name) ?? [0, 0];
    entry[c.dir[row] === 0 ? 0 : 1] += 1;
    counts.set(name, entry);
  }
  if (counts.size === 0) return '';
  const rows = [...counts].sort((a, b) => b[1][0] + b[1][1] - (a[1][0] + a[1][1]));
  return '<h3>Messages</h3><table><tr><th>message</th><th>A → B</th><th>B → A</th></tr>' + rows.map(([name, [a, b]]) => `<tr><td>${escapeHtml(name, 80)}</td><td>${a}</td><td>${b}</td></tr>`).join('') + '</table>';
}

function ladder(c: ReportCollector, info: ConnInfo, byRow: Map<number, number[]>, budget: number): string {
  const pinned = new Set(byRow.keys());
  const rows = info.rows.data.subarray(0, info.rows.length);
  const items = thin(c, rows, collapse(c, rows, pinned), pinned, budget);
  const runs = items.filter((it) => it.type === 'run');
  const collapsed = runs.reduce((n, it) => n + (it.type === 'run' ? it.count : 0), 0);
  const elided = items.reduce((n, it) => n + (it.type === 'elided' ? it.count : 0), 0);
  const note =
    `<p class="muted">${rows.length.toLocaleString('en')} rows. ${runs.length} runs of piece, request, have and like messages (${collapsed.toLocaleString('en')} messages) are collapsed: click one to open it.` +
    (elided > 0 ? ` ${elided.toLocaleString('en')} messages are left out to keep the report small (their counts are given where they were).` : '') +
    '</p>';
  const head =
    `<div class="lh"><span>time (s)</span><span>frame</span><span class="pa">A ${escapeHtml(info.addr[0])} ${escapeHtml(clientOf(info, 0), 60)}</span>` +
    `<span class="pb">B ${escapeHtml(info.addr[1])} ${escapeHtml(clientOf(info, 1), 60)}</span><span>findings</span></div>`;
  // Chunks of lines that the browser lays out only when they scroll into view (content-visibility):
  // a ladder of 10,000 lines then opens as fast as a short one.
  const body: string[] = [];
  for (let k = 0; k < items.length; k += CHUNK) body.push(`<div class="ck">${items.slice(k, k + CHUNK).map((it) => ladderItem(c, rows, it, byRow)).join('')}</div>`);
  return `<h3>Message ladder</h3>${note}<div class="ladder">${head}${body.join('')}</div>`;
}

function ladderItem(c: ReportCollector, rows: Int32Array, it: LadderItem, byRow: Map<number, number[]>): string {
  if (it.type === 'row') return ladderRow(c, it.row, byRow);
  const first = rows[it.from]!;
  const last = rows[it.to]!;
  const frames = c.frame[first]! > 0 ? `${c.frame[first]}–${c.frame[last]}` : '';
  const what = `${it.count.toLocaleString('en')} messages: ${countKinds(c, rows, it.from, it.to)}${pieceRange(c, rows, it.from, it.to)}`;
  if (it.type === 'elided') return `<div class="el">… ${what} left out of this report (${relTime(c, c.ts[first]!)}–${relTime(c, c.ts[last]!)} s${frames ? `, frames ${frames}` : ''})</div>`;
  const inner = it.rows.map((r, k) => (it.hidden > 0 && k === it.rows.length / 2 ? `<div class="more">… ${it.hidden.toLocaleString('en')} more not shown${frames ? ` (frames ${frames} in all)` : ''}</div>` : '') + ladderRow(c, r, byRow)).join('');
  return (
    `<details class="run"><summary><span class="t">${relTime(c, c.ts[first]!)}</span><span class="fr">${frames}</span>` +
    `<span class="ar"><span class="lb">▸ ${what} (collapsed)</span></span><span></span></summary>${inner}</details>`
  );
}

function pieceRange(c: ReportCollector, rows: Int32Array, from: number, to: number): string {
  let lo = Infinity;
  let hi = -1;
  for (let k = from; k <= to; k++) {
    const p = c.piece[rows[k]!]!;
    if (p < 0) continue;
    lo = Math.min(lo, p);
    hi = Math.max(hi, p);
  }
  return hi < 0 ? '' : lo === hi ? `; piece ${lo}` : `; pieces ${lo}–${hi}`;
}

function ladderRow(c: ReportCollector, r: number, byRow: Map<number, number[]>): string {
  const kind = c.kindName(r);
  const cls = `lr d${c.dir[r]}${kind === 'lt_donthave' ? ' dh' : ''}${c.isMessage[r] === 0 ? ' ev' : ''}`;
  const label = htmlEntities(rowLabel(c, r).replace(/^>> /, kind === 'lt_donthave' ? '◆ ' : ''));
  const notes = (byRow.get(r) ?? []).map((n) => findingNote(c, n)).join('');
  return (
    `<div class="${cls}" id="r${r}"><span class="t">${relTime(c, c.ts[r]!)}</span><span class="fr">${frameText(c, r)}</span>` +
    `<span class="ar"><span class="lb">${label}</span><span class="ln"></span></span><span class="fn">${notes}</span></div>`
  );
}

/** A message's frame, "first–last" when it came in several packets (Wireshark's numbers). */
function frameText(c: ReportCollector, r: number): string {
  const last = c.frame[r]!;
  const first = c.firstFrame[r]!;
  return last === 0 ? '' : first > 0 && first !== last ? `${first}–${last}` : String(last);
}

function findingNote(c: ReportCollector, n: number): string {
  const r: EventRecord = c.findings[n]!.record;
  const severity = r.severity ?? 'info';
  return `<a class="fnote ${severity}" href="#fi${n}" id="f${n}"><b>${severity}</b> ${escapeHtml(r.finding ?? '?')}: ${escapeHtml(r.message ?? '', NOTE_CHARS)}</a>`;
}

function findingsByRow(findings: Finding[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  findings.forEach((f, n) => {
    if (f.row < 0) return;
    const list = map.get(f.row) ?? [];
    list.push(n);
    map.set(f.row, list);
  });
  return map;
}

/** Connections drawn in full: those with findings, then with lt_donthave, then the rest, in order. */
function pickDetailed(conns: ConnInfo[]): ConnInfo[] {
  const weight = (i: ConnInfo): number => (i.severities.error + i.severities.warning + i.severities.info > 0 ? 0 : 1);
  return [...conns].sort((a, b) => weight(a) - weight(b) || a.conn - b.conn).slice(0, MAX_DETAILED).sort((a, b) => a.conn - b.conn);
}

/** Each drawn ladder's share of ROW_BUDGET, in proportion to what it would take (at least 300). */
function ladderBudgets(c: ReportCollector, conns: ConnInfo[], byRow: Map<number, number[]>): Map<number, number> {
  const pinned = new Set(byRow.keys());
  const costs = conns.map((info) => collapse(c, info.rows.data.subarray(0, info.rows.length), pinned).reduce((n, it) => n + itemCost(it), 0));
  const sum = costs.reduce((a, b) => a + b, 0);
  return new Map(conns.map((info, k) => [info.conn, sum <= ROW_BUDGET ? Infinity : Math.max(300, Math.floor((ROW_BUDGET * costs[k]!) / sum))]));
}

function otherConnections(conns: ConnInfo[], detailed: ConnInfo[]): string {
  const drawn = new Set(detailed.map((d) => d.conn));
  const rest = conns.filter((i) => !drawn.has(i.conn));
  if (rest.length === 0) return '';
  const listed = rest.slice(0, MAX_LISTED);
  return (
    `<h2>${rest.length} more connections (not drawn)</h2><table><tr><th>conn</th><th>A</th><th>B</th><th>rows</th></tr>` +
    listed.map((i) => `<tr><td>#${i.conn}</td><td class="mono">${escapeHtml(i.addr[0])}</td><td class="mono">${escapeHtml(i.addr[1])}</td><td>${i.rows.length}</td></tr>`).join('') +
    `</table>${rest.length > listed.length ? `<p class="muted">and ${rest.length - listed.length} more.</p>` : ''}`
  );
}
