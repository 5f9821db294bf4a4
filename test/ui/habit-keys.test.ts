// Wireshark's habits in the UI's reducer, without ink: t/T, marks, Ctrl-F (text and hex), s, and the
// narrow rows and status line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { typed, type KeyPress } from '../../src/ui/keys.js';
import { initialState, type UiState } from '../../src/ui/ui-state.js';
import { selection } from '../../src/ui/ui-selection.js';
import { step, storeContext } from '../../src/ui/ui-controller.js';
import { formatRow } from '../../src/ui/row-format.js';
import { rowTime } from '../../src/output/time-format.js';
import { statusText } from '../../src/ui/status-text.js';
import { paneWidths } from '../../src/ui/layout.js';
import { bytesPerLine } from '../../src/ui/hex-geometry.js';
import { parseHexQuery } from '../../src/ui/search.js';
import { sampleRecords, sampleStore } from './fixtures.js';

function ui(width = 110, height = 30) {
  const store = sampleStore();
  const ctx = storeContext(store, width, height);
  let state: UiState = initialState();
  const send = (keys: string | KeyPress[]): UiState => {
    for (const key of typeof keys === 'string' ? typed(keys) : keys) state = step(state, { type: 'key', key }, ctx, store);
    return state;
  };
  const selected = () => {
    const r = store.record(selection(state, ctx).record!)!;
    return 'msg' in r ? `${r.msg}${r.ext ? ':' + r.ext : ''}${r.piece !== undefined ? ' ' + r.piece : ''}` : r.event;
  };
  return { store, ctx, send, selected, get state() { return state; } };
}
const ctrlF: KeyPress[] = [{ name: 'ctrl-f' }];

test("m<letter> marks the row, '<letter> comes back; an unknown mark says so; a hidden one too", () => {
  const u = ui();
  u.send('jjj');
  assert.equal(u.selected(), 'have 5');
  u.send('ma');
  u.send('G');
  assert.equal(u.selected(), 'extended:lt_donthave 0');
  u.send("'a");
  assert.equal(u.selected(), 'have 5');
  assert.equal(u.state.message, 'mark a');
  u.send("'b");
  assert.match(u.state.message!, /no mark b/);
  u.send('/lt_donthave\r');
  u.send("'a");
  assert.match(u.state.message!, /hidden by the filter/);
  // a prefix followed by a non-letter is dropped, the key does nothing else
  u.send('m1');
  assert.equal(u.state.prefix, undefined);
});

test('t cycles start -> previous -> UTC -> start; T sets the time reference and clears it', () => {
  const u = ui();
  assert.equal(u.state.time, 'start');
  u.send('t');
  assert.equal(u.state.time, 'previous');
  u.send('t');
  assert.equal(u.state.time, 'utc');
  u.send('t');
  assert.equal(u.state.time, 'start');
  u.send('jjT');
  assert.equal(u.state.timeRef, u.store.view[2]);
  assert.match(u.state.message!, /time reference set/);
  u.send('T');
  assert.equal(u.state.timeRef, undefined);
  // the row times those displays give
  assert.equal(rowTime(100.3, { display: 'start', base: 100.2 }), '   +0.100000');
  assert.equal(rowTime(100.1, { display: 'start', base: 100.2 }), '   -0.100000');
  assert.equal(rowTime(100.3, { display: 'previous', base: 100, previous: 100.25 }), '   Δ0.050000');
  assert.equal(rowTime(100.5, { display: 'utc', base: 0 }, true), ' 1970-01-01 00:01:40.500');
  assert.equal(rowTime(100.5, { display: 'utc', base: 0 }, false), ' 00:01:40.500');
});

