// Colours for the terminal UI and the text timeline on a terminal; NO_COLOR (any non-empty value)
// turns every colour off, leaving markers, bold and inverse to carry the meaning.
import type { RowKind } from './row-format.js';
import type { Severity } from '../model/record.js';
export interface Theme {
  color: boolean;
  donthave?: string;
  warn?: string;
  error?: string;
  dim?: string;
  accent?: string;
}

export function makeTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return { color: false };
  return { color: true, donthave: 'magenta', warn: 'yellow', error: 'red', dim: 'gray', accent: 'cyan' };
}

/** The Timeline's colours (Timeline.tsx, the first frame, the text timeline), by row kind. */
export function rowColor(kind: RowKind, theme: Theme): string | undefined {
  switch (kind) {
    case 'donthave':
      return theme.donthave;
    case 'unresolved':
    case 'gap':
      return theme.warn;
    case 'malformed':
    case 'finding':
      return theme.error;
    case 'event':
      return theme.dim;
    default:
      return undefined;
  }
}

/**
 * How a timeline row looks, in the Timeline (ink) and the first frame alike: its marker, colour
 * (undefined without colour) and weight. A message that a warning or error points at (`flag`) is
 * marked too, not only the finding's own row.
 */
export function rowStyle(row: { kind: RowKind; marker: string }, flag: Severity | undefined, theme: Theme): { marker: string; color: string | undefined; bold: boolean } {
  const flagged = flag === 'error' || flag === 'warning';
  const color = flagged ? (flag === 'error' ? theme.error : theme.warn) : rowColor(row.kind, theme);
  return { marker: flagged && row.kind === 'plain' ? '!' : row.marker, color: theme.color ? color : undefined, bold: row.kind === 'donthave' || flagged };
}

/** A finding's colour by severity (as the findings list shows it). */
export function severityColor(severity: Severity | undefined, theme: Theme): string | undefined {
  return severity === 'error' ? theme.error : severity === 'warning' ? theme.warn : theme.dim;
}

/** ANSI SGR codes of the theme's colour names (what ink turns them into). */
const SGR: Record<string, number> = { magenta: 35, yellow: 33, red: 31, gray: 90, cyan: 36 };

/** `text` wrapped in the escape codes of a style, for writing to a terminal without ink. */
export function ansiStyled(text: string, s: { inverse?: boolean; bold?: boolean; color?: string | undefined }): string {
  const codes: number[] = [];
  if (s.bold) codes.push(1);
  if (s.inverse) codes.push(7);
  const c = s.color !== undefined ? SGR[s.color] : undefined;
  if (c !== undefined) codes.push(c);
  return codes.length === 0 ? text : `\x1b[${codes.join(';')}m${text}\x1b[0m`;
}
