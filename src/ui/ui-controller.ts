// The edge between the UI's pure reducer and the store it reads: one step runs reduce, applies the
// filter and connection it decided to the store, and then settles the selection in the new view.
// App.tsx calls step for every key; tests call it with a real store, without ink.
import type { RecordStore } from '../model/store.js';
import { compileFilter } from '../model/filter.js';
import { fieldTree, type FieldNode } from './field-tree.js';
import { findInView } from './search.js';
import { bytesLineCount, connectionMessages } from './follow.js';
import { followPerLine } from './follow-keys.js';
import { decodeExtensionPayload } from '../bittorrent/extensions.js';
import { escapeText } from '../output/escape.js';
import { StatisticsCollector } from '../model/statistics.js';
import { formatStatistics } from '../output/stats-text.js';
import { reduce, type UiContext, type UiEvent, type UiState } from './ui-state.js';
import { settle } from './ui-selection.js';
import { PASS_CHUNK_ROWS } from './view-pass-runner.js';

export function step(s: UiState, event: UiEvent, ctx: UiContext, store: Pick<RecordStore, 'beginFilter' | 'beginConnection' | 'continueView' | 'decodeAs'>): UiState {
  let next = reduce(s, event, ctx);
  if (next.decodeAs !== undefined) {
    const { conn, dst, extId, name } = next.decodeAs;
    // The payloads are decoded by the extension's owner, as the decoder would have.
    const n = store.decodeAs(conn, dst, extId, name, (payload) => decodeExtensionPayload(name, payload));
    next = { ...next, decodeAs: undefined, message: `Decode As: id ${extId} toward ${escapeText(dst, 46)} is ${escapeText(name, 30)} (${n} message${n === 1 ? '' : 's'})` };
  }
  if (next.filter !== s.filter) {
    const compiled = next.filter === undefined ? undefined : compileFilter(next.filter);
    // reduce only keeps a filter that compiles.
    store.beginFilter(compiled?.ok ? compiled.test : undefined);
  }
  if (next.conn !== s.conn) store.beginConnection(next.conn);
  // The first slice of a new pass at once (a small store is done; a big one has its first rows for
  // the repaint after this key); the rest a turn at a time (view-pass-runner.ts), settle waiting
  // while the record to keep selected is not reached yet.
  if (next.filter !== s.filter || next.conn !== s.conn) store.continueView(PASS_CHUNK_ROWS);
  return settle(next, ctx);
}

/** The context the keys read, over a store and a screen size; the details tree of the last record asked for is cached. */
export function storeContext(store: RecordStore, width: number, height: number, cache: FieldCache = fieldCache()): UiContext {
  return {
    store,
    width,
    height,
    fields: (record) => cache(store, record),
    find: (from, query, bytes) => findInView(store, from, query, bytes),
    statsLines: (w) => statsLines(store, w),
    followed: (conn) => followed(store, conn, followPerLine(width)),
    bytes: (record) => {
      const raw = store.bytes(record);
      return raw === undefined ? undefined : { length: raw.bytes.length, partial: raw.bytes.length < raw.total };
    },
  };
}

export type FieldCache = (store: RecordStore, record: number) => readonly FieldNode[];

/** Remembers the details tree of the last record: a keypress and the render after it share one. */
export function fieldCache(): FieldCache {
  let last: { store: RecordStore; record: number; nodes: readonly FieldNode[] } | undefined;
  return (store, record) => {
    if (last?.store === store && last.record === record) return last.nodes;
    const r = store.record(record);
    // A record from a capture packet gets the packet's layers above it (read back from the file).
    const nodes = r === undefined ? [] : fieldTree(r, r.frame === undefined ? undefined : store.framePacket(r.frame));
    last = { store, record, nodes };
    return nodes;
  };
}

/** The Statistics view's lines: of the records in view (filter and connection), computed once per view and width. */
const statsCache = new WeakMap<RecordStore, { key: string; lines: readonly string[] }>();

export function statsLines(store: RecordStore, width: number): readonly string[] {
  const key = `${store.size}/${store.view.length}/${width}`;
  const cached = statsCache.get(store);
  if (cached?.key === key) return cached.lines;
  const stats = new StatisticsCollector();
  let next = 0;
  for (let i = 0; i < store.size; i++) {
    // The view is in record order: a record counts when it is the next one shown.
    const shown = store.view[next] === i;
    if (shown) next++;
    stats.record(store.record(i)!, shown);
  }
  const lines = formatStatistics(stats.result(Math.max(10, width - 14)), width);
  statsCache.set(store, { key, lines });
  return lines;
}

/** The followed connection's messages and line counts, computed once per store size. */
const followCache = new WeakMap<RecordStore, { key: string; value: { messages: readonly number[]; ladder: number; bytes: number } }>();

export function followed(store: RecordStore, conn: number, perLine: number): { messages: readonly number[]; ladder: number; bytes: number } {
  const key = `${store.size}/${conn}/${perLine}`;
  const cached = followCache.get(store);
  if (cached?.key === key) return cached.value;
  const messages = connectionMessages(store, conn);
  const value = { messages, ladder: messages.length, bytes: bytesLineCount(store, messages, perLine) };
  followCache.set(store, { key, value });
  return value;
}