test('Ctrl-F finds text in fields and peer strings, Enter again finds the next, wrapping; not found says so', () => {
  const u = ui();
  u.send(ctrlF);
  assert.equal(u.state.mode, 'search');
  u.send('LT_DONTHAVE\r');
  // the extended handshake's m lists lt_donthave: the first match after row 0
  assert.equal(u.selected(), 'extended:handshake');
  u.send(ctrlF);
  assert.equal(u.state.search?.text, 'LT_DONTHAVE', 'starts from the last search');
  u.send('\r');
  assert.equal(u.selected(), 'extended:lt_donthave 2');
  u.send(ctrlF);
  u.send([{ name: 'ctrl-u' }]);
  u.send('pwned\r');
  assert.equal(u.selected(), 'extended:handshake', 'a peer string (v) is searched, wrapping');
  assert.match(u.state.message!, /wrapped/);
  u.send(ctrlF);
  u.send([{ name: 'ctrl-u' }]);
  u.send('no such thing\r');
  assert.match(u.state.message!, /not found/);
  u.send(ctrlF);
  u.send([{ name: 'esc' }]);
  assert.equal(u.state.mode, 'normal');
});

test('Ctrl-F in the bytes pane searches hex bytes and highlights the match', () => {
  const u = ui();
  u.send('\t\t');
  assert.equal(u.state.focus, 'hex');
  u.send(ctrlF);
  assert.equal(u.state.search?.bytes, true);
  u.send('00 00 00 06 14 03 00 00 00 02\r');
  assert.equal(u.selected(), 'extended:lt_donthave 2');
  assert.deepEqual(u.state.searchHit?.range, [0, 10]);
  u.send(ctrlF);
  u.send([{ name: 'ctrl-u' }]);
  u.send('zz\r');
  assert.match(u.state.message!, /not hex bytes/);
  assert.deepEqual(parseHexQuery('0x13,0x42'), Uint8Array.of(0x13, 0x42));
  assert.equal(typeof parseHexQuery('123'), 'string');
});

test('s opens the Statistics of the rows in view; j/k scroll; Esc closes', () => {
  const u = ui(110, 16);
  u.send('s');
  assert.equal(u.state.mode, 'stats');
  const lines = u.ctx.statsLines(110);
  assert.match(lines[0]!, /^Conversations: 1 connection$/);
  assert.ok(lines.some((l) => /^\s+lt_donthave\s+0\s+0 B\s+2\s+20 B/.test(l)), lines.join('\n'));
  u.send('jjj');
  assert.equal(u.state.statsScroll, 3);
  u.send('G');
  assert.equal(u.state.statsScroll, lines.length - 14);
  u.send([{ name: 'esc' }]);
  assert.equal(u.state.mode, 'normal');
  // with a filter, only what it keeps
  u.send('/lt_donthave\r');
  const filtered = u.ctx.statsLines(110);
  assert.ok(filtered.some((l) => /^\s+extended\s+0\s+0 B\s+2\s+20 B\s+100\.0%/.test(l)), filtered.join('\n'));
});

