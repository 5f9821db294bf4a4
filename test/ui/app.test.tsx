import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render as inkRender } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { RecordStore } from '../../src/model/store.js';
import { sampleRecords, sampleStore, syntheticStore } from './fixtures.js';

const noColor = { color: false };
const size = { width: 110, height: 30 };
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** What each rendered App shows now, by its stdin (press waits for it to change). */
const frames = new WeakMap<object, () => string | undefined>();
function render(element: Parameters<typeof inkRender>[0]): ReturnType<typeof inkRender> {
  const r = inkRender(element);
  frames.set(r.stdin, r.lastFrame);
  return r;
}

/**
 * Writes keys, waits `ms`, then until the screen changes (2 s at most): a fixed wait alone failed on
 * a busy machine, where a repaint can take longer than any fixed wait.
 */
async function press(stdin: { write(s: string): void }, keys: string, ms = 30): Promise<void> {
  const frame = frames.get(stdin);
  const before = frame?.();
  stdin.write(keys);
  await tick(ms);
  for (let i = 0; frame !== undefined && frame() === before && i < 200; i++) await tick(10);
}

/** Waits (2 s at most) until the screen satisfies `ok`: store updates repaint on their own time. */
async function until(lastFrame: () => string | undefined, ok: (frame: string) => boolean): Promise<string> {
  for (let i = 0; i < 200 && !ok(lastFrame() ?? ''); i++) await tick(10);
  return lastFrame() ?? '';
}

function selectedRow(frame: string): string | undefined {
  return frame.split('\n').find((l) => l.startsWith('▶') || l.startsWith('>'));
}

test('renders the timeline, details, bytes, piece map and status line', async () => {
  const { lastFrame, unmount } = render(<App store={sampleStore()} title="sample.pcap" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  const frame = lastFrame()!;
  assert.match(frame, /handshake\s+libtorrent 2\.0\.9/);
  assert.match(frame, /◆.*lt_donthave\s+piece=2/);
  assert.match(frame, /\?.*ext#9\s+unresolved id 9/);
  assert.match(frame, /~.*GAP\s+1200 bytes/);
  assert.match(frame, / Details /);
  assert.match(frame, /Bytes \(68 bytes\)/);
  assert.match(frame, /Pieces #1/);
  assert.match(frame, /sample\.pcap │ 10\/10 │ no filter/);
  unmount();
});

test('peer-controlled strings never reach the screen raw', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  assert.ok(!lastFrame()!.includes('\x1b]0;'), 'OSC sequence from v reached the screen');
  assert.ok(!lastFrame()!.includes('\x1b[31m'), 'CSI from the peer id reached the screen');
  assert.match(lastFrame()!, /evil\\x1b\]0;pwned\\x07/);
  await press(stdin, 'c');
  assert.match(lastFrame()!, /evil\\x1b\]0;pwned\\x07 \[lt_donthave\]/);
  unmount();
});

test('n and N jump between lt_donthave rows; details show piece and mapping; bytes of the piece', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, 'n');
  assert.match(selectedRow(lastFrame()!)!, /lt_donthave\s+piece=2/);
  assert.match(lastFrame()!, /piece: 2/);
  assert.match(lastFrame()!, /mappingFrom: 1/);
  assert.match(lastFrame()!, /0000 00 00 00 06  14 03 00 00/);
  // Piece map at this moment: 2 lost, 0 still held.
  assert.match(lastFrame()!, /10\.0\.0\.2:6881\s+██X··█··/);
  await press(stdin, 'n');
  assert.match(selectedRow(lastFrame()!)!, /lt_donthave\s+piece=0/);
  assert.match(lastFrame()!, /10\.0\.0\.2:6881\s+X█X··█··/);
  await press(stdin, 'N');
  assert.match(selectedRow(lastFrame()!)!, /lt_donthave\s+piece=2/);
  unmount();
});

