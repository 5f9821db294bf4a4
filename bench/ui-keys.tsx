// The terminal UI over 1,000,000 records (`npm run bench -- --only keys`, `--records N` for another count): how long the store takes to
// filter, search and replay the piece map, and how long a key takes from the keypress to the repaint
// in ink. These were wall-clock assertions in the tests; the tests now check what is re-rendered and
// the bench keeps the times, with the targets they had.
import { render } from 'ink-testing-library';
import { App } from '../src/ui/App.js';
import { compileFilter } from '../src/model/filter.js';
import type { RecordStore } from '../src/model/store.js';
import { syntheticStore } from '../test/ui/fixtures.js';

export const KEY_TARGET_MS = 100;
export const FILTER_TARGET_MS = 400;
export const PIECE_MAP_TARGET_MS = 20;

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

export async function keysBench(records = 1_000_000): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const store = syntheticStore(records);
  const buildMs = performance.now() - t0;
  const f = compileFilter('piece < 100 and conn == 3');
  if (!f.ok) throw new Error(f.error);
  const t1 = performance.now();
  store.setFilter(f.test);
  const filterMs = performance.now() - t1;
  const t2 = performance.now();
  let pos = 0;
  for (let k = 0; k < 100; k++) pos = store.findDonthave(pos, 1);
  const searchMs = (performance.now() - t2) / 100;
  store.setFilter(undefined);
  const t3 = performance.now();
  store.pieceMap(3, records - 1);
  const firstPieceMapMs = performance.now() - t3;
  const t4 = performance.now();
  for (let k = 0; k < 100; k++) store.pieceMap(3, (records >> 1) + k * 997);
  const pieceMapMs = (performance.now() - t4) / 100;
  const keys = await keypressToRepaint(store);
  const result = {
    records,
    store: { buildMs: round(buildMs, 0), filterMs: round(filterMs, 1), searchMs: round(searchMs, 3), firstPieceMapMs: round(firstPieceMapMs, 1), pieceMapMs: round(pieceMapMs, 2) },
    keypressToRepaintMs: keys,
  };
  return result;
}

/** Each key's time from the write to ink's stdin to the frame that shows its effect, on `store` unfiltered. */
async function keypressToRepaint(store: RecordStore): Promise<Record<string, number>> {
  const n = store.size;
  // syntheticStore: every 1000th record is an lt_donthave of piece index % 4096.
  const lastDonthave = n - 1 - ((n - 1 - 999) % 1000);
  const { lastFrame, stdin, unmount } = render(<App store={store} title="big" size={{ width: 120, height: 40 }} theme={{ color: false }} refreshMs={0} />);
  await new Promise((r) => setTimeout(r, 100));
  const timings: Record<string, number> = {};
  async function measure(name: string, keys: string, expect: RegExp): Promise<void> {
    const before = lastFrame();
    const t0 = performance.now();
    stdin.write(keys);
    while (lastFrame() === before || !expect.test(lastFrame()!)) {
      if (performance.now() - t0 > 5000) throw new Error(`${name}: no repaint matching ${expect}`);
      await new Promise((r) => setImmediate(r));
    }
    timings[name] = round(performance.now() - t0, 1);
  }
  try {
    await measure('j', 'j', /^▶.*\+0\.001000/m);
    await measure('G', 'G', new RegExp(`^▶.*lt_donthave\\s+piece=${lastDonthave % 4096}\\b`, 'm'));
    await measure('g', 'g', /^▶.*\+0\.000000/m);
    await measure('n', 'n', /^▶.*lt_donthave\s+piece=999/m);
    await measure('PgDn', '\x1b[6~', /^▶.*\+1\.020000/m);
    await measure('filter', '/piece < 10 and conn == 2\r', new RegExp(`\\d+/${n} │ filter: piece < 10 and conn == 2`));
    await measure('clear', '/\x15\r', new RegExp(`${n}/${n} │ no filter`));
  } finally {
    unmount();
  }
  return timings;
}

export function keysReport(k: Record<string, unknown>): string[] {
  const s = k['store'] as Record<string, number>;
  const keys = k['keypressToRepaintMs'] as Record<string, number>;
  const worst = Math.max(...Object.values(keys));
  const n = `${(k['records'] as number) / 1e6}M`;
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  return [
    `${n} records: store built in ${s['buildMs']} ms; filter ${s['filterMs']} ms (target < ${FILTER_TARGET_MS}: ${met(s['filterMs']! < FILTER_TARGET_MS)}), n search ${s['searchMs']} ms, first piece map ${s['firstPieceMapMs']} ms, later piece maps ${s['pieceMapMs']} ms (target < ${PIECE_MAP_TARGET_MS}: ${met(s['pieceMapMs']! < PIECE_MAP_TARGET_MS)})`,
    `${n} records, keypress to repaint: ${Object.entries(keys).map(([n, v]) => `${n} ${v} ms`).join(', ')} (target < ${KEY_TARGET_MS} each: ${met(worst < KEY_TARGET_MS)})`,
  ];
}
