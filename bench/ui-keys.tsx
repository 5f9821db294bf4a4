// The terminal UI over 1,000,000 records (`npm run bench -- --only keys`, `--records N` for another count): how long the store takes to
// filter, search and replay the piece map, and how long a key takes from the keypress to the repaint
// in ink. The filter key runs its pass a turn at a time (progressive filtering): it is timed to the
// first repaint that shows matches, to the repaint of the full result, and by the longest the event
// loop was held meanwhile (keys wait at most that). These were wall-clock assertions in the tests; the tests now check what is re-rendered and
// the bench keeps the times, with the targets they had.
import { render } from 'ink-testing-library';
import { App } from '../src/ui/App.js';
import { compileFilter } from '../src/model/filter.js';
import type { RecordStore } from '../src/model/store.js';
import { syntheticStore } from '../test/ui/fixtures.js';

export const KEY_TARGET_MS = 100;
export const FILTER_TARGET_MS = 400;
export const PIECE_MAP_TARGET_MS = 20;
/** The filter key's pass holds the event loop at most about this long at a time. */
export const STALL_TARGET_MS = 100;
const UI_FILTER = 'piece < 10 and conn == 2';

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
  // The filter key's full result, for the bench to know when the repaint shows it.
  const ui = compileFilter(UI_FILTER);
  if (!ui.ok) throw new Error(ui.error);
  store.setFilter(ui.test);
  const uiFilterMatches = store.view.length;
  store.setFilter(undefined);
  const keys = await keypressToRepaint(store, uiFilterMatches);
  const result = {
    records,
    store: { buildMs: round(buildMs, 0), filterMs: round(filterMs, 1), searchMs: round(searchMs, 3), firstPieceMapMs: round(firstPieceMapMs, 1), pieceMapMs: round(pieceMapMs, 2) },
    keypressToRepaintMs: keys,
  };
  return result;
}

/** Each key's time from the write to ink's stdin to the frame that shows its effect, on `store` unfiltered. */
async function keypressToRepaint(store: RecordStore, uiFilterMatches: number): Promise<Record<string, number>> {
  const n = store.size;
  // syntheticStore: every 1000th record is an lt_donthave of piece index % 4096.
  const lastDonthave = n - 1 - ((n - 1 - 999) % 1000);
  // The store's own repaints (a filter pass's progress) as in the terminal UI: at most every 100 ms
  // (useStoreVersion's default); a key repaints at once whatever this is.
  const { lastFrame, stdin, unmount } = render(<App store={store} title="big" size={{ width: 120, height: 40 }} theme={{ color: false }} />);
  await new Promise((r) => setTimeout(r, 100));
  const timings: Record<string, number> = {};
  /** Times from the keypress to each repaint matching `expect[k]` in turn (names[k]); the longest gap between polls goes to `stallName`. */
  async function measure(names: string | string[], keys: string, expects: RegExp | RegExp[], stallName?: string): Promise<void> {
    const want = Array.isArray(expects) ? expects : [expects];
    const named = Array.isArray(names) ? names : [names];
    const before = lastFrame();
    const t0 = performance.now();
    let last = t0;
    let stall = 0;
    stdin.write(keys);
    for (let k = 0; k < want.length; k++) {
      while (lastFrame() === before || !want[k]!.test(lastFrame()!)) {
        if (performance.now() - t0 > 10_000) throw new Error(`${named[k]}: no repaint matching ${want[k]}`);
        await new Promise((r) => setImmediate(r));
        const now = performance.now();
        stall = Math.max(stall, now - last);
        last = now;
      }
      timings[named[k]!] = round(performance.now() - t0, 1);
    }
    if (stallName !== undefined) timings[stallName] = round(stall, 1);
  }
  try {
    await measure('j', 'j', /^▶.*\+0\.001000/m);
    await measure('G', 'G', new RegExp(`^▶.*lt_donthave\\s+piece=${lastDonthave % 4096}\\b`, 'm'));
    await measure('g', 'g', /^▶.*\+0\.000000/m);
    await measure('n', 'n', /^▶.*lt_donthave\s+piece=999/m);
    await measure('PgDn', '\x1b[6~', /^▶.*\+1\.020000/m);
    const status = `/${n} │ filter: ${UI_FILTER.replace(/[()]/g, '\\$&')}`;
    await measure(
      ['filter', 'filterFull'],
      `/${UI_FILTER}\r`,
      // The first repaint with matches (a selected row and a count above 0), then the full result.
      [new RegExp(`^▶[^\\n]*\\n[^]*[1-9]\\d*${status}`, 'm'), new RegExp(`(?<!\\d)${uiFilterMatches}${status}(?![^\\n]*filtering)`)],
      'filterStall',
    );
    await measure('clear', '/\x15\r', new RegExp(`${n}/${n} │ no filter`));
  } finally {
    unmount();
  }
  return timings;
}

export function keysReport(k: Record<string, unknown>): string[] {
  const s = k['store'] as Record<string, number>;
  const keys = k['keypressToRepaintMs'] as Record<string, number>;
  const { filterFull, filterStall, ...others } = keys;
  const worst = Math.max(...Object.values(others));
  const n = `${(k['records'] as number) / 1e6}M`;
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  return [
    `${n} records: store built in ${s['buildMs']} ms; filter ${s['filterMs']} ms (target < ${FILTER_TARGET_MS}: ${met(s['filterMs']! < FILTER_TARGET_MS)}), n search ${s['searchMs']} ms, first piece map ${s['firstPieceMapMs']} ms, later piece maps ${s['pieceMapMs']} ms (target < ${PIECE_MAP_TARGET_MS}: ${met(s['pieceMapMs']! < PIECE_MAP_TARGET_MS)})`,
    `${n} records, keypress to repaint: ${Object.entries(others).map(([n, v]) => `${n} ${v} ms`).join(', ')} (target < ${KEY_TARGET_MS} each, the filter to its first repaint with matches: ${met(worst < KEY_TARGET_MS)})`,
    ...(filterFull !== undefined
      ? [`${n} records, filter key to the full result ${filterFull} ms (a whole pass: target < ${FILTER_TARGET_MS}: ${met(filterFull < FILTER_TARGET_MS)}); longest event-loop stall meanwhile ${filterStall} ms (target < ${STALL_TARGET_MS}: ${met((filterStall ?? Infinity) < STALL_TARGET_MS)})`]
      : []),
  ];
}
