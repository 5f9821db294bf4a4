import { useEffect, useState } from 'react';
import type { RecordStore } from '../model/store.js';

/** Re-renders when the store changes, at most every `intervalMs` so a fast feed cannot starve input. */
export function useStoreVersion(store: RecordStore, intervalMs = 100): number {
  const [version, setVersion] = useState(store.version);
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    const unsubscribe = store.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion(store.version);
      }, intervalMs);
    });
    return () => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [store, intervalMs]);
  return version;
}
