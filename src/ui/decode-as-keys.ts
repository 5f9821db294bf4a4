// Decode As in the terminal UI: `d` on an unresolved extended message asks which extension its id
// is, and the answer names every message with that id in that direction of the connection (the
// receiver's mapping, which the capture did not show). ui-controller.ts applies it to the store.
import type { KeyPress } from './keys.js';
import { editLine, type Handler, type UiContext, type UiState } from './ui-state.js';
import { selection } from './ui-selection.js';

/** What an extension name may look like (BEP 10 names are short identifiers). */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function openDecodeAs(s: UiState, ctx: UiContext): UiState {
  const { record } = selection(s, ctx);
  const r = record === undefined ? undefined : ctx.store.record(record);
  if (r === undefined || !('msg' in r) || r.msg !== 'extended' || r.ext !== null || r.extId === undefined) {
    return { ...s, message: 'd (Decode As) is for an unresolved extended message (ext#N)' };
  }
  return { ...s, mode: 'decode', ask: { text: r.probably ?? '', conn: r.conn, dst: r.dst, extId: r.extId } };
}

/** Keys while the question is open: Enter applies a name, Esc leaves things as they were. */
export function decodeKey(s: UiState, k: KeyPress): UiState {
  const ask = s.ask;
  if (ask === undefined || k.name === 'esc') return { ...s, mode: 'normal', ask: undefined };
  if (k.name === 'enter') {
    const name = ask.text.trim();
    if (!NAME.test(name)) return { ...s, message: 'an extension name, e.g. lt_donthave, ut_metadata, ut_pex' };
    return { ...s, mode: 'normal', ask: undefined, decodeAs: { conn: ask.conn, dst: ask.dst, extId: ask.extId, name } };
  }
  const text = editLine(ask.text, k);
  return text === undefined ? s : { ...s, ask: { ...ask, text } };
}
