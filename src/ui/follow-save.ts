// w in the follow view: the connection's bytes, both directions in capture order, to a file in the
// current directory (the edge where the UI writes; the bytes come from follow.ts).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RecordStore } from '../model/store.js';
import { connectionBytes } from './follow.js';

/** Writes ltdh-conn-N.raw; the status-line note says where, how much, and what was not kept. */
export function saveFollowed(store: RecordStore, messages: readonly number[], conn: number): string {
  const { bytes, missing } = connectionBytes(store, messages);
  const path = resolve(`ltdh-conn-${conn}.raw`);
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    return `could not write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  // Short first: on 80 columns the status line shows about 20 characters of it.
  return `saved ${bytes.length} B to ${path}${missing > 0 ? ` (${missing} B not kept)` : ''}`;
}
