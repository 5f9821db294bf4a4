// The terminal UI's selection, derived from its state and the store's view (App renders it, the keys
// read it), and the moves that change it: to a row, to the next row of a kind, to a finding's
// message, and back to the same record once the view has changed. Split from ui-state.ts (issue 14);
// pure functions over UiState and UiContext, tested through reduce (test/ui/ui-state.test.ts).
import type { FieldNode } from './field-tree.js';
import { screenLayout, type ScreenLayout } from './layout.js';
import type { UiContext, UiState } from './ui-state.js';

/** Lines under the panes: the filter editor, and its error while there is one. */
export function layoutOf(s: UiState, ctx: Pick<UiContext, 'width' | 'height'>): ScreenLayout {
  const extra = s.search !== undefined || s.ask !== undefined ? 1 : s.editor === undefined ? 0 : s.editor.error === undefined ? 1 : 2;
  return screenLayout(ctx.width, ctx.height, extra);
}

export interface Selection {
  pos: number;
  top: number;
  /** The selected record's index in the store, if the view has rows. */
  record: number | undefined;
  nodes: readonly FieldNode[];
  /** The details field highlighted (the piece by default when its bytes are known). */
  fieldIndex: number;
}

export function selection(s: UiState, ctx: UiContext): Selection {
  const length = ctx.store.view.length;
  let pos = s.cursor.follow ? Math.max(0, length - 1) : s.cursor.pos;
  pos = Math.max(0, Math.min(pos, length - 1));
  const top = clampTop(s.cursor.top, pos, layoutOf(s, ctx).timelineHeight, length);
  const record = ctx.store.view[pos];
  const nodes = record === undefined ? [] : ctx.fields(record);
  const fieldIndex = s.field !== undefined && s.field.record === record ? s.field.index : defaultField(nodes);
  return { pos, top, record, nodes, fieldIndex };
}

// ---- moving the selection ----

/** Selects view position `next`; a move by the user also ends a wait to reselect a record (settle). */
export function moveTo(s: UiState, ctx: UiContext, next: number, follow = false): UiState {
  const length = ctx.store.view.length;
  const pos = Math.max(0, Math.min(next, length - 1));
  const top = clampTop(selection(s, ctx).top, pos, layoutOf(s, ctx).timelineHeight, length);
  return { ...s, cursor: { pos, top, follow: follow || pos >= length - 1 }, hexScroll: 0, message: undefined, reselect: undefined };
}

/**
 * Once the view has changed (ui-controller.ts): select the same record, or the next one shown. While
 * a filter pass runs and has not yet reached that record with a match, the selection waits on the
 * first row (the matches so far are shown from the top) and this is called again after each turn of
 * the pass; the result once reached is the one a whole pass gives.
 */
export function settle(s: UiState, ctx: UiContext): UiState {
  if (s.reselect === undefined) return s;
  const { record } = s.reselect;
  const { view, viewProgress } = ctx.store;
  const length = view.length;
  if (viewProgress !== undefined && record !== undefined && !(length > 0 && view[length - 1]! >= record)) {
    const { pos, top, follow } = s.cursor;
    return pos === 0 && top === 0 && !follow ? s : { ...s, cursor: { pos: 0, top: 0, follow: false } };
  }
  const pos = Math.max(0, record === undefined ? 0 : Math.min(ctx.store.viewPositionAtOrAfter(record), length - 1));
  const top = clampTop(s.cursor.top, pos, layoutOf(s, ctx).timelineHeight, length);
  return { ...s, reselect: undefined, cursor: { pos, top, follow: false } };
}

/** n/N, f/F: the next or previous row of a kind, wrapping around once. */
export function jump(s: UiState, ctx: UiContext, dir: 1 | -1, what: string, find: (from: number, dir: 1 | -1) => number): UiState {
  const { pos } = selection(s, ctx);
  const found = find(pos, dir);
  if (found >= 0) return moveTo(s, ctx, found);
  const wrapped = find(dir === 1 ? -1 : ctx.store.view.length, dir);
  if (wrapped >= 0 && wrapped !== pos) {
    return { ...moveTo(s, ctx, wrapped), message: dir === 1 ? `wrapped to the first ${what}` : `wrapped to the last ${what}` };
  }
  // Unresolved ids that are probably lt_donthave are not jumped to: say how to see them.
  const probable = what === 'lt_donthave' && ctx.store.probableDonthave > 0 ? ` (${ctx.store.probableDonthave} probable: /probably == lt_donthave)` : '';
  return { ...s, message: (wrapped === pos ? `no other ${what}` : `no ${what} in view`) + probable };
}

/** From the findings list: select the message the finding points at (or the finding itself). */
export function goToFinding(s: UiState, ctx: UiContext, finding: number): UiState {
  const { store } = ctx;
  const target = store.findingTarget(finding) ?? finding;
  const p = store.viewPositionAtOrAfter(target);
  if (store.view[p] === target) return moveTo(s, ctx, p);
  const own = store.viewPositionAtOrAfter(finding);
  if (store.view[own] === finding) return { ...moveTo(s, ctx, own), message: "the finding's message is hidden by the filter; showing the finding" };
  return { ...moveTo(s, ctx, Math.min(p, store.view.length - 1)), message: 'that finding is hidden by the filter or connection choice; showing the nearest row' };
}

export function clampTop(top: number, pos: number, height: number, length: number): number {
  let t = top;
  if (pos < t) t = pos;
  if (pos >= t + height) t = pos - height + 1;
  return Math.max(0, Math.min(t, Math.max(0, length - height)));
}

/** The field the hex pane highlights when a row is first selected: the piece if it has known bytes. */
function defaultField(nodes: readonly FieldNode[]): number {
  const piece = nodes.findIndex((n) => n.label === 'piece' && n.range !== undefined);
  return piece >= 0 ? piece : 0;
}
