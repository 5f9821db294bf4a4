// The terminal UI's record store over a whole capture. In-process: heap and array buffers retained
// per record after a forced GC (what the store costs while the UI shows it) and the peak RSS.
//   node --expose-gc --import tsx bench/ui-store.ts CAPTURE      (prints one JSON line)
// For `npm run bench -- --only store` (storeBench): that on the million-message capture
// (bench/million-messages.ts), and the real UI (dist/cli/main.js in a 160x45 tmux pane) reading the
// 1M and 10M captures to "done", End pressed: its peak RSS (first-screen.ts indexMemory).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCapture } from '../src/inspect.js';
import { RecordStore } from '../src/model/store.js';
import { indexMemory } from './first-screen.js';
import { syntheticCaptureFile } from './million-messages.js';

export const BYTES_PER_RECORD_TARGET = 150;
/** Peak RSS targets of the UI, MB: a million messages, ten million. */
export const PEAK_TARGETS_MB: Record<string, number> = { '1M': 300, '10M': 2048 };

/** Heap used plus array buffers (the store's typed columns and arenas) after a full collection. */
function retained(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Decodes `file` into a RecordStore in-process; retained bytes per record and the peak RSS. */
async function measureInProcess(file: string): Promise<Record<string, number | null>> {
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
  return result;
}

/** The in-process store on 1M messages, then the real UI's peak after End on 1M and 10M. */
export async function storeBench(): Promise<Record<string, unknown>> {
  const million = await syntheticCaptureFile(1_000_000);
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, million], { encoding: 'utf8' });
  const inProcess = child.status === 0 ? (JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, number>) : null;
  if (inProcess === null) process.stderr.write(`bench: ui-store.ts failed: ${child.stderr}\n`);
  else process.stderr.write(`  in-process store: ${inProcess['bytesPerRecord']} B/record over ${inProcess['records']} records\n`);
  const ui: Record<string, Record<string, number | null> | null> = {};
  for (const [label, n] of [['1M', 1_000_000], ['10M', 10_000_000]] as const) ui[label] = indexMemory(await syntheticCaptureFile(n), { end: true, timeoutSecs: 900 });
  return { inProcess, ui };
}

/** One line: the store's figures beside the targets. */
export function storeReport(r: Record<string, unknown>): string[] {
  const inProcess = r['inProcess'] as Record<string, number> | null;
  const ui = r['ui'] as Record<string, Record<string, number> | null>;
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  const perRecord = inProcess === null ? 'n/a' : `${inProcess['bytesPerRecord']} B/record (target ${BYTES_PER_RECORD_TARGET}: ${met(inProcess['bytesPerRecord']! <= BYTES_PER_RECORD_TARGET)})`;
  const peaks = Object.entries(PEAK_TARGETS_MB).map(([label, target]) => {
    const u = ui[label];
    const peak = u?.['peakAfterEndMB'] ?? u?.['peakRssMB'];
    return peak === undefined ? `${label} peak n/a` : `${label} peak ${peak} MB after End, ${u!['records']} records (target ${target}: ${met(peak <= target)})`;
  });
  return [`UI store: ${perRecord}; the UI in tmux: ${peaks.join(', ')}`];
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: bench/ui-store.ts CAPTURE');
  console.log(JSON.stringify(await measureInProcess(file)));
}
