// The first frame painted before ink loads: the App's first rows in the App's places, the status
// line at the bottom, peer strings escaped, nothing at all on a terminal too small for the layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paintFirstFrame } from '../../src/ui/first-frame.js';
import { screenLayout } from '../../src/ui/layout.js';
import { sampleStore } from './fixtures.js';

function fakeTerminal(columns: number, rows: number): { out: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const out = { columns, rows, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
  return { out, text: () => written };
}

/** The screen the escape sequences draw: row -> text, colours dropped. */
function screen(painted: string, rows: number): string[] {
  const lines: string[] = Array.from({ length: rows }, () => '');
  for (const m of painted.matchAll(/\x1b\[(\d+);1H((?:(?!\x1b\[\d+;1H)[\s\S])*)/g)) lines[Number(m[1]) - 1] = m[2]!.replace(/\x1b\[[\d;]*m/g, '');
  return lines;
}

test('the first rows and the status line, where the App puts them', () => {
  const term = fakeTerminal(110, 30);
  const store = sampleStore();
  assert.equal(paintFirstFrame(term.out, store, 'sample.pcap', undefined), true);
  const painted = term.text();
  assert.ok(painted.startsWith('\x1b[?1049h'), 'enters the alternate screen');
  const lines = screen(painted, 30);
  const { timelineHeight } = screenLayout(110, 30);
  assert.match(lines[0]!, /^▶ +\+0\.000000 #1 .*handshake\s+libtorrent 2\.0\.9/);
  assert.match(lines.find((l) => l.includes('lt_donthave'))!, /^ ◆.*lt_donthave\s+piece=2/);
  assert.equal(lines.slice(0, timelineHeight).filter((l) => l !== '').length, Math.min(timelineHeight, store.view.length));
  // The counts come before the state, and the key hints are the first to go on a narrow line.
  assert.match(lines[29]!, /^ sample\.pcap │ 10\/10 │ no filter │ 0 err 1 warn 0 info │ reading…/);
  assert.ok(!painted.includes('\x1b]0;'), 'a peer string reached the terminal raw');
});

test('the timeline is the one the App would show: the filtered view', () => {
  const term = fakeTerminal(110, 30);
  const store = sampleStore();
  store.setFilter((r) => 'msg' in r && r.ext === 'lt_donthave');
  paintFirstFrame(term.out, store, 't', 'lt_donthave');
  const rows = screen(term.text(), 30).filter((l) => /^[▶ ]/.test(l) && l.includes('#1'));
  assert.equal(rows.length, 2);
  for (const r of rows) assert.match(r, /lt_donthave/);
  assert.match(screen(term.text(), 30)[29]!, /2\/10 │ filter: lt_donthave/);
});

test('a terminal too small for the layout gets nothing (the App says what is wrong)', () => {
  const term = fakeTerminal(50, 30);
  assert.equal(paintFirstFrame(term.out, sampleStore(), 't', undefined), false);
  assert.equal(term.text(), '');
});
