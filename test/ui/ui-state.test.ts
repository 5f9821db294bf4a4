// The UI's reducer without ink: keys in, state out, over a real store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordStore } from '../../src/model/store.js';
import { charKey, isPrintable, keyPresses, typed, type KeyPress } from '../../src/ui/keys.js';
import { editLine, initialState, reduce, type UiState } from '../../src/ui/ui-state.js';
import { layoutOf, selection } from '../../src/ui/ui-selection.js';
import { step, storeContext } from '../../src/ui/ui-controller.js';
import { sampleStore } from './fixtures.js';

const SIZE = { width: 110, height: 30 };

/** A UI over `store`: keys (text as a terminal sends it, or key names) drive it through step. */
function ui(store: RecordStore = sampleStore(), start: Partial<UiState> = {}) {
  const ctx = storeContext(store, SIZE.width, SIZE.height);
  let state: UiState = { ...initialState({ conn: store.connection }), ...start };
  const send = (keys: string | KeyPress[]): UiState => {
    for (const key of typeof keys === 'string' ? typed(keys) : keys) state = step(state, { type: 'key', key }, ctx, store);
    return state;
  };
  const selected = () => {
    const { record } = selection(state, ctx);
    const r = record === undefined ? undefined : store.record(record);
    return r === undefined ? undefined : 'msg' in r ? `${r.msg}${'ext' in r && r.ext ? ':' + r.ext : ''}${r.piece !== undefined ? ' ' + r.piece : ''}` : r.event;
  };
  return { store, ctx, send, selected, get state() { return state; } };
}
const keys = (...names: string[]): KeyPress[] => names.map((name) => ({ name }));

test('movement: j/k, arrows, g/G, Home/End; G follows, a move up stops following', () => {
  const u = ui();
  assert.equal(u.selected(), 'handshake');
  u.send('jj');
  assert.equal(u.selected(), 'bitfield');
  u.send(keys('up'));
  assert.equal(u.selected(), 'extended:handshake');
  u.send('G');
  assert.equal(u.selected(), 'extended:lt_donthave 0');
  assert.equal(u.state.cursor.follow, true);
  u.send('k');
  assert.equal(u.state.cursor.follow, false);
  u.send(keys('home'));
  assert.equal(u.selected(), 'handshake');
  u.send(keys('end'));
  assert.equal(u.state.cursor.follow, true);
});

test('following: the selection is the last row of the view as records arrive', () => {
  const store = new RecordStore();
  const u = ui(store, { cursor: { pos: 0, top: 0, follow: true } });
  const base = { conn: 1, transport: 'tcp' as const, src: 'a:1', dst: 'b:2', msg: 'have' as const, size: 9 };
  store.add({ ...base, ts: 1, piece: 1 });
  store.add({ ...base, ts: 2, piece: 2 });
  assert.equal(u.selected(), 'have 2');
  u.send('k');
  store.add({ ...base, ts: 3, piece: 3 });
  assert.equal(u.selected(), 'have 1');
});

test('n/N jump between lt_donthave rows and wrap once with a message; the next move clears it', () => {
  const u = ui();
  u.send('n');
  assert.equal(u.selected(), 'extended:lt_donthave 2');
  u.send('n');
  assert.equal(u.selected(), 'extended:lt_donthave 0');
  u.send('n');
  assert.equal(u.selected(), 'extended:lt_donthave 2');
  assert.equal(u.state.message, 'wrapped to the first lt_donthave');
  u.send('j');
  assert.equal(u.state.message, undefined);
});

test('filter editor: / starts from the filter in force, Enter applies and keeps the selected record', () => {
  const u = ui();
  u.send('n');
  u.send('/lt_donthave\r');
  assert.equal(u.state.mode, 'normal');
  assert.equal(u.state.filter, 'lt_donthave');
  assert.equal(u.store.view.length, 2);
  assert.equal(u.selected(), 'extended:lt_donthave 2', 'the selected record stays selected');
  u.send('/');
  assert.deepEqual(u.state.editor, { text: 'lt_donthave' });
  u.send(' and piece == 0\r');
  assert.equal(u.state.filter, 'lt_donthave and piece == 0');
  assert.equal(u.store.view.length, 1);
  assert.equal(u.selected(), 'extended:lt_donthave 0', 'a hidden record gives way to the next one shown');
});

