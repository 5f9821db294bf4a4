import { useEffect, useRef } from 'react';
import type { RecordStore } from '../model/store.js';
import { viewPassRunner, type ViewPassRunner } from './view-pass-runner.js';

/**
 * Runs the store's filter pass a turn at a time while the UI is mounted, `onTurn` after each turn. A
 * pass is begun by a key: its first turn is scheduled after the repaint that key causes (an effect
 * runs once the frame is committed), so that the first matches are on screen before it.
 */
export function useViewPass(store: RecordStore, onTurn: () => void): void {
  const latest = useRef(onTurn);
  latest.current = onTurn;
  const runner = useRef<ViewPassRunner | undefined>(undefined);
  useEffect(() => {
    runner.current = viewPassRunner(store, { onTurn: () => latest.current() });
    return () => runner.current?.stop();
  }, [store]);
  // After every render: a pass begun since is started (a no-op when none is running or one is scheduled).
  useEffect(() => runner.current?.kick());
}

/**
 * Whether a turn of the pass is painted at once rather than at the next throttled repaint: the pass
 * has ended (the full result), or the view grew while it was shorter than a screenful of `screenRows`
 * (the first screenful as soon as it exists).
 */
export function repaintAtOnce(before: number, after: number, screenRows: number, done: boolean): boolean {
  return done || (before < screenRows && after > before);
}