test('80 columns: rows keep the message name and the piece; addresses become "#conn ->"; the status keeps the counts', () => {
  const store = sampleStore();
  const r = store.record(5)!;
  const row = formatRow(r, 100, store.connectionInfo(1), 80);
  assert.match(row.text, /^ +\+0\.500000 #1 <- +lt_donthave +piece=2/);
  assert.ok(row.text.length <= 78);
  const wide = formatRow(r, 100, store.connectionInfo(1), 120);
  assert.match(wide.text, /10\.0\.0\.1:49396 +<- 10\.0\.0\.2:6881/);
  const status = statusText({ title: 'samples/wt-swarm.pcap', shown: 299, total: 299, filter: undefined, conn: undefined, following: false, state: 'no other lt_donthave', width: 80, findings: { error: 0, warning: 3, info: 0 } });
  assert.match(status, /0 err 3 warn 0 info/);
  assert.ok(!status.includes('? help'), 'the key hints went first');
  assert.equal(status.length, 80);
  const roomy = statusText({ title: 'x', shown: 1, total: 1, filter: undefined, conn: undefined, following: false, state: 'done', width: 200 });
  assert.match(roomy, /\? help/);
});

test('the bytes pane has 16 bytes a line at 120 columns', () => {
  assert.equal(bytesPerLine(paneWidths(120).hex), 16);
  assert.equal(bytesPerLine(paneWidths(80).hex), 8);
  assert.ok(paneWidths(120).details >= 40);
});

test('d (Decode As) on an unresolved id names it for that direction: payload decoded, n finds it, the view follows', () => {
  const u = ui();
  u.send('d');
  assert.match(u.state.message!, /for an unresolved extended message/);
  const at = u.store.view.findIndex((i) => { const r = u.store.record(i)!; return 'msg' in r && r.ext === null; });
  u.send('g' + 'j'.repeat(at));
  assert.equal(u.selected(), 'extended');
  u.send('d');
  assert.equal(u.state.mode, 'decode');
  u.send('lt_donthave\r');
  assert.equal(u.state.mode, 'normal');
  assert.match(u.state.message!, /Decode As: id 9 toward 10\.0\.0\.1:49396 is lt_donthave \(1 message\)/);
  const r = u.store.record(u.store.view[at]!)!;
  assert.ok('msg' in r);
  assert.deepEqual([r.ext, r.piece, r.mappingFrom], ['lt_donthave', 0x01020304, 'Decode As (in the terminal UI)']);
  assert.equal(u.selected(), `extended:lt_donthave ${0x01020304}`);
  assert.ok(u.store.donthave.includes(u.store.view[at]!));
  u.send('g');
  u.send('nn');
  assert.equal(u.selected(), `extended:lt_donthave ${0x01020304}`, 'n goes to it, after lt_donthave 2');
});

test('o follows the connection: a ladder of its messages, Tab its bytes with boundaries, w asks for the bytes to be saved', async () => {
  const { ladderLines, bytesLines, connectionBytes } = await import('../../src/ui/follow.js');
  const u = ui(110, 16);
  u.send('o');
  assert.equal(u.state.mode, 'follow');
  assert.deepEqual(u.state.follow, { conn: 1, pane: 'ladder', scroll: 0 });
  const info = u.ctx.followed(1);
  assert.equal(info.ladder, 8);
  const ladder = ladderLines(u.store, 1, info.messages, 0, 10, 110);
  assert.match(ladder[0]!, /^ +\+0\.000 ├ handshake .*─▶$/);
  assert.match(ladder[1]!, /^ +\+0\.100 ◀─+ ext handshake .*┤$/);
  assert.ok(!ladder.join('\n').includes('\x1b'), 'peer strings escaped');
  u.send('\t');
  assert.equal(u.state.follow?.pane, 'bytes');
  const bytes = bytesLines(u.store, 1, info.messages, 0, 200, 16);
  assert.equal(bytes[0], '── A -> B handshake (68 bytes) ──');
  assert.match(bytes[1]!, /^000000  13 42 69 74 54 6f 72 72 65 6e 74 20 70 72 6f 74 +\.BitTorrent prot$/);
  assert.ok(bytes.includes('── B -> A lt_donthave (10 bytes) ──'));
  assert.equal(bytes.length, info.bytes);
  u.send('jj');
  assert.equal(u.state.follow?.scroll, 2);
  u.send('w');
  assert.equal(u.state.followSave, 1);
  const raw = connectionBytes(u.store, info.messages);
  // The fixture's wire bytes, in order; the extended handshake's record says 40 bytes, its bytes are 8.
  const wire = sampleRecords().filter(([r]) => 'msg' in r).map(([, b]) => b!);
  assert.deepEqual(raw.bytes, Uint8Array.from(wire.flatMap((b) => [...b])));
  assert.equal(raw.missing, 40 - 8);
  u.send([{ name: 'esc' }]);
  assert.equal(u.state.mode, 'normal');
});