test('movement keys: j/k, arrows, g/G, Home/End', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  assert.match(selectedRow(lastFrame()!)!, /handshake/);
  await press(stdin, 'j');
  assert.match(selectedRow(lastFrame()!)!, /ext handshake/);
  await press(stdin, '\x1b[B');
  assert.match(selectedRow(lastFrame()!)!, /bitfield/);
  await press(stdin, 'k');
  assert.match(selectedRow(lastFrame()!)!, /ext handshake/);
  await press(stdin, 'G');
  assert.match(selectedRow(lastFrame()!)!, /piece=0/);
  await press(stdin, 'g');
  assert.match(selectedRow(lastFrame()!)!, /libtorrent/);
  await press(stdin, '\x1b[F');
  assert.match(selectedRow(lastFrame()!)!, /piece=0/);
  await press(stdin, '\x1b[H');
  assert.match(selectedRow(lastFrame()!)!, /libtorrent/);
  unmount();
});

test('/ edits the filter in force: Enter applies, a bad one shows where while editing, Esc keeps the filter and leaves nothing', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, '/');
  for (const ch of 'lt_donthave') await press(stdin, ch, 5);
  await tick();
  assert.match(lastFrame()!, /\/lt_donthave/);
  await press(stdin, '\r');
  assert.match(lastFrame()!, /2\/10 │ filter: lt_donthave/);
  assert.ok(!/handshake\s+libtorrent/.test(lastFrame()!));
  // The editor opens on the filter in force.
  await press(stdin, '/');
  assert.match(lastFrame()!, /^\/lt_donthave .*Enter apply.*now: lt_donthave/m);
  await press(stdin, '\x15piece < x\r');
  assert.match(lastFrame()!, /^\/piece < x /m, 'the editor stays open on the bad expression');
  assert.match(lastFrame()!, /bad filter at 8: '<' needs a number, found 'x': piece < ▶x/);
  assert.match(lastFrame()!, /2\/10 │ filter: lt_donthave/);
  await press(stdin, '\x1b', 80);
  assert.doesNotMatch(lastFrame()!, /bad filter|Enter apply/, 'nothing left once the editor closes');
  assert.match(lastFrame()!, /2\/10 │ filter: lt_donthave/);
  // Keys move the selection again; an emptied filter clears it.
  await press(stdin, 'j');
  assert.match(selectedRow(lastFrame()!)!, /lt_donthave\s+piece=0/);
  await press(stdin, '/\x15\r');
  assert.match(lastFrame()!, /10\/10 │ no filter/);
  unmount();
});

test('c picks a connection', async () => {
  const store = sampleStore();
  store.add({ ts: 101, conn: 2, transport: 'utp', src: '[::1]:7000', dst: '[::1]:7001', msg: 'have', size: 9, piece: 1 });
  const { lastFrame, stdin, unmount } = render(<App store={store} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, 'c');
  assert.match(lastFrame()!, /Pick a connection/);
  assert.match(lastFrame()!, /#2 utp\s+\[::1\]:7000/);
  await press(stdin, 'j');
  await press(stdin, 'j');
  await press(stdin, '\r');
  assert.match(lastFrame()!, /1\/11 │ no filter │ conn #2/);
  unmount();
});

test('Tab and Enter move focus; details navigation moves the highlighted field', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, '\r');
  assert.match(selectedRow(lastFrame()!)!, /^> /);
  await press(stdin, '\t');
  assert.match(selectedRow(lastFrame()!)!, /^> /);
  await press(stdin, '\t');
  assert.match(selectedRow(lastFrame()!)!, /^▶/);
  unmount();
});

test('t cycles: since the start, since the previous row, absolute UTC; ? shows help', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  assert.match(lastFrame()!, /\+0\.500000/);
  await press(stdin, 't');
  assert.match(lastFrame()!, /time since the previous row shown/);
  await press(stdin, 't');
  assert.match(lastFrame()!, /1970-01-01 00:01:40\.500/);
  await press(stdin, '?');
  assert.match(lastFrame()!, /n \/ N\s+next \/ previous lt_donthave/);
  await press(stdin, 'x');
  assert.match(lastFrame()!, /00:01:40\.500/);
  unmount();
});

test('a too-small terminal gets a message instead of the layout', async () => {
  const { lastFrame, unmount } = render(<App store={sampleStore()} title="t" size={{ width: 40, height: 10 }} theme={noColor} refreshMs={0} />);
  await tick();
  assert.match(lastFrame()!, /Terminal too small/);
  assert.match(lastFrame()!, /have 40x10/);
  unmount();
});

