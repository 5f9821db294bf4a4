// The terminal UI's state and the one function that changes it: reduce(state, event, ctx) -> state.
// Every key's meaning lives here, as data tables per mode and pane; App.tsx only renders the state
// and dispatches keys. Nothing here imports ink or React, so the rules are tested as plain code.
//
// `ctx` is what the keys read but do not own: the store's view (filtered rows, findings, connections)
// and the terminal's size. reduce never changes the store: it records the filter and connection in
// force, and ui-controller.ts applies them to the store and then settles the selection (`reselect`).
//
// Adding a key: add an entry to the table of the mode (or pane) it belongs to, a Handler that
// returns the next state. Adding a mode: add it to Mode, give it a table in MODE_KEYS (and a screen in
// App.tsx); a mode that takes text can use editLine.
import type { RecordStore } from '../model/store.js';
import { compileFilter } from '../model/filter.js';
import type { FieldNode } from './field-tree.js';
import { hexScrollRange } from './hex-geometry.js';
import { isPrintable, type KeyPress } from './keys.js';
import { paneWidths } from './layout.js';
import { clampTop, goToFinding, jump, layoutOf, moveTo, selection } from './ui-selection.js';
import { decodeKey, openDecodeAs } from './decode-as-keys.js';
import { FOLLOW_KEYS, openFollow } from './follow-keys.js';
import { cycleTime, goToMark, HABIT_MODE_KEYS, openSearch, openStats, searchKey, setMark, setTimeReference, type TimeDisplay } from './habit-keys.js';

export type Pane = 'timeline' | 'details' | 'hex';
export type Mode = 'normal' | 'filter' | 'picker' | 'findings' | 'help' | 'stats' | 'search' | 'decode' | 'follow';
export const PANES: readonly Pane[] = ['timeline', 'details', 'hex'];

/** The filter editor: the text being edited and, after Enter on a bad expression, why and where. */
export interface FilterEditor {
  text: string;
  error?: { message: string; position: number };
}

export interface UiState {
  mode: Mode;
  focus: Pane;
  /** The selected row as a position in the view; `follow` pins it to the last row (live data). */
  cursor: { pos: number; top: number; follow: boolean };
  /** The view is changing (filter, connection): the record to keep selected once it has. */
  reselect?: { record: number | undefined };
  /** The filter expression in force, and the connection chosen (undefined: all). */
  filter: string | undefined;
  conn: number | undefined;
  /** Open while mode is 'filter'. */
  editor: FilterEditor | undefined;
  /** `t` cycles: since the capture start (or the time reference), since the previous row shown, UTC. */
  time: TimeDisplay;
  /** `T`: the record times count from (Wireshark's time reference); undefined: the capture start. */
  timeRef: number | undefined;
  /** `m<letter>`: marked records by letter; `'<letter>` jumps back. */
  marks: Readonly<Record<string, number>>;
  /** The first key of a two-key command (m or ') waiting for its letter. */
  prefix: 'm' | "'" | undefined;
  /** Ctrl-F: the text being edited (mode 'search'), and the last search for the next Ctrl-F. */
  search: { text: string; bytes: boolean } | undefined;
  lastSearch: string;
  /** The bytes a hex search found, highlighted in the bytes pane while that record is selected. */
  searchHit?: { record: number; range: [number, number] } | undefined;
  /** d on an unresolved extended message: the extension name being typed, for that id and direction. */
  ask?: { text: string; conn: number; dst: string; extId: number } | undefined;
  /** The Decode As answer for ui-controller.ts to apply to the store (reduce never changes the store). */
  decodeAs?: { conn: number; dst: string; extId: number; name: string } | undefined;
  /** o: the connection followed (ladder or bytes) and the first line shown. */
  follow?: { conn: number; pane: 'ladder' | 'bytes'; scroll: number } | undefined;
  /** w in the follow view: the connection whose bytes App writes to a file (I/O stays out of reduce). */
  followSave?: number | undefined;
  /** First line of the Statistics view shown. */
  statsScroll: number;
  pickerSel: number;
  findingSel: number;
  /** The details field chosen by hand, for the record it was chosen on. */
  field: { record: number; index: number } | undefined;
  hexScroll: number;
  /** A one-off note for the status line (a wrapped jump); cleared by the next move. */
  message: string | undefined;
  /** `w` / `W` asked for a file: App hands it to the program (files are written there, not here). */
  share?: ShareRequest;
  quit: boolean;
}

