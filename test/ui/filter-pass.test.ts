// Progressive filtering in the UI, without ink: the filter key applies the first slice of the pass at
// once and the runner (view-pass-runner.ts) the rest a turn at a time; keys work on the matches so
// far; the selection waits for its record and then lands where a whole pass puts it; Esc or a new
// filter drops the pass. Over 200,000 synthetic records (several slices).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from '../../src/model/filter.js';
import type { RecordStore } from '../../src/model/store.js';
import { typed } from '../../src/ui/keys.js';
import { initialState, type UiState } from '../../src/ui/ui-state.js';
import { selection, settle } from '../../src/ui/ui-selection.js';
import { step, storeContext } from '../../src/ui/ui-controller.js';
import { PASS_CHUNK_ROWS, viewPassRunner } from '../../src/ui/view-pass-runner.js';
import { repaintAtOnce } from '../../src/ui/use-view-pass.js';
import { syntheticStore } from './fixtures.js';

const N = 200_000;
const TURN_ROWS = 10_000;
const EXPR = 'piece < 10 and conn == 2';

/** A UI over a synthetic store whose pass turns are run by hand (`turn()`), one chunk of TURN_ROWS each. */
function ui(start: Partial<UiState> = {}) {
  const store = syntheticStore(N);
  const ctx = storeContext(store, 110, 30);
  let state: UiState = { ...initialState(), ...start };
  const queued: (() => void)[] = [];
  let turns = 0;
  const runner = viewPassRunner(store, {
    chunkRows: TURN_ROWS,
    turnMs: 0,
    schedule: (run) => void queued.push(run),
    onTurn: () => {
      turns++;
      state = settle(state, ctx);
    },
  });
  return {
    store,
    send: (keys: string) => {
      for (const key of typed(keys)) state = step(state, { type: 'key', key }, ctx, store);
      // As App does after the repaint.
      runner.kick();
    },
    /** Runs the next scheduled turn; false when none is scheduled. */
    turn: () => {
      const run = queued.shift();
      run?.();
      return run !== undefined;
    },
    turns: () => turns,
    selected: () => selection(state, ctx).record,
    stop: () => runner.stop(),
    get state() {
      return state;
    },
  };
}

/** The view and selected record a whole pass gives, from record `from` selected. */
function wholePass(expr: string, from: number): { view: number[]; record: number } {
  const store: RecordStore = syntheticStore(N);
  const f = compileFilter(expr);
  if (!f.ok) assert.fail(f.error);
  store.setFilter(f.test);
  const pos = Math.min(store.viewPositionAtOrAfter(from), store.view.length - 1);
  return { view: [...store.view], record: store.view[pos]! };
}

test('the filter key: first matches at once, the selection waits for its record and lands where a whole pass puts it', () => {
  const from = 150_123;
  const u = ui({ cursor: { pos: from, top: from - 5, follow: false } });
  assert.equal(u.selected(), from);
  u.send(`/${EXPR}\r`);
  // The key's own slice: the matches among the first PASS_CHUNK_ROWS rows, shown from the top.
  assert.deepEqual(u.store.viewProgress, { scanned: PASS_CHUNK_ROWS, total: N });
  assert.ok(u.store.view.length > 0 && u.store.view.every((i) => i < PASS_CHUNK_ROWS));
  assert.equal(u.state.cursor.pos, 0);
  assert.deepEqual(u.state.reselect, { record: from });
  while (u.turn()) if (u.store.viewProgress !== undefined) assert.ok(u.state.reselect !== undefined || u.store.view.at(-1)! >= from);
  assert.equal(u.turns(), Math.ceil((N - PASS_CHUNK_ROWS) / TURN_ROWS));
  const whole = wholePass(EXPR, from);
  assert.deepEqual(u.store.view, whole.view);
  assert.equal(u.selected(), whole.record);
  assert.equal(u.state.reselect, undefined);
  u.stop();
});

test('keys during the pass move over the matches so far; G follows the view as it grows', () => {
  const u = ui();
  u.send(`/${EXPR}\r`);
  u.turn();
  const sofar = u.store.view.length;
  u.send('jj');
  assert.equal(u.selected(), u.store.view[2]);
  // A move is the user's choice: the selection no longer waits for the record it had.
  assert.equal(u.state.reselect, undefined);
  u.send('G');
  assert.equal(u.selected(), u.store.view[sofar - 1]);
  while (u.turn());
  assert.ok(u.store.view.length > sofar);
  assert.equal(u.selected(), u.store.view.at(-1));
  assert.deepEqual(u.store.view, wholePass(EXPR, 0).view);
  u.stop();
});

test('Esc during the pass cancels the filter: every record at once, no pass left', () => {
  const u = ui();
  u.send(`/${EXPR}\r`);
  u.turn();
  u.send('\x1b');
  assert.equal(u.state.filter, undefined);
  assert.match(u.state.message ?? '', /filter cancelled/);
  assert.equal(u.store.viewProgress, undefined);
  assert.equal(u.store.view.length, N);
  assert.equal(u.turn(), true);
  assert.equal(u.turn(), false, 'no turn after the one already scheduled');
  assert.equal(u.store.view.length, N);
  // Esc with no pass running is the pane's own key again (in the timeline: nothing).
  const before = u.state;
  u.send('\x1b');
  assert.equal(u.state, before);
  u.stop();
});

test('a new filter during the pass replaces it: the view is the new filter\'s alone', () => {
  const u = ui();
  u.send(`/${EXPR}\r`);
  u.turn();
  u.turn();
  u.send('/\x15piece == 7 and conn == 8\r');
  while (u.turn());
  assert.deepEqual(u.store.view, wholePass('piece == 7 and conn == 8', 0).view);
  u.stop();
});

test('a turn repaints at once for the first screenful and for the full result, else at the throttled repaint', () => {
  // Growing below a screenful of 20 rows, or reaching it: at once.
  assert.equal(repaintAtOnce(0, 5, 20, false), true);
  assert.equal(repaintAtOnce(15, 40, 20, false), true);
  // Nothing new while short, or already a screenful: throttled.
  assert.equal(repaintAtOnce(5, 5, 20, false), false);
  assert.equal(repaintAtOnce(20, 400, 20, false), false);
  // The pass has ended: at once, whatever the rows.
  assert.equal(repaintAtOnce(400, 400, 20, true), true);
});