test('filter editor: a bad expression shows its position while editing; Esc keeps the filter in force and leaves nothing', () => {
  const u = ui();
  u.send('/lt_donthave\r');
  u.send('/\x15piece < x\r');
  assert.equal(u.state.mode, 'filter', 'the editor stays open on a bad expression');
  assert.deepEqual(u.state.editor, { text: 'piece < x', error: { message: "'<' needs a number, found 'x'", position: 8 } });
  assert.equal(u.state.filter, 'lt_donthave');
  assert.equal(u.store.view.length, 2, 'the store keeps the filter in force');
  assert.equal(layoutOf(u.state, u.ctx).timelineHeight, layoutOf(initialState(), u.ctx).timelineHeight - 2, 'the editor and its error take a line each');
  u.send(keys('backspace'));
  assert.deepEqual(u.state.editor, { text: 'piece < ' }, 'editing drops the error of the old text');
  u.send('\x15have and peice == 3\r');
  assert.deepEqual(u.state.editor, { text: 'have and peice == 3', error: { message: "unknown field 'peice': did you mean 'piece'?", position: 9 } });
  assert.equal(u.state.filter, 'lt_donthave', 'a misspelt field leaves the filter in force');
  u.send('\x15piece < ');
  u.send(keys('esc'));
  assert.equal(u.state.mode, 'normal');
  assert.equal(u.state.editor, undefined);
  assert.equal(u.state.filter, 'lt_donthave');
  assert.equal(layoutOf(u.state, u.ctx).timelineHeight, layoutOf(initialState(), u.ctx).timelineHeight, 'no line left behind');
  u.send('j');
  assert.equal(u.selected(), 'extended:lt_donthave 0', 'keys move the selection once the editor is closed');
});

test('filter editor: an emptied filter clears it; keys typed while editing are text, not commands', () => {
  const u = ui(sampleStore(), { filter: undefined });
  u.send('/lt_donthave\r');
  u.send('/');
  u.send(keys('ctrl-u'));
  assert.deepEqual(u.state.editor, { text: '' });
  u.send('q?jn');
  assert.equal(u.state.quit, false);
  assert.deepEqual(u.state.editor, { text: 'q?jn' });
  u.send(keys('ctrl-u', 'enter'));
  assert.equal(u.state.filter, undefined);
  assert.equal(u.store.view.length, 10);
});

test('editLine: end-of-line editing; control characters are not text', () => {
  assert.equal(editLine('ab', { name: 'c' }), 'abc');
  assert.equal(editLine('ab', { name: 'backspace' }), 'a');
  assert.equal(editLine('piece == 3', { name: 'ctrl-w' }), 'piece == ');
  assert.equal(editLine('ab', { name: 'ctrl-u' }), '');
  assert.equal(editLine('ab', { name: 'up' }), undefined);
  assert.equal(editLine('ab', charKey('\x07')), undefined);
  assert.equal(isPrintable({ name: 'é' }), true);
});

test('the connection picker chooses a connection and the view follows', () => {
  const store = sampleStore();
  store.add({ ts: 101, conn: 2, transport: 'utp', src: '[::1]:7000', dst: '[::1]:7001', msg: 'have', size: 9, piece: 1 });
  const u = ui(store);
  u.send('c');
  assert.equal(u.state.mode, 'picker');
  assert.equal(u.state.pickerSel, 0);
  u.send('jj\r');
  assert.equal(u.state.conn, 2);
  assert.equal(store.connection, 2);
  assert.equal(u.selected(), 'have 1');
  u.send('c');
  assert.equal(u.state.pickerSel, 2, 'the picker opens on the connection in force');
  u.send('q');
  assert.equal(u.state.mode, 'normal');
  assert.equal(u.state.quit, false, 'q in the picker closes it, not the program');
});