/** A capture (`w`) or HTML report (`W`) of these connections, `what` naming them for the user. */
export interface ShareRequest {
  kind: 'export' | 'report';
  conns: number[];
  what: string;
}

/** What the keys read from the store. */
export type UiStore = Pick<RecordStore, 'view' | 'viewProgress' | 'record' | 'findings' | 'findingTarget' | 'viewPositionAtOrAfter' | 'findDonthave' | 'findFinding' | 'connections' | 'probableDonthave'>;

export interface UiContext {
  store: UiStore;
  width: number;
  height: number;
  /** The details tree of a record (the caller caches it). */
  fields(record: number): readonly FieldNode[];
  /** How many bytes the hex pane has for a record, and whether they are only the first ones. */
  bytes(record: number): { length: number; partial: boolean } | undefined;
  /** Ctrl-F: the next view position after `from` (wrapping) whose record matches, or -1; see search.ts. */
  find(from: number, query: string, bytes: boolean): { pos: number; offset?: number } | -1;
  /** o: the followed connection's message records and the lines of its two views. */
  followed(conn: number): { messages: readonly number[]; ladder: number; bytes: number };
  /** Lines of the Statistics view (of the records in view). */
  statsLines(width: number): readonly string[];
}

export type UiEvent = { type: 'key'; key: KeyPress };

export type Handler = (s: UiState, ctx: UiContext) => UiState;
export type KeyMap = Readonly<Record<string, Handler>>;

export function initialState(opts: { filter?: string; conn?: number; follow?: boolean } = {}): UiState {
  return {
    mode: 'normal',
    focus: 'timeline',
    cursor: { pos: 0, top: 0, follow: opts.follow ?? false },
    filter: opts.filter,
    conn: opts.conn,
    editor: undefined,
    time: 'start',
    timeRef: undefined,
    marks: {},
    prefix: undefined,
    search: undefined,
    lastSearch: '',
    statsScroll: 0,
    pickerSel: 0,
    findingSel: 0,
    field: undefined,
    hexScroll: 0,
    message: undefined,
    quit: false,
  };
}

export function reduce(s: UiState, event: UiEvent, ctx: UiContext): UiState {
  const k = event.key;
  if (k.name === 'ctrl-c') return { ...s, quit: true };
  if (s.mode === 'filter') return editFilter(s, k, ctx);
  if (s.mode === 'search') return searchKey(s, k, ctx);
  if (s.mode === 'decode') return decodeKey(s, k);
  if (s.mode === 'normal') return normalKey(s, k, ctx);
  const table = s.mode === 'stats' ? HABIT_MODE_KEYS.stats : s.mode === 'follow' ? FOLLOW_KEYS : MODE_KEYS[s.mode];
  return table[k.name]?.(s, ctx) ?? (s.mode === 'help' ? toNormal(s, ctx) : s);
}

// ---- normal mode: keys for every pane first, then the focused pane's ----

function normalKey(s: UiState, k: KeyPress, ctx: UiContext): UiState {
  const layout = layoutOf(s, ctx);
  if (layout.tooSmall) return k.name === 'q' ? { ...s, quit: true } : s;
  if (s.prefix !== undefined) {
    // m<letter> / '<letter>: any other key cancels the prefix.
    const letter = /^[a-zA-Z]$/.test(k.name) ? k.name : undefined;
    const cleared = { ...s, prefix: undefined };
    if (letter === undefined) return { ...cleared, message: undefined };
    return s.prefix === 'm' ? setMark(cleared, ctx, letter) : goToMark(cleared, ctx, letter);
  }
  if (k.name === 'esc' && ctx.store.viewProgress !== undefined) return cancelPass(s, ctx);
  const handler = GLOBAL_KEYS[k.name] ?? PANE_KEYS[s.focus][k.name];
  return handler !== undefined ? handler(s, ctx) : s;
}

