// What the HTML and Markdown reports share: which connections they cover, the verdict, times,
// and each connection's two extension maps side by side. Plain data; each renderer escapes.
import type { ConnInfo, Finding, ReportCollector } from './collect.js';
import type { Severity } from '../model/record.js';
import { verdictLine } from '../output/check-writer.js';
import { secondsSince } from '../output/time-format.js';

export interface ReportMeta {
  /** The capture as the user named it ("stdin" for -). */
  capture: string;
  /** Its size in bytes, when known (a file). */
  captureBytes?: number;
  version: string;
  /** The command line that made the report. */
  command: string;
}

/** Which connections a report covers (the same rule as --export): all, or those a filter selected. */
export type ConnSelection = (conn: number) => boolean;

export interface ReportScope {
  conns: ConnInfo[];
  findings: Finding[];
  counts: Record<Severity, number>;
  verdict: string;
}

export function scopeOf(c: ReportCollector, selected: ConnSelection): ReportScope {
  const conns = [...c.conns.values()].filter((info) => selected(info.conn)).sort((a, b) => a.conn - b.conn);
  const counts: Record<Severity, number> = { ...c.captureSeverities };
  for (const info of conns) for (const s of ['error', 'warning', 'info'] as const) counts[s] += info.severities[s];
  const findings = c.findings.filter((f) => f.record.conn === 0 || selected(f.record.conn));
  return { conns, findings, counts, verdict: verdictLine(counts, conns.length) };
}

/** Seconds since the capture's first record, as the text timeline prints them. */
export function relTime(c: ReportCollector, ts: number): string {
  return secondsSince(ts, Number.isFinite(c.firstTs) ? c.firstTs : ts);
}

export interface ExtensionRow {
  name: string;
  /** The id the initiator advertised (what the responder must send it), and the responder's. */
  ids: [number | undefined, number | undefined];
}

/** Both sides' extended-handshake maps, one row per extension either side named. */
export function extensionRows(info: ConnInfo): ExtensionRow[] {
  const maps = info.extHandshake.map((r) => r?.m ?? {});
  const names = [...new Set([...Object.keys(maps[0]!), ...Object.keys(maps[1]!)])].sort();
  return names.map((name) => ({ name, ids: [maps[0]![name], maps[1]![name]] }));
}

/** A side's client as the handshake peer id and the extended handshake's `v` tell it (raw, unescaped). */
export function clientOf(info: ConnInfo, side: 0 | 1): string {
  const parts = [info.handshake[side]?.client, info.extHandshake[side]?.v].filter((x): x is string => x !== undefined);
  return [...new Set(parts)].join(' / ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
