// Wireshark's habits as UI keys, for the reducer in ui-state.ts: `t` cycles the time display and `T`
// sets a time reference, `m<letter>` marks a row and `'<letter>` goes back to it, `s` opens the
// Statistics view, Ctrl-F searches (the records' text, or bytes when the bytes pane has focus).
// Handlers only: the tables in ui-state.ts say which key runs which.
import type { KeyPress } from './keys.js';
import { editLine, scrolled, scrollKeys, toNormal, type Handler, type KeyMap, type ScrollStep, type UiContext, type UiState } from './ui-state.js';
import { moveTo, selection } from './ui-selection.js';
import { parseHexQuery } from './search.js';

export type TimeDisplay = 'start' | 'previous' | 'utc';

const TIME_ORDER: readonly TimeDisplay[] = ['start', 'previous', 'utc'];
const TIME_NAMES: Record<TimeDisplay, string> = { start: 'time since the capture start', previous: 'time since the previous row shown', utc: 'absolute time, UTC' };

/** t: since the start (or the reference), since the previous displayed row, absolute UTC. */
export function cycleTime(s: UiState): UiState {
  const time = TIME_ORDER[(TIME_ORDER.indexOf(s.time) + 1) % TIME_ORDER.length]!;
  const since = time === 'start' && s.timeRef !== undefined ? 'time since the reference row (T)' : TIME_NAMES[time];
  return { ...s, time, message: since };
}

/** T: the selected row becomes the time reference (T on it again clears it). */
export function setTimeReference(s: UiState, ctx: UiContext): UiState {
  const { record } = selection(s, ctx);
  if (record === undefined) return s;
  if (s.timeRef === record) return { ...s, timeRef: undefined, message: 'time reference cleared: times from the capture start' };
  return { ...s, timeRef: record, time: 'start', message: 'time reference set: times count from this row (T again clears)' };
}

export function setMark(s: UiState, ctx: UiContext, letter: string): UiState {
  const { record } = selection(s, ctx);
  if (record === undefined) return { ...s, message: 'no row to mark' };
  return { ...s, marks: { ...s.marks, [letter]: record }, message: `mark ${letter} set ('${letter} comes back here)` };
}

export function goToMark(s: UiState, ctx: UiContext, letter: string): UiState {
  const record = s.marks[letter];
  if (record === undefined) return { ...s, message: `no mark ${letter} (m${letter} sets it)` };
  const pos = ctx.store.viewPositionAtOrAfter(record);
  if (ctx.store.view[pos] !== record) return { ...s, message: `the row of mark ${letter} is hidden by the filter or connection choice` };
  return { ...moveTo(s, ctx, pos), message: `mark ${letter}` };
}

// ---- the Statistics view ----

export function openStats(s: UiState): UiState {
  return ({ ...s, mode: 'stats', statsScroll: 0 });
}
export function closeStats(s: UiState, ctx: UiContext): UiState {
  return toNormal(s, ctx);
}

function statsScroll(by: ScrollStep): Handler {
  return (s, ctx) => {
    const lines = ctx.statsLines(ctx.width).length;
    const page = Math.max(1, ctx.height - 3);
    const max = Math.max(0, lines - (ctx.height - 2));
    return { ...s, statsScroll: scrolled(s.statsScroll, by, page, max) };
  };
}

export const HABIT_MODE_KEYS: { stats: KeyMap } = {
  stats: {
    ...scrollKeys(statsScroll),
    esc: closeStats,
    q: closeStats,
    s: closeStats,
  },
};

// ---- Ctrl-F search ----

/** Ctrl-F: bytes when the bytes pane has focus, the records' text otherwise; starts from the last search. */
export function openSearch(s: UiState): UiState {
  return ({ ...s, mode: 'search', search: { text: s.lastSearch, bytes: s.focus === 'hex' } });
}

/** Keys while the search line is open: Enter finds the next match after the selected row (wrapping). */
export function searchKey(s: UiState, k: KeyPress, ctx: UiContext): UiState {
  const search = s.search ?? { text: '', bytes: false };
  if (k.name === 'esc') return { ...s, mode: 'normal', search: undefined };
  if (k.name === 'enter' || k.name === 'ctrl-f') return runSearch({ ...s, mode: 'normal', search: undefined, lastSearch: search.text }, ctx, search.text, search.bytes);
  const edited = editLine(search.text, k);
  return edited === undefined ? s : { ...s, search: { ...search, text: edited } };
}

function runSearch(s: UiState, ctx: UiContext, text: string, bytes: boolean): UiState {
  const query = text.trim();
  if (query === '') return s;
  if (bytes) {
    const parsed = parseHexQuery(query);
    if (typeof parsed === 'string') return { ...s, message: parsed };
  }
  const { pos } = selection(s, ctx);
  const found = ctx.find(pos, query, bytes);
  const what = bytes ? `bytes ${query}` : `"${query}"`;
  if (found === -1) return { ...s, message: `${what} not found` };
  const moved = moveTo(s, ctx, found.pos);
  const wrapped = found.pos <= pos ? ' (wrapped)' : '';
  const needle = bytes ? parseHexQuery(query) : '';
  const hit = found.offset !== undefined && typeof needle !== 'string' ? { record: ctx.store.view[found.pos]!, range: [found.offset, found.offset + needle.length] as [number, number] } : undefined;
  // Short: on 80 columns the status line has about 20 columns for it.
  return { ...moved, searchHit: hit, message: `found${hit !== undefined ? ` at byte ${hit.range[0]}` : ''}${wrapped}: ${what}` };
}
