// The status line's text, for the ink StatusLine and for the first frame painted before ink loads.
import { escapeText } from '../output/escape.js';

export interface StatusParts {
  title: string;
  shown: number;
  total: number;
  filter: string | undefined;
  conn: number | undefined;
  following: boolean;
  state: string;
  width: number;
  /** Findings so far, by severity. */
  findings?: { error: number; warning: number; info: number };
}

export function statusText({ title, shown, total, filter, conn, following, state, width, findings }: StatusParts): string {
  const parts = [
    escapeText(title, 40),
    `${shown}/${total}`,
    filter ? `filter: ${escapeText(filter, 40)}` : 'no filter',
    conn !== undefined ? `conn #${conn}` : '',
    following ? 'follow' : '',
    state,
    findings !== undefined ? findingsText(findings) : '',
    '? help  / filter  n/N donthave  f/F finding  ! findings  c conn  q quit',
  ].filter((p) => p !== '');
  return (' ' + parts.join(' │ ')).padEnd(width);
}

function findingsText(f: { error: number; warning: number; info: number }): string {
  if (f.error + f.warning + f.info === 0) return 'no findings';
  return `${f.error} err ${f.warning} warn ${f.info} info`;
}
