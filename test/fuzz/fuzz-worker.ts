// Runs the fuzz mutants through the library API in a worker thread, so that the test can stop a
// mutant that hangs (a busy loop in the test's own thread would hang the whole run). Reports each
// mutant's start and end, every broken invariant, and the heap as it goes.
import { parentPort, workerData } from 'node:worker_threads';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { CaptureError, decodeCapture, inspect } from '../../src/inspect.js';
import { RAW_KEEP, RecordStore } from '../../src/model/store.js';
import type { AnyRecord } from '../../src/model/record.js';
import { SAMPLE_NAMES, loadSample, makeMutant, planMutants, randomChunks, type Mutant } from './capture-mutants.js';

export interface FuzzJob {
  seed: number;
  scale: number;
  /** Where mutants fed as files are written (the test removes it, also after stopping the worker). */
  dir: string;
  /** Run only this mutant (to reproduce a failure). */
  only?: number;
}

export type FuzzMessage =
  | { type: 'start'; index: number; label: string }
  | { type: 'done'; index: number; ms: number }
  | { type: 'failure'; index: number; label: string; message: string }
  | { type: 'memory'; heapGrowth: number; arrayBufferGrowth: number }
  | { type: 'end'; mutants: number; fatal: number; warned: number; records: number; readBack: number; readBackWhole: number; ms: number; slowestMs: number; slowest: string };

const job = workerData as FuzzJob;
const post = (m: FuzzMessage): void => parentPort!.postMessage(m);

interface Outcome {
  records: AnyRecord[];
  error?: unknown;
}

async function run(m: Mutant): Promise<Outcome> {
  const records: AnyRecord[] = [];
  let source: string | Uint8Array | AsyncIterable<Uint8Array> = m.bytes;
  if (m.feed === 'chunks') source = randomChunks(m.bytes, m.chunkSeed);
  if (m.feed === 'path') {
    source = join(job.dir, `mutant-${m.index}`);
    writeFileSync(source, m.bytes);
  }
  try {
    for await (const r of inspect(source)) records.push(r);
    return { records };
  } catch (error) {
    return { records, error };
  } finally {
    if (typeof source === 'string') rmSync(source, { force: true });
  }
}

/** Long messages checked per mutant by readBackProblems. */
const READ_BACK_SAMPLE = 64;

/**
 * The UI's path on the same bytes: decoded with locate on into a RecordStore whose byte source is
 * the mutant itself, every long message must read back exactly as the decoder had it (the bytes
 * have not changed, so any other outcome than that or "not located" means an extent is wrong).
 */
async function readBackProblems(m: Mutant, tally: { checked: number; whole: number }): Promise<string[]> {
  const src = m.bytes;
  const store = new RecordStore();
  store.setByteSource({ read: (offset, length) => (Number.isInteger(offset) && offset >= 0 && length >= 0 && offset + length <= src.length ? src.slice(offset, offset + length) : undefined) });
  const full = new Map<number, Uint8Array>();
  try {
    await decodeCapture(src, (r, raw, where) => {
      if (raw !== undefined && raw.length > RAW_KEEP && full.size < READ_BACK_SAMPLE) full.set(store.size, raw.slice());
      store.add(r, raw, where);
    }, { locate: true });
  } catch (error) {
    if (!(error instanceof CaptureError)) return [`with locate: threw ${(error as Error)?.stack?.split('\n').slice(0, 4).join(' | ') ?? String(error)}`];
  }
  const problems: string[] = [];
  for (const [index, want] of full) {
    const got = store.bytes(index)!;
    tally.checked++;
    if (got.note === undefined) tally.whole++;
    if (got.note === undefined ? Buffer.compare(got.bytes, want) !== 0 : !/not located/.test(got.note)) {
      problems.push(`record ${index}: read back ${got.note ?? 'other bytes'} (${got.bytes.length} of ${got.total} bytes)`);
      break;
    }
  }
  return problems;
}