test('NO_COLOR: no colour escapes in the output; with colour, lt_donthave rows are coloured', async () => {
  const { makeTheme } = await import('../../src/ui/theme.js');
  assert.equal(makeTheme({ NO_COLOR: '1' }).color, false);
  assert.equal(makeTheme({}).color, true);
  const plain = render(<App store={sampleStore()} title="t" size={size} theme={makeTheme({ NO_COLOR: '1' })} refreshMs={0} />);
  await tick();
  assert.doesNotMatch(plain.lastFrame()!, /\x1b\[3[0-9]m/);
  assert.match(plain.lastFrame()!, /◆.*lt_donthave/, 'the marker carries the meaning without colour');
  plain.unmount();
  // ink colours through chalk, which sees no terminal here: force it on for this check.
  const { default: chalk } = await import('chalk');
  const level = chalk.level;
  chalk.level = 1;
  try {
    const coloured = render(<App store={sampleStore()} title="t" size={size} theme={makeTheme({})} refreshMs={0} />);
    await tick();
    assert.match(coloured.lastFrame()!, /\x1b\[35m[^\n]*lt_donthave/);
    coloured.unmount();
  } finally {
    chalk.level = level;
  }
});

test('live follow: at the bottom it follows new records, scrolled up it stays', async () => {
  const store = new RecordStore();
  const records = sampleRecords();
  const { lastFrame, stdin, unmount } = render(<App store={store} title="proxy" size={size} theme={noColor} follow refreshMs={0} />);
  for (const [r, raw] of records.slice(0, 4)) store.add(r, raw);
  assert.match(selectedRow(await until(lastFrame, (f) => /4\/4/.test(f)))!, /have\s+piece=5/);
  store.add(...records[4]!);
  assert.match(selectedRow(await until(lastFrame, (f) => /5\/5/.test(f)))!, /request/);
  await press(stdin, 'k');
  store.add(...records[5]!);
  const frame = await until(lastFrame, (f) => /6\/6/.test(f));
  assert.match(frame, /6\/6/);
  assert.match(selectedRow(frame)!, /have\s+piece=5/);
  unmount();
});

test('1,000,000 records: a key repaints what it should and reads only the rows on screen (times: npm run bench -- --only keys)', async () => {
  const store = syntheticStore(1_000_000);
  // Count the records read: a move must format the visible rows (and replay the piece map from its
  // nearest checkpoint), never walk the capture.
  let reads = 0;
  const read = store.record.bind(store);
  store.record = (index) => {
    reads++;
    return read(index);
  };
  const { lastFrame, stdin, unmount } = render(<App store={store} title="big" size={{ width: 120, height: 40 }} theme={noColor} refreshMs={0} />);
  await tick(100);
  const counts: Record<string, number> = {};
  async function expectAfter(keys: string, expect: RegExp): Promise<void> {
    reads = 0;
    stdin.write(keys);
    for (let i = 0; i < 200 && !expect.test(lastFrame()!); i++) await tick(10);
    assert.match(lastFrame()!, expect, `after ${JSON.stringify(keys)}`);
    await tick(20);
    counts[keys] = reads;
  }
  await expectAfter('j', /^▶.*\+0\.001000/m);
  await expectAfter('G', /^▶.*lt_donthave\s+piece=575/m);
  await expectAfter('g', /^▶.*\+0\.000000/m);
  await expectAfter('n', /^▶.*lt_donthave\s+piece=999/m);
  await expectAfter('\x1b[6~', /^▶.*\+1\.020000/m);
  console.log('# records read per key: ' + JSON.stringify(counts));
  // The rows on screen (22), the details and the piece map's replay from its checkpoint.
  for (const key of ['j', 'g', 'n', '\x1b[6~']) assert.ok(counts[key]! < 1000, `${JSON.stringify(key)} read ${counts[key]} records`);
  // The first piece map at the end replays the selected connection's records once (1 in 8).
  assert.ok(counts['G']! < 1_000_000 / 8 + 1000, `G read ${counts['G']} records`);
  await expectAfter('/piece < 10 and conn == 2\r', /\d+\/1000000 │ filter: piece < 10 and conn == 2/);
  await expectAfter('/\x15\r', /1000000\/1000000 │ no filter/);
  unmount();
});

test('keys typed faster than a repaint are not lost: /filter then Enter in quick succession', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  stdin.write('/');
  stdin.write('lt_donthave');
  stdin.write('\r');
  stdin.write('j');
  await tick(60);
  assert.match(lastFrame()!, /2\/10 │ filter: lt_donthave/);
  assert.match(selectedRow(lastFrame()!)!, /piece=0/);
  unmount();
});

test('the hex pane highlights the selected field: the lt_donthave piece, then the length prefix', async () => {
  const { default: chalk } = await import('chalk');
  const level = chalk.level;
  chalk.level = 1;
  try {
    const { lastFrame, stdin, unmount } = render(<App store={sampleStore()} title="t" size={size} theme={{ color: false }} refreshMs={0} />);
    await tick();
    await press(stdin, 'n');
    const inverse = (frame: string) => [...frame.matchAll(/\x1b\[7m([0-9a-f]{2})\x1b\[27m/g)].map((m) => m[1]).join(' ');
    assert.equal(inverse(lastFrame()!.split('\n').filter((l) => /^\s*\S.*\b000[08] /.test(l)).join('\n')), '00 00 00 02');
    await press(stdin, '\r');
    for (let k = 0; k < 20; k++) stdin.write('k');
    await tick();
    assert.match(lastFrame()!, /\x1b\[7mlength prefix: 6/);
    assert.equal(inverse(lastFrame()!.split('\n').filter((l) => /\b000[08] /.test(l)).join('\n')), '00 00 00 06');
    unmount();
  } finally {
    chalk.level = level;
  }
});

function storeWithFindings(): RecordStore {
  const store = new RecordStore();
  const A = '10.0.0.1:49396';
  const B = '10.0.0.2:6881';
  const base = { conn: 1, transport: 'tcp' as const };
  const records = [
    { ...base, ts: 200, src: A, dst: B, msg: 'handshake', size: 68 },
    { ...base, ts: 200.1, src: A, dst: B, msg: 'request', size: 17, piece: 3, begin: 0, length: 32768 },
    { ...base, ts: 200.1, src: A, dst: B, event: 'finding', finding: 'block-too-large', severity: 'error', piece: 3, message: 'request for 32768 bytes' },
    { ...base, ts: 200.2, src: B, dst: A, msg: 'have', size: 9, piece: 1 },
    { ...base, ts: 200.3, src: B, dst: A, msg: 'have', size: 9, piece: 2 },
    // deferred: points back at the request of 200.1
    { ...base, ts: 200.1, src: A, dst: B, event: 'finding', finding: 'request-unanswered', severity: 'info', piece: 3, message: '1 request(s) got no piece' },
  ] as const;
  for (const r of records) store.add(r as never);
  store.finish();
  return store;
}

test('findings: f/F jump between finding rows, the message an error points at is marked, ! lists them and Enter goes to the message', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={storeWithFindings()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  const requestRow = lastFrame()!.split('\n').find((l) => /request\s+piece=3/.test(l))!;
  assert.match(requestRow, /^ !/, `the request an error points at is marked: ${requestRow}`);
  assert.match(lastFrame()!, /1 err 0 warn 1 info/);
  await press(stdin, 'f');
  assert.match(selectedRow(lastFrame()!)!, /FINDING.*block-too-large/);
  await press(stdin, 'f');
  assert.match(selectedRow(lastFrame()!)!, /FINDING.*request-unanswered/);
  await press(stdin, 'f');
  assert.match(selectedRow(lastFrame()!)!, /FINDING.*block-too-large/);
  assert.match(lastFrame()!, /wrapped to the first finding/);
  await press(stdin, 'F');
  assert.match(selectedRow(lastFrame()!)!, /FINDING.*request-unanswered/);
  await press(stdin, 'g');
  await press(stdin, '!');
  let frame = lastFrame()!;
  assert.match(frame, /Findings: 1 errors, 0 warnings, 1 info/);
  assert.match(frame, /▶ error\s+block-too-large\s+#1\s+request for 32768 bytes/);
  assert.match(frame, /info\s+request-unanswered\s+#1\s+1 request\(s\) got no piece/);
  await press(stdin, 'j');
  await press(stdin, '\r');
  frame = lastFrame()!;
  assert.match(selectedRow(frame)!, /request\s+piece=3/, 'Enter on the deferred finding selects the request it points at');
  assert.doesNotMatch(frame, /Findings:/);
  unmount();
});

test('keys arriving as one chunk (tmux send-keys, paste) are each handled: "!j\\r" and "cj\\r"', async () => {
  const { lastFrame, stdin, unmount } = render(<App store={storeWithFindings()} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, '!j\r');
  assert.match(selectedRow(lastFrame()!)!, /request\s+piece=3/);
  await press(stdin, 'g');
  await press(stdin, 'cj\r');
  assert.match(lastFrame()!, /│ conn #1 │/);
  unmount();
});

test('the hex pane reads a long message back from the capture file: a whole piece, scrolled to its end', async () => {
  const { decodeCapture } = await import('../../src/inspect.js');
  const { openFileBytes } = await import('../../src/capture/file-bytes.js');
  const { compileFilter } = await import('../../src/model/filter.js');
  const path = new URL('../../samples/wt-sample.pcap', import.meta.url).pathname;
  const store = new RecordStore();
  const file = openFileBytes(path);
  store.setByteSource(file.source, file.why);
  await decodeCapture(path, store.add, { locate: true });
  store.finish();
  const onlyPieces = compileFilter('piece and conn == 1');
  assert.ok(onlyPieces.ok);
  store.setFilter(onlyPieces.test);
  const whole = store.bytes(store.view[0]!)!;
  assert.equal(whole.note, undefined);
  assert.ok(whole.total > 256 && whole.bytes.length === whole.total, `piece of ${whole.total} bytes read back whole`);
  const { lastFrame, stdin, unmount } = render(<App store={store} title="t" size={size} theme={noColor} refreshMs={0} />);
  try {
    await tick();
    assert.match(lastFrame()!, new RegExp(`Bytes \\(${whole.total} bytes, lines 1-`));
    // Tab, Tab (to the bytes pane) and G in one chunk, as a fast typist's keys arrive.
    await press(stdin, '\t\tG');
    // 8 bytes a line in a pane this wide: the last line holds the piece's last bytes.
    const lastLine = Math.floor((whole.total - 1) / 8) * 8;
    const hex = Array.from(whole.bytes.subarray(lastLine), (b) => b.toString(16).padStart(2, '0'));
    const line = lastFrame()!.split('\n').find((l) => l.includes(` ${lastLine.toString(16).padStart(4, '0')} `));
    assert.ok(line !== undefined, 'the last line of the piece is on screen');
    assert.match(line, new RegExp(hex.slice(0, 4).join(' ')));
    await press(stdin, 'g');
    assert.match(lastFrame()!, / 0000 00 00 /);
  } finally {
    unmount();
    file.close();
  }
});

test('n with no lt_donthave in view but unresolved ids that probably are: the status line says how to see them', async () => {
  const store = new RecordStore();
  const base = { conn: 1, transport: 'tcp' as const, src: '10.0.0.1:40000', dst: '10.0.0.2:6881' };
  store.add({ ...base, ts: 1, msg: 'have', size: 9, piece: 1 });
  store.add({ ...base, ts: 2, msg: 'extended', size: 10, ext: null, extId: 3, piece: 1, probably: 'lt_donthave', probablyWhy: 'test' });
  store.finish();
  const { lastFrame, stdin, unmount } = render(<App store={store} title="t" size={size} theme={noColor} refreshMs={0} />);
  await tick();
  await press(stdin, 'j');
  assert.match(selectedRow(lastFrame()!)!, /\?.*ext#3\s+piece=1\s+unresolved id 3,/);
  assert.match(lastFrame()!, /probably: lt_donthave/);
  await press(stdin, 'n');
  assert.match(lastFrame()!, /no lt_donthave in view \(1 probable: \/probably == lt_donthave\)/);
  await press(stdin, '/probably == lt_donthave\r');
  assert.match(lastFrame()!, /│ 1\/2 │ filter: probably == lt_donthave │/);
  unmount();
});
