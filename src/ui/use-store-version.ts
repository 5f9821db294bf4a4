import { useEffect, useState } from 'react';
import type { RecordStore } from '../model/store.js';

/**
 * Re-renders when the store changes, at most every `intervalMs` so a fast feed cannot starve input.
 * The first change after a quiet spell renders at once (the first screen of a capture must not wait a
 * whole interval); changes within the interval are folded into one render at its end.
 */
export function useStoreVersion(store: RecordStore, intervalMs = 100): number {
  const [version, setVersion] = useState(store.version);
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    let last = -Infinity;
    const update = (): void => {
      timer = undefined;
      last = performance.now();
      setVersion(store.version);
    };
    const unsubscribe = store.subscribe(() => {
      if (timer !== undefined) return;
      const wait = Math.max(0, last + intervalMs - performance.now());
      timer = setTimeout(update, wait);
    });
    return () => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [store, intervalMs]);
  return version;
}