export const toNormal: Handler = (s) => ({ ...s, mode: 'normal' });

/** Esc while a filter pass runs: the filter (or else the connection choice) is dropped, and the pass with it. */
function cancelPass(s: UiState, ctx: UiContext): UiState {
  const reselect = { record: selection(s, ctx).record };
  if (s.filter !== undefined) return { ...s, filter: undefined, reselect, message: `filter cancelled: ${s.filter}` };
  return { ...s, conn: undefined, reselect, message: 'connection choice cancelled' };
}
const quit: Handler = (s) => ({ ...s, quit: true });

const GLOBAL_KEYS: KeyMap = {
  q: quit,
  '?': (s) => ({ ...s, mode: 'help' }),
  // The editor starts from the filter in force.
  '/': (s) => ({ ...s, mode: 'filter', editor: { text: s.filter ?? '' } }),
  c: openPicker,
  t: cycleTime,
  T: setTimeReference,
  m: (s) => ({ ...s, prefix: 'm', message: 'mark: press a letter' }),
  "'": (s) => ({ ...s, prefix: "'", message: "go to mark: press its letter" }),
  s: openStats,
  d: openDecodeAs,
  o: openFollow,
  'ctrl-f': openSearch,
  '!': openFindings,
  w: (s, ctx) => share(s, ctx, 'export'),
  W: (s, ctx) => share(s, ctx, 'report'),
  tab: (s) => ({ ...s, focus: PANES[(PANES.indexOf(s.focus) + 1) % PANES.length]! }),
  'shift-tab': (s) => ({ ...s, focus: PANES[(PANES.indexOf(s.focus) + PANES.length - 1) % PANES.length]! }),
  enter: (s) => ({ ...s, focus: s.focus === 'timeline' ? 'details' : 'timeline' }),
  n: (s, ctx) => jump(s, ctx, 1, 'lt_donthave', (from, dir) => ctx.store.findDonthave(from, dir)),
  N: (s, ctx) => jump(s, ctx, -1, 'lt_donthave', (from, dir) => ctx.store.findDonthave(from, dir)),
  f: (s, ctx) => jump(s, ctx, 1, 'finding', (from, dir) => ctx.store.findFinding(from, dir)),
  F: (s, ctx) => jump(s, ctx, -1, 'finding', (from, dir) => ctx.store.findFinding(from, dir)),
};

const toTimeline: Handler = (s) => ({ ...s, focus: 'timeline' });

/**
 * `w` and `W`: the connection picked with `c`; else, under a filter, every connection with a row
 * in the view; else the selected row's connection.
 */
function share(s: UiState, ctx: UiContext, kind: ShareRequest['kind']): UiState {
  const conns = new Set<number>();
  let what: string;
  if (s.conn !== undefined) {
    conns.add(s.conn);
    what = `connection #${s.conn}`;
  } else if (s.filter !== undefined) {
    for (const index of ctx.store.view) {
      const r = ctx.store.record(index);
      if (r !== undefined && 'conn' in r && r.conn > 0) conns.add(r.conn);
    }
    what = `the ${conns.size} connection${conns.size === 1 ? '' : 's'} in the filtered view`;
  } else {
    const index = selection(s, ctx).record;
    const r = index === undefined ? undefined : ctx.store.record(index);
    if (r !== undefined && 'conn' in r && r.conn > 0) conns.add(r.conn);
    what = r !== undefined && 'conn' in r ? `connection #${r.conn}` : 'no connection';
  }
  if (conns.size === 0) return { ...s, message: `nothing to write: ${what}` };
  return { ...s, share: { kind, conns: [...conns].sort((a, b) => a - b), what }, message: `writing ${kind === 'export' ? 'a capture' : 'a report'} of ${what}…` };
}

