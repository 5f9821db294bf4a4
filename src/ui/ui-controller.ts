// The edge between the UI's pure reducer and the store it reads: one step runs reduce, applies the
// filter and connection it decided to the store, and then settles the selection in the new view.
// App.tsx calls step for every key; tests call it with a real store, without ink.
import type { RecordStore } from '../model/store.js';
import { compileFilter } from '../model/filter.js';
import { fieldTree, type FieldNode } from './field-tree.js';
import { reduce, settle, type UiContext, type UiEvent, type UiState } from './ui-state.js';

export function step(s: UiState, event: UiEvent, ctx: UiContext, store: Pick<RecordStore, 'setFilter' | 'setConnection'>): UiState {
  const next = reduce(s, event, ctx);
  if (next.filter !== s.filter) {
    const compiled = next.filter === undefined ? undefined : compileFilter(next.filter);
    // reduce only keeps a filter that compiles.
    store.setFilter(compiled?.ok ? compiled.test : undefined);
  }
  if (next.conn !== s.conn) store.setConnection(next.conn);
  return settle(next, ctx);
}

/** The context the keys read, over a store and a screen size; the details tree of the last record asked for is cached. */
export function storeContext(store: RecordStore, width: number, height: number, cache: FieldCache = fieldCache()): UiContext {
  return {
    store,
    width,
    height,
    fields: (record) => cache(store, record),
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
    const r = store.records[record];
    const nodes = r === undefined ? [] : fieldTree(r);
    last = { store, record, nodes };
    return nodes;
  };
}
