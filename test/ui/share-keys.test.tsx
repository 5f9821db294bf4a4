// w and W in the terminal UI: which connections they take (the picked one, the filtered view's, the
// selected row's), what they write (a capture that decodes to the original's records for those
// connections, the HTML report of them), and the status line naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { decodeCapture } from '../../src/inspect.js';
import { FlowLog } from '../../src/capture/packet-export.js';
import { RecordStore } from '../../src/model/store.js';
import { compileFilter } from '../../src/model/filter.js';
import type { AnyRecord } from '../../src/model/record.js';
import { typed } from '../../src/ui/keys.js';
import { initialState, type ShareRequest, type UiState } from '../../src/ui/ui-state.js';
import { step, storeContext } from '../../src/ui/ui-controller.js';
import { uiShare } from '../../src/cli/share-command.js';
import { App } from '../../src/ui/App.js';
import { recordsOf } from './fixtures.js';

const SAMPLE = 'samples/wt-swarm.pcap';

async function loaded(): Promise<{ store: RecordStore; flows: FlowLog }> {
  const store = new RecordStore();
  const flows = new FlowLog();
  await decodeCapture(SAMPLE, store.add, { observer: flows });
  store.finish();
  return { store, flows };
}

function press(store: RecordStore, keys: string, start: Partial<UiState> = {}): UiState {
  const ctx = storeContext(store, 110, 30);
  let s: UiState = { ...initialState(), ...start };
  for (const key of typed(keys)) s = step(s, { type: 'key', key }, ctx, store);
  return s;
}

test('w takes the picked connection, else the filtered view, else the selected row', async () => {
  const { store } = await loaded();
  assert.deepEqual(press(store, 'w', { conn: 2 }).share, { kind: 'export', conns: [2], what: 'connection #2' });
  const expr = 'lt_donthave and conn != 1';
  const compiled = compileFilter(expr);
  assert.ok(compiled.ok);
  store.setFilter(compiled.test);
  const filtered = press(store, 'W', { filter: expr });
  store.setFilter(undefined);
  assert.equal(filtered.share?.kind, 'report');
  assert.deepEqual(filtered.share?.conns, [2, 3]);
  assert.deepEqual(press(store, 'w').share?.conns, [1]);
  assert.match(press(store, 'w').message ?? '', /writing a capture of connection #1/);
});

test('what w and W write: the connection as a capture that decodes to its records, and its report', async () => {
  const { store, flows } = await loaded();
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-ui-share-'));
  const cwd = process.cwd();
  const sample = join(cwd, SAMPLE);
  try {
    process.chdir(dir);
    const share = uiShare({ path: sample, label: SAMPLE, store, flows, argv: [SAMPLE] });
    const request: ShareRequest = { kind: 'export', conns: [2], what: 'connection #2' };
    assert.match(await share(request), /^wrote wt-swarm-conn2\.pcap: \d+ packets of connection #2$/);
    assert.match(await share(request), /^wrote wt-swarm-conn2-2\.pcap/, 'an existing file is not overwritten');
    const exported: AnyRecord[] = [];
    await decodeCapture(join(dir, 'wt-swarm-conn2.pcap'), (r) => void exported.push(r));
    const strip = (rs: AnyRecord[], conn: number): string[] => rs.filter((r) => 'conn' in r && r.conn === conn).map((r) => JSON.stringify({ ...r, conn: 0, frame: undefined, firstFrame: undefined }));
    const original = recordsOf(store).filter((r) => !('event' in r && r.event === 'summary'));
    assert.deepEqual(strip(exported, 1), strip(original, 2));
    assert.match(await share({ kind: 'report', conns: [2, 3], what: 'two' }), /^wrote wt-swarm-2conns-report\.html: the report of two$/);
    const html = readFileSync('wt-swarm-2conns-report.html', 'utf8');
    assert.match(html, /Connection #2 /);
    assert.match(html, /Connection #3 /);
    assert.doesNotMatch(html, /Connection #1 /);
    assert.ok(html.includes(`ltdh-inspect ${SAMPLE} (W in the terminal UI: two)`), 'the command line, from the program\'s arguments');
    const stdin = uiShare({ path: undefined, label: 'stdin', store, flows: undefined, argv: ['-'] });
    assert.match(await stdin(request), /capture file only/);
    assert.deepEqual(readdirSync('.').sort(), ['wt-swarm-2conns-report.html', 'wt-swarm-conn2-2.pcap', 'wt-swarm-conn2.pcap']);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the App hands w to the program and shows the file it wrote in the status line', async () => {
  const { store } = await loaded();
  const asked: ShareRequest[] = [];
  const share = async (r: ShareRequest): Promise<string> => {
    asked.push(r);
    return 'wrote here.pcap: 12 packets of connection #1';
  };
  const { stdin, lastFrame, unmount } = render(<App store={store} title="t" size={{ width: 110, height: 30 }} theme={{ color: false }} refreshMs={0} share={share} />);
  await new Promise((r) => setTimeout(r, 50));
  stdin.write('w');
  for (let i = 0; i < 200 && !(lastFrame() ?? '').includes('wrote here.pcap'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(lastFrame() ?? '', /wrote here\.pcap/);
  assert.deepEqual(asked.map((r) => r.conns), [[1]]);
  unmount();
});