/** Moves the selected row by `by` rows, or a page of the timeline at a time. */
function rows(by: number | 'page' | '-page'): Handler {
  return (s, ctx) => {
    const page = Math.max(1, layoutOf(s, ctx).timelineHeight - 1);
    const delta = by === 'page' ? page : by === '-page' ? -page : by;
    return moveTo(s, ctx, selection(s, ctx).pos + delta);
  };
}

/** The keys that move a list: Up/k and Down/j by one, PgUp/PgDn by a page. */
function listKeys(by: (step: number | 'page' | '-page') => Handler): KeyMap {
  return { up: by(-1), k: by(-1), down: by(1), j: by(1), pageup: by('-page'), pagedown: by('page') };
}

export type ScrollStep = number | 'page' | '-page' | 'top' | 'bottom';

/** A scrolling view's keys: those of a list, and g/Home, G/End to either end. */
export function scrollKeys(by: (step: ScrollStep) => Handler): KeyMap {
  return { ...listKeys(by), g: by('top'), home: by('top'), G: by('bottom'), end: by('bottom') };
}

/** Where a step takes a view scrolled to `current`, `page` lines a page, kept within 0..max. */
export function scrolled(current: number, by: ScrollStep, page: number, max: number): number {
  const next = by === 'top' ? 0 : by === 'bottom' ? max : current + (by === 'page' ? page : by === '-page' ? -page : by);
  return Math.max(0, Math.min(max, next));
}

const TIMELINE_KEYS: KeyMap = {
  ...listKeys(rows),
  home: (s, ctx) => moveTo(s, ctx, 0),
  g: (s, ctx) => moveTo(s, ctx, 0),
  end: (s, ctx) => moveTo(s, ctx, ctx.store.view.length - 1, true),
  G: (s, ctx) => moveTo(s, ctx, ctx.store.view.length - 1, true),
};

/** Moves the details pane's highlighted field. */
function fields(by: number): Handler {
  return (s, ctx) => {
    const { record, nodes, fieldIndex } = selection(s, ctx);
    const index = Math.max(0, Math.min(nodes.length - 1, fieldIndex + by));
    return { ...s, field: { record: record ?? -1, index } };
  };
}

const DETAILS_KEYS: KeyMap = { up: fields(-1), k: fields(-1), down: fields(1), j: fields(1), esc: toTimeline };

/** Scrolls the bytes pane within the message: `to` gets the scroll so far and the bounds. */
function hexScroll(to: (scroll: number, range: { min: number; max: number }, page: number) => number): Handler {
  return (s, ctx) => {
    const { record, nodes, fieldIndex } = selection(s, ctx);
    const { bottomHeight } = layoutOf(s, ctx);
    const raw = record === undefined ? undefined : ctx.bytes(record);
    const range = hexScrollRange(raw?.length ?? 0, paneWidths(ctx.width).hex, bottomHeight, nodes[fieldIndex]?.range, raw?.partial ?? false);
    const bound = (n: number): number => Math.max(range.min, Math.min(range.max, n));
    return { ...s, hexScroll: bound(to(bound(s.hexScroll), range, Math.max(1, bottomHeight - 2))) };
  };
}

const HEX_KEYS: KeyMap = {
  up: hexScroll((n) => n - 1),
  k: hexScroll((n) => n - 1),
  down: hexScroll((n) => n + 1),
  j: hexScroll((n) => n + 1),
  pageup: hexScroll((n, _, page) => n - page),
  pagedown: hexScroll((n, _, page) => n + page),
  home: hexScroll((_, r) => r.min),
  g: hexScroll((_, r) => r.min),
  end: hexScroll((_, r) => r.max),
  G: hexScroll((_, r) => r.max),
  esc: toTimeline,
};