test('focus: Tab cycles the panes, Shift-Tab back, Enter toggles details, Esc returns to the timeline', () => {
  const u = ui();
  u.send('\t');
  assert.equal(u.state.focus, 'details');
  u.send('\t');
  assert.equal(u.state.focus, 'hex');
  u.send(keys('shift-tab'));
  assert.equal(u.state.focus, 'details');
  u.send(keys('esc'));
  assert.equal(u.state.focus, 'timeline');
  u.send('\r');
  assert.equal(u.state.focus, 'details');
  u.send('\r');
  assert.equal(u.state.focus, 'timeline');
});

test('details: j/k move the highlighted field within the record; a new row starts on its piece', () => {
  const u = ui();
  u.send('n\r');
  let sel = selection(u.state, u.ctx);
  assert.equal(sel.nodes[sel.fieldIndex]!.label, 'piece');
  u.send('kkkkkkkkkkkkkkkkkkkk');
  sel = selection(u.state, u.ctx);
  assert.equal(sel.fieldIndex, 0);
  assert.equal(sel.nodes[0]!.label, 'length prefix');
  u.send('\rn');
  sel = selection(u.state, u.ctx);
  assert.equal(sel.nodes[sel.fieldIndex]!.label, 'piece');
});

test('hex: the scroll stays within the message', () => {
  const u = ui();
  u.send('\t\t');
  u.send('jjjjjjjj');
  assert.equal(u.state.hexScroll, 0, 'a 68-byte handshake fits: nothing to scroll');
  u.send('G');
  assert.equal(u.state.hexScroll, 0);
});

test('findings: ! opens on the finding at or after the row, Enter selects it, help closes on any key, q quits', () => {
  const u = ui();
  u.send('!');
  assert.equal(u.state.mode, 'findings');
  u.send('\r');
  assert.equal(u.state.mode, 'normal');
  assert.equal(u.selected(), 'finding');
  u.send('?');
  assert.equal(u.state.mode, 'help');
  u.send('x');
  assert.equal(u.state.mode, 'normal');
  u.send('t');
  assert.equal(u.state.time, 'previous');
  u.send('q');
  assert.equal(u.state.quit, true);
});

test('a terminal too small for the layout takes only q', () => {
  const store = sampleStore();
  const ctx = storeContext(store, 40, 10);
  let s = initialState();
  s = reduce(s, { type: 'key', key: { name: 'j' } }, ctx);
  assert.equal(s.cursor.pos, 0);
  s = reduce(s, { type: 'key', key: { name: 'q' } }, ctx);
  assert.equal(s.quit, true);
});

test('reduce is pure: it does not change the state it is given or the store', () => {
  const u = ui();
  const before = structuredClone(u.state);
  const next = reduce(u.state, { type: 'key', key: { name: 'enter' } }, u.ctx);
  reduce({ ...u.state, mode: 'filter', editor: { text: 'lt_donthave' } }, { type: 'key', key: { name: 'enter' } }, u.ctx);
  assert.deepEqual(u.state, before);
  assert.notEqual(next, u.state);
  assert.equal(u.store.view.length, 10, 'reduce leaves applying the filter to step');
});

test('keyPresses: a chunk typed ahead is one key per character, Enter and Tab included; ink keys get names', () => {
  const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
  assert.deepEqual(keyPresses('!j\r', none).map((k) => k.name), ['!', 'j', 'enter']);
  assert.deepEqual(keyPresses('\t\tG', none).map((k) => k.name), ['tab', 'tab', 'G']);
  assert.deepEqual(keyPresses('', { ...none, downArrow: true }), [{ name: 'down' }]);
  assert.deepEqual(keyPresses('', { ...none, tab: true, shift: true }), [{ name: 'shift-tab' }]);
  assert.deepEqual(keyPresses('c', { ...none, ctrl: true }), [{ name: 'ctrl-c' }]);
  assert.deepEqual(keyPresses('', { ...none, escape: true, meta: true }), [{ name: 'esc' }]);
  // Esc with the key after it in one read ("\x1bs", which ink calls Alt+s): both keys, in order
  assert.deepEqual(keyPresses('s', { ...none, meta: true }).map((k) => k.name), ['esc', 's']);
  assert.deepEqual(keyPresses('G', { ...none, meta: true, shift: true }).map((k) => k.name), ['esc', 'G']);
});
