// Runs the store's filter pass (model/view-pass.ts) in the background, a turn of the event loop at a
// time: each turn scans rows for at most TURN_MS and then yields with setImmediate, so that keys,
// renders and a capture still being read are served between turns (Wireshark's progressive
// filtering). A new filter or a clear replaces the store's pass; the runner simply runs whatever pass
// the store has, and stops when none is left. The UI kicks it after each repaint (use-view-pass.ts),
// so that the repaint after the filter key, with the matches of its first slice, comes before the
// first turn. Nothing here imports ink or React.
import type { RecordStore } from '../model/store.js';

/** Rows scanned between two looks at the clock (about 1 ms of a simple filter over the columns). */
export const PASS_CHUNK_ROWS = 32_768;
/**
 * The longest a turn of the pass keeps the event loop (keys wait at most this, plus a repaint). Short
 * turns cost little: the pass's repaints are throttled apart (useStoreVersion, at most every 100 ms).
 */
export const TURN_MS = 16;

export interface ViewPassRunner {
  /** Schedules a turn if the store has a pass running and none is scheduled. */
  kick(): void;
  /** Stops: no more turns. */
  stop(): void;
}

export interface RunnerOptions {
  /** After every turn (the view has grown, or the pass has ended). */
  onTurn?: () => void;
  chunkRows?: number;
  turnMs?: number;
  /** setImmediate (tests may step turns by hand). */
  schedule?: (run: () => void) => void;
  now?: () => number;
}

export function viewPassRunner(store: Pick<RecordStore, 'viewProgress' | 'continueView'>, options: RunnerOptions = {}): ViewPassRunner {
  const { onTurn, chunkRows = PASS_CHUNK_ROWS, turnMs = TURN_MS, schedule = (run) => void setImmediate(run), now = () => performance.now() } = options;
  let scheduled = false;
  let stopped = false;
  const turn = (): void => {
    if (stopped) return;
    const start = now();
    let done = false;
    do done = store.continueView(chunkRows);
    while (!done && now() - start < turnMs);
    // Cleared only now: the store's notices during the turn schedule nothing.
    scheduled = false;
    onTurn?.();
    if (!done) kick();
  };
  const kick = (): void => {
    if (scheduled || stopped || store.viewProgress === undefined) return;
    scheduled = true;
    schedule(turn);
  };
  return {
    kick,
    stop: () => void (stopped = true),
  };
}