const PANE_KEYS: Record<Pane, KeyMap> = { timeline: TIMELINE_KEYS, details: DETAILS_KEYS, hex: HEX_KEYS };

// ---- the connection picker and the findings list ----

function openPicker(s: UiState, ctx: UiContext): UiState {
  const at = s.conn === undefined ? 0 : ctx.store.connections().findIndex((c) => c.conn === s.conn) + 1;
  return { ...s, mode: 'picker', pickerSel: Math.max(0, at) };
}

function pickerMove(by: number): Handler {
  // Row 0 is "all connections".
  return (s, ctx) => ({ ...s, pickerSel: Math.max(0, Math.min(ctx.store.connections().length, s.pickerSel + by)) });
}

const pickConnection: Handler = (s, ctx) => {
  const conn = s.pickerSel === 0 ? undefined : ctx.store.connections()[s.pickerSel - 1]?.conn;
  return { ...s, mode: 'normal', conn, reselect: { record: selection(s, ctx).record } };
};

function openFindings(s: UiState, ctx: UiContext): UiState {
  // Open on the finding at or after the selected row.
  const from = selection(s, ctx).record ?? 0;
  const at = ctx.store.findings.findIndex((f) => f >= from);
  return { ...s, mode: 'findings', findingSel: at >= 0 ? at : Math.max(0, ctx.store.findings.length - 1) };
}

function findingMove(by: number | 'page' | '-page'): Handler {
  return (s, ctx) => {
    const page = Math.max(1, ctx.height - 3);
    const delta = by === 'page' ? page : by === '-page' ? -page : by;
    return { ...s, findingSel: Math.max(0, Math.min(ctx.store.findings.length - 1, s.findingSel + delta)) };
  };
}

const goToChosenFinding: Handler = (s, ctx) => {
  const finding = ctx.store.findings[s.findingSel];
  const closed = toNormal(s, ctx);
  return finding === undefined ? closed : goToFinding(closed, ctx, finding);
};

const MODE_KEYS: Record<Exclude<Mode, 'normal' | 'filter' | 'stats' | 'search' | 'decode' | 'follow'>, KeyMap> = {
  picker: { up: pickerMove(-1), k: pickerMove(-1), down: pickerMove(1), j: pickerMove(1), esc: toNormal, q: toNormal, enter: pickConnection },
  findings: {
    ...listKeys(findingMove),
    esc: toNormal,
    q: toNormal,
    '!': toNormal,
    enter: goToChosenFinding,
  },
  // Any key closes the help (the fallback in reduce).
  help: {},
};

// ---- the filter editor ----

/**
 * Enter applies the text (empty clears the filter); a bad expression keeps the editor open with the
 * error and its position. Esc closes the editor and keeps the filter in force, leaving nothing behind.
 */
function editFilter(s: UiState, k: KeyPress, ctx: UiContext): UiState {
  const text = s.editor?.text ?? '';
  if (k.name === 'esc') return { ...s, mode: 'normal', editor: undefined };
  if (k.name === 'enter') return applyFilter(s, ctx, text);
  const edited = editLine(text, k);
  return edited === undefined ? s : { ...s, editor: { text: edited } };
}

/** A line of text edited at its end: the new text, or undefined when the key does not edit. */
export function editLine(text: string, k: KeyPress): string | undefined {
  if (k.name === 'backspace') return Array.from(text).slice(0, -1).join('');
  if (k.name === 'ctrl-u') return '';
  if (k.name === 'ctrl-w') return text.replace(/\S*\s*$/, '');
  return isPrintable(k) ? text + k.name : undefined;
}

function applyFilter(s: UiState, ctx: UiContext, text: string): UiState {
  const filter = text.trim() === '' ? undefined : text;
  if (filter !== undefined) {
    const compiled = compileFilter(filter);
    if (!compiled.ok) return { ...s, editor: { text, error: { message: compiled.error, position: compiled.position } } };
  }
  return { ...s, mode: 'normal', editor: undefined, filter, reselect: { record: selection(s, ctx).record } };
}
