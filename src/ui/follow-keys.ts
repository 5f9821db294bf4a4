// o: follow the selected row's connection (Wireshark's Follow TCP Stream): a ladder of its messages,
// Tab for its bytes both ways with message boundaries, w writes those bytes to a file, Esc returns.
import { bytesPerLine } from './hex-geometry.js';
import { scrolled, scrollKeys, toNormal, type Handler, type KeyMap, type ScrollStep, type UiState, type UiContext } from './ui-state.js';
import { selection } from './ui-selection.js';

export function openFollow(s: UiState, ctx: UiContext): UiState {
  const { record } = selection(s, ctx);
  const r = record === undefined ? undefined : ctx.store.record(record);
  if (r === undefined || !('conn' in r) || r.conn <= 0) return { ...s, message: 'o follows the connection of the selected row: select one' };
  return { ...s, mode: 'follow', follow: { conn: r.conn, pane: 'ladder', scroll: 0 } };
}

/** Lines of the follow view's body (the screen less its title, header and status line). */
export function followBody(ctx: Pick<UiContext, 'height'>): number {
  return Math.max(1, ctx.height - 3);
}

/** Bytes a line in the follow view: 16 when the screen is wide enough. */
export function followPerLine(width: number): number {
  return bytesPerLine(width);
}

function lineCount(s: UiState, ctx: UiContext): number {
  const f = s.follow;
  if (f === undefined) return 0;
  const info = ctx.followed(f.conn);
  return f.pane === 'ladder' ? info.ladder : info.bytes;
}

function scroll(by: ScrollStep): Handler {
  return (s, ctx) => {
    const f = s.follow;
    if (f === undefined) return s;
    const page = followBody(ctx);
    const max = Math.max(0, lineCount(s, ctx) - page);
    return { ...s, follow: { ...f, scroll: scrolled(f.scroll, by, page, max) } };
  };
}

const close: Handler = (s, ctx) => ({ ...toNormal(s, ctx), follow: undefined });

export const FOLLOW_KEYS: KeyMap = {
  ...scrollKeys(scroll),
  tab: (s) => (s.follow === undefined ? s : { ...s, follow: { ...s.follow, pane: s.follow.pane === 'ladder' ? 'bytes' : 'ladder', scroll: 0 } }),
  w: (s) => (s.follow === undefined ? s : { ...s, followSave: s.follow.conn }),
  esc: close,
  q: close,
  o: close,
};
