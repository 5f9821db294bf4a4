// Fuzzing the capture path with mutants of the real captures in samples/ (see capture-mutants.ts),
// fed through the library API (`inspect`) whole, in random chunks and from a file. Each mutant must
// finish within a time bound (the mutants run in a worker, which is stopped when one overruns),
// end in records or the documented CaptureError with a one-line message, keep its warnings' byte
// offsets inside the capture, say where a cut capture was cut, leave the records of a capture alone
// when only unknown pcapng blocks were added, and the heap must stay flat over the whole run. Half
// the in-memory mutants also take the terminal UI's path (locate on, a RecordStore reading long
// messages back from the mutant): every long message must read back as the decoder had it.
//
// LTDH_FUZZ_SEED and LTDH_FUZZ_SCALE (a multiplier of the mutant counts) run other or more
// mutants; LTDH_FUZZ_ONLY=N runs the one mutant a failure names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FuzzJob, FuzzMessage } from './fuzz-worker.js';

const SEED = Number(process.env.LTDH_FUZZ_SEED ?? 0x1d7d0054);
const SCALE = Number(process.env.LTDH_FUZZ_SCALE ?? 1);
const ONLY = process.env.LTDH_FUZZ_ONLY === undefined ? undefined : Number(process.env.LTDH_FUZZ_ONLY);
/** One mutant decodes in milliseconds; this much longer is a hang, however slow the machine. */
const MUTANT_TIME_LIMIT_MS = 10_000;
/** Worker start-up (loading TypeScript) and the reference decodes of the clean samples. */
const STARTUP_LIMIT_MS = 60_000;
const HEAP_GROWTH_LIMIT = 200 << 20;

interface Result {
  failures: string[];
  memory?: Extract<FuzzMessage, { type: 'memory' }>;
  end?: Extract<FuzzMessage, { type: 'end' }>;
}

/** Runs the job in a worker; a mutant that does not finish in time stops it and is reported. */
function runWorker(job: FuzzJob): Promise<Result> {
  const workerUrl = new URL('./fuzz-worker.ts', import.meta.url).href;
  // Workers do not inherit the --import tsx loader: register it, then load the worker module.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: job, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  const result: Result = { failures: [] };
  return new Promise((resolve) => {
    let current = 'worker start-up';
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        result.failures.push(`${current}: did not finish within ${ms} ms`);
        void worker.terminate();
      }, ms);
    };
    arm(STARTUP_LIMIT_MS);
    worker.on('message', (m: FuzzMessage) => {
      if (m.type === 'start') {
        current = `mutant ${m.index} (${m.label})`;
        arm(MUTANT_TIME_LIMIT_MS);
      } else if (m.type === 'done') {
        arm(STARTUP_LIMIT_MS);
      } else if (m.type === 'failure') {
        result.failures.push(`mutant ${m.index} (${m.label}): ${m.message}`);
      } else if (m.type === 'memory') {
        result.memory = m;
      } else {
        result.end = m;
      }
    });
    worker.on('error', (err) => result.failures.push(`${current}: worker failed: ${err.message}`));
    worker.on('exit', () => {
      clearTimeout(timer);
      resolve(result);
    });
  });
}

test(`mutated real captures (seed ${SEED}, scale ${SCALE}): no hang, no throw but CaptureError, flat heap`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const job: FuzzJob = { seed: SEED, scale: SCALE, dir };
  if (ONLY !== undefined) job.only = ONLY;
  const r = await runWorker(job);
  assert.deepEqual(r.failures.slice(0, 20), [], `${r.failures.length} failures; reproduce one with LTDH_FUZZ_SEED=${SEED} LTDH_FUZZ_SCALE=${SCALE} LTDH_FUZZ_ONLY=N`);
  assert.ok(r.end !== undefined && r.memory !== undefined, 'the worker ended early');
  const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
  t.diagnostic(
    `${r.end.mutants} mutants in ${(r.end.ms / 1000).toFixed(1)} s: ${r.end.fatal} CaptureError, ${r.end.warned} with warnings, ${r.end.records} records; ` +
      `${r.end.readBack} long messages read back (${r.end.readBackWhole} whole, the rest not located); ` +
      `slowest ${r.end.slowestMs.toFixed(0)} ms (${r.end.slowest.slice(0, 120)}); heap +${mb(r.memory.heapGrowth)}, array buffers +${mb(r.memory.arrayBufferGrowth)}`,
  );
  assert.ok(r.memory.heapGrowth < HEAP_GROWTH_LIMIT, `heap grew by ${mb(r.memory.heapGrowth)}`);
  assert.ok(r.memory.arrayBufferGrowth < HEAP_GROWTH_LIMIT, `array buffers grew by ${mb(r.memory.arrayBufferGrowth)}`);
  if (ONLY === undefined && SCALE >= 1) {
    // The mutants must have exercised both outcomes, or the harness tests nothing.
    assert.ok(r.end.fatal > 0 && r.end.warned > r.end.mutants / 4, `${r.end.fatal} fatal, ${r.end.warned} warned of ${r.end.mutants}`);
    assert.ok(r.end.readBackWhole > 1000, `only ${r.end.readBackWhole} long messages of mutants read back whole`);
  }
});
