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

/** Key hints, the first thing to go when the line is too narrow (the counts stay): from the end. */
const HINTS = ['? help', '/ filter', 'n/N donthave', 'f/F finding', '! findings', 's stats', 'c conn', 'q quit'];

export function statusText({ title, shown, total, filter, conn, following, state, width, findings }: StatusParts): string {
  const parts = [
    // A narrow line gives the title less room, the counts and the state more.
    escapeText(title, width < 100 ? 16 : 40),
    `${shown}/${total}`,
    filter ? `filter: ${escapeText(filter, 40)}` : 'no filter',
    conn !== undefined ? `conn #${conn}` : '',
    following ? 'follow' : '',
    // The counts before the state: a long note must not push them off a narrow line.
    findings !== undefined ? findingsText(findings) : '',
    state,
  ].filter((p) => p !== '');
  const line = ' ' + parts.join(' │ ');
  for (let n = HINTS.length; n > 0; n--) {
    const withHints = `${line} │ ${HINTS.slice(0, n).join('  ')}`;
    if ([...withHints].length <= width) return withHints.padEnd(width);
  }
  return line.padEnd(width);
}

function findingsText(f: { error: number; warning: number; info: number }): string {
  if (f.error + f.warning + f.info === 0) return 'no findings';
  return `${f.error} err ${f.warning} warn ${f.info} info`;
}
