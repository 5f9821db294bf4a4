// Keys as the UI's reducer sees them: one name per key press ('j', 'G', '/', 'up', 'pagedown',
// 'enter', 'esc', 'tab', 'shift-tab', 'backspace', 'ctrl-u', ...), turned from what ink reports.
// Nothing here imports ink at run time, so the reducer and its tests never load it.
import type { Key } from 'ink';

export interface KeyPress {
  /** A printable key is its character ('j', 'G', '/'); other keys have the names above. */
  name: string;
}

/** Names of keys that are not characters typed into a line (what a printable key is not). */
const NAMED = new Set(['up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'enter', 'esc', 'tab', 'shift-tab', 'backspace']);

/** A key that types its own character (into the filter editor, for example). */
export function isPrintable(k: KeyPress): boolean {
  return [...k.name].length === 1 && !NAMED.has(k.name) && !/[\x00-\x1f\x7f]/.test(k.name);
}

/**
 * The key presses in what ink delivered. Keys typed faster than they are read (tmux send-keys, a held
 * key, a paste) arrive as one string: each character is a key of its own, Enter and Tab included
 * (ink flags those only when they come alone).
 */
export function keyPresses(input: string, key: Key): KeyPress[] {
  if (input.length > 1 && !key.ctrl && !key.meta) return Array.from(input, charKey);
  // Esc and the next key read together ("\x1bs") reach us as Alt+s. No key here is bound to Alt,
  // so it is what was typed: Esc, then s (Esc then s typed ahead of a busy UI lost the s).
  if (key.meta && !key.ctrl && !key.escape && input.length === 1) return [{ name: 'esc' }, charKey(input)];
  return [inkKey(input, key)];
}

function inkKey(input: string, key: Key): KeyPress {
  if (key.upArrow) return { name: 'up' };
  if (key.downArrow) return { name: 'down' };
  if (key.leftArrow) return { name: 'left' };
  if (key.rightArrow) return { name: 'right' };
  if (key.pageUp) return { name: 'pageup' };
  if (key.pageDown) return { name: 'pagedown' };
  if (key.home) return { name: 'home' };
  if (key.end) return { name: 'end' };
  if (key.return) return { name: 'enter' };
  if (key.escape) return { name: 'esc' };
  if (key.tab) return { name: key.shift ? 'shift-tab' : 'tab' };
  if (key.backspace || key.delete) return { name: 'backspace' };
  if (key.ctrl) return { name: 'ctrl-' + input };
  if (key.meta) return { name: 'meta-' + input };
  return input.length === 1 ? charKey(input) : { name: input };
}

/** One character of a chunk: the control characters that come that way get their key names. */
export function charKey(ch: string): KeyPress {
  if (ch === '\r' || ch === '\n') return { name: 'enter' };
  if (ch === '\t') return { name: 'tab' };
  if (ch === '\x7f' || ch === '\b') return { name: 'backspace' };
  if (ch === '\x1b') return { name: 'esc' };
  const code = ch.charCodeAt(0);
  if (code >= 1 && code <= 26) return { name: 'ctrl-' + String.fromCharCode(code + 96) };
  if (code < 0x20) return { name: '' };
  return { name: ch };
}

/** Key presses from text as a terminal sends it (tests, and chunks typed ahead): one per character. */
export function typed(text: string): KeyPress[] {
  return Array.from(text, charKey);
}