/** Every invariant the mutant broke (empty: it passed). */
function check(m: Mutant, out: Outcome, reference: Map<string, string[]>): string[] {
  const problems: string[] = [];
  const { error, records } = out;
  if (error !== undefined) {
    if (!(error instanceof CaptureError)) return [`threw ${(error as Error)?.stack?.split('\n').slice(0, 4).join(' | ') ?? String(error)}`];
    if (error.message === '' || /\n/.test(error.message)) problems.push(`CaptureError message is not one line: ${JSON.stringify(error.message)}`);
  }
  for (const r of records) {
    try {
      JSON.stringify(r);
    } catch (err) {
      problems.push(`record cannot be written as JSON: ${(err as Error).message}`);
      break;
    }
    if ('event' in r && r.event === 'warning' && !('conn' in r) && r.offset !== undefined) {
      if (!Number.isInteger(r.offset) || r.offset < 0 || r.offset > m.plainLength) problems.push(`warning offset ${r.offset} outside 0..${m.plainLength}: ${r.message}`);
    }
  }
  const warnings = records.filter((r): r is Extract<AnyRecord, { message: string }> => 'event' in r && r.event === 'warning' && !('conn' in r));
  if (m.cut !== undefined && m.cut >= m.sample.headerEnd) {
    // A truncated capture decodes what is there and says where it was cut.
    if (error !== undefined) problems.push(`cut capture is unreadable: ${(error as Error).message}`);
    else if (!m.sample.boundaries.includes(m.cut) && !warnings.some((w) => w.message.includes(`truncated at byte ${m.cut}`) || /runs past the end of the capture/.test(w.message))) {
      problems.push(`no truncation warning: ${JSON.stringify(warnings.map((w) => w.message))}`);
    }
  }
  if (m.cut !== undefined && m.cut < m.sample.headerEnd && !m.sample.ng && error === undefined && m.cut > 0) {
    problems.push('a capture cut inside its file header was read without an error');
  }
  if (m.gzipCut && error === undefined && !warnings.some((w) => /^gzip data is truncated/.test(w.message))) {
    problems.push(`cut gzip without a warning: ${JSON.stringify(warnings.map((w) => w.message))}`);
  }
  if (m.gzipCut && error !== undefined && !/truncated/.test((error as Error).message)) problems.push(`cut gzip: ${(error as Error).message}`);
  if (m.sameRecords) {
    const expected = reference.get(m.sample.name)!;
    const got = records.map((r) => JSON.stringify(r));
    if (error !== undefined || got.length !== expected.length || got.some((g, i) => g !== expected[i])) {
      const at = got.findIndex((g, i) => g !== expected[i]);
      problems.push(`unknown blocks changed the records (${got.length} vs ${expected.length}; first difference at ${at}: ${got[at]?.slice(0, 200)})`);
    }
  }
  return problems;
}

function memory(): { heap: number; arrayBuffers: number } {
  return { heap: getHeapStatistics().used_heap_size, arrayBuffers: process.memoryUsage().arrayBuffers };
}

async function main(): Promise<void> {
  const samples = SAMPLE_NAMES.map(loadSample);
  const reference = new Map<string, string[]>();
  for (const s of samples) {
    const clean = await run({ index: -1, sample: s, kind: 'flips', label: 'clean', bytes: s.bytes, plainLength: s.bytes.length, feed: 'bytes', chunkSeed: 0 });
    if (clean.error !== undefined) post({ type: 'failure', index: -1, label: `${s.name} unmodified`, message: String(clean.error) });
    reference.set(s.name, clean.records.map((r) => JSON.stringify(r)));
  }
  const base = memory();
  const plan = planMutants(samples, job.scale);
  const started = performance.now();
  let fatal = 0;
  let warned = 0;
  let records = 0;
  let slowestMs = 0;
  let slowest = '';
  let peakHeap = 0;
  let peakArrayBuffers = 0;
  const readBack = { checked: 0, whole: 0 };
  for (let index = 0; index < plan.length; index++) {
    if (job.only !== undefined && index !== job.only) continue;
    const { sample, kind } = plan[index]!;
    const m = makeMutant(job.seed, index, sample, kind);
    const label = `${sample.name} ${kind} (${m.feed}): ${m.label}`;
    post({ type: 'start', index, label });
    const t = performance.now();
    const out = await run(m);
    const ms = performance.now() - t;
    for (const message of check(m, out, reference)) post({ type: 'failure', index, label, message });
    // Uncompressed, in-memory mutants: capture offsets are offsets into these very bytes.
    if (m.feed === 'bytes' && !(m.bytes[0] === 0x1f && m.bytes[1] === 0x8b) && index % 2 === 0) {
      for (const message of await readBackProblems(m, readBack)) post({ type: 'failure', index, label, message });
    }
    if (out.error !== undefined) fatal++;
    if (out.records.some((r) => 'event' in r && r.event === 'warning')) warned++;
    records += out.records.length;
    if (ms > slowestMs) [slowestMs, slowest] = [ms, label];
    post({ type: 'done', index, ms });
    if (index % 20 === 0) {
      const now = memory();
      peakHeap = Math.max(peakHeap, now.heap - base.heap);
      peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers - base.arrayBuffers);
    }
  }
  post({ type: 'memory', heapGrowth: peakHeap, arrayBufferGrowth: peakArrayBuffers });
  const mutants = job.only !== undefined ? 1 : plan.length;
  post({ type: 'end', mutants, fatal, warned, records, readBack: readBack.checked, readBackWhole: readBack.whole, ms: performance.now() - started, slowestMs, slowest });
}

await main();
