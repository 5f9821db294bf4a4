// The terminal UI's record store over a whole capture, in-process: heap and array buffers retained
// per record after a forced GC (what the store costs while the UI shows it) and the peak RSS.
//   node --expose-gc --import tsx bench/ui-store.ts CAPTURE      (prints one JSON line)
// bench/run.ts runs it on the million-message capture (bench/million-messages.ts) for `--only store`.
import { readFileSync } from 'node:fs';
import { decodeCapture } from '../src/inspect.js';
import { RecordStore } from '../src/model/store.js';

/** Heap used plus array buffers (the store's typed columns and arenas) after a full collection. */
function retained(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: bench/ui-store.ts CAPTURE');
const before = retained();
const store = new RecordStore();
const t0 = performance.now();
await decodeCapture(file, store.add, { locate: true });
store.finish();
const secs = (performance.now() - t0) / 1000;
const after = retained();
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const result = {
  records: store.size,
  secs: Math.round(secs * 100) / 100,
  retainedMB: Math.round((after - before) / 1048576),
  bytesPerRecord: Math.round((after - before) / store.size),
  peakRssMB: hwm ? Math.round(Number(hwm[1]) / 1024) : null,
};
// Keeps the store alive until measured.
if (store.size < 0) console.log(store.view.length);
console.log(JSON.stringify(result));
