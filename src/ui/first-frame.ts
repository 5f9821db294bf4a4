// The first screen, painted straight to the terminal while ink and React are still loading (about
// 0.1 s to load and 0.1 s for ink's first frame on a small machine): the timeline's first rows and
// the status line, laid out where the App puts them. When ink's first frame comes, it replaces this
// one whole (run-tui clears the screen in the same write). Nothing here may import ink.
import type { RecordStore } from '../model/store.js';
import { firstTimestamp, formatRow } from './row-format.js';
import { screenLayout } from './layout.js';
import { statusText } from './status-text.js';
import { ansiStyled as styled, makeTheme, rowStyle } from './theme.js';

export const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
export const LEAVE_ALT_SCREEN = '\x1b[?1049l';
export const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

/** Timeline rows of the first screen on `out`: a screenful of records. */
export function firstScreenRows(out: NodeJS.WriteStream): number {
  return screenLayout(out.columns || 80, out.rows || 24).timelineHeight;
}

/**
 * Enters the alternate screen and paints the first rows of `store`; false (nothing written) when
 * the terminal is too small for the layout, which the App then explains.
 */
export function paintFirstFrame(out: NodeJS.WriteStream, store: RecordStore, title: string, filter: string | undefined): boolean {
  const width = out.columns || 80;
  const height = out.rows || 24;
  const { tooSmall, timelineHeight } = screenLayout(width, height);
  if (tooSmall) return false;
  const theme = makeTheme();
  const first = firstTimestamp(store);
  const lines: string[] = [];
  for (let pos = 0; pos < Math.min(store.view.length, timelineHeight); pos++) {
    const index = store.view[pos]!;
    const r = store.record(index)!;
    const row = formatRow(r, first, 'conn' in r ? store.connectionInfo(r.conn) : undefined, width, store.framed);
    const style = rowStyle(row, store.flag(index), theme);
    lines.push(styled((pos === 0 ? '▶' : ' ') + style.marker + row.text, { inverse: pos === 0, bold: style.bold, color: style.color }));
  }
  const status = statusText({ title, shown: store.view.length, total: store.size, filter, conn: undefined, following: false, state: 'reading…', width, findings: store.findingCounts });
  let screen = ENTER_ALT_SCREEN + HIDE_CURSOR;
  lines.forEach((line, i) => (screen += `\x1b[${i + 1};1H${line}`));
  screen += `\x1b[${height};1H${styled(status.slice(0, width), { inverse: true })}`;
  out.write(screen);
  return true;
}
