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
  /** Stalls still going (request-stalled without its request-stall-ended yet): connection, silence start. */
  stalls?: readonly { conn: number; since: number }[];
}

/** Key hints, the first thing to go when the line is too narrow (the counts stay): from the end. */
const HINTS = ['? help', '/ filter', 'n/N donthave', 'f/F finding', '! findings', 's stats', 'c conn', 'q quit'];

export function statusText({ title, shown, total, filter, conn, following, state, width, findings, stalls }: StatusParts): string {
  const parts = [
    // A narrow line gives the title less room, the counts and the state more.
    escapeText(title, width < 100 ? 16 : 40),
    `${shown}/${total}`,
    filter ? `filter: ${escapeText(filter, 40)}` : 'no filter',
    conn !== undefined ? `conn #${conn}` : '',
    following ? 'follow' : '',
    // A live stall and the counts before the state: a long note must not push them off a narrow line.
    stalls !== undefined && stalls.length > 0 ? stallText(stalls) : '',
    findings !== undefined ? findingsText(findings) : '',
    state,
  ].filter((p) => p !== '');
  const line = ' ' + parts.join(' │ ');
  for (let n = HINTS.length; n > 0; n--) {
    const withHints = `${line} │ ${HINTS.slice(0, n).join('  ')}`;
    if ([...withHints].length <= width) return withHints.padEnd(width);
  }
  // Too long even without hints: the end (the state note) is cut, the counts before it stay.
  const chars = [...line];
  return chars.length > width ? chars.slice(0, Math.max(0, width - 1)).join('') + '…' : line.padEnd(width);
}

function findingsText(f: { error: number; warning: number; info: number }): string {
  if (f.error + f.warning + f.info === 0) return 'no findings';
  return `${f.error} err ${f.warning} warn ${f.info} info`;
}

/** "STALL conn #3 since 16:20:05" (local time of the silence's start), or how many and the oldest. */
export function stallText(stalls: readonly { conn: number; since: number }[]): string {
  const oldest = stalls.reduce((a, b) => (b.since < a.since ? b : a));
  const at = new Date(oldest.since * 1000).toTimeString().slice(0, 8);
  return stalls.length === 1 ? `STALL conn #${oldest.conn} since ${at}` : `${stalls.length} STALLS, conn #${oldest.conn} since ${at}`;
}
