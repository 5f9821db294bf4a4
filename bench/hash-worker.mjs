// Does hashing piece blocks on a worker thread pay? (issue 15 item 3; the answer on the 2-CPU VM: no,
// see docs/benchmarks.md.) The main thread feeds 800 pieces x 16 blocks of 16 KiB (200 MB) and needs
// each piece's SHA-1 at its last block: the analyzer emits hash-mismatch right after that block's
// record, so the verdict is needed synchronously. inline: hash.update in place (what
// piece-verification.ts does). worker: each block copied into a SharedArrayBuffer ring, a worker
// hashing as blocks come, the main thread waiting (Atomics.wait) only for the digest at a piece's
// end. WORK loop iterations per block stand for the rest of the decoder's work, which the worker
// could overlap.
//
//   node bench/hash-worker.mjs inline|worker [WORK=0]      (alternate them; compare wall and CPU)
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
const BLOCK = 16384, PER = 16, PIECES = 800, SLOTS = 64;
if (!isMainThread) {
  const { sab } = workerData;
  const ctl = new Int32Array(sab, 0, 8); // 0: published count, 1: consumed count, 2: digests done
  const lens = new Int32Array(sab, 32, SLOTS);
  const ring = new Uint8Array(sab, 32 + 4 * SLOTS, SLOTS * BLOCK);
  const out = new Uint8Array(sab, 32 + 4 * SLOTS + SLOTS * BLOCK, 20);
  let h = createHash('sha1'); let n = 0; let consumed = 0;
  for (;;) {
    let pub = Atomics.load(ctl, 0);
    while (pub === consumed) { Atomics.wait(ctl, 0, pub); pub = Atomics.load(ctl, 0); }
    if (pub < 0) break;
    const slot = consumed % SLOTS;
    h.update(ring.subarray(slot * BLOCK, slot * BLOCK + lens[slot]));
    consumed++; Atomics.store(ctl, 1, consumed); Atomics.notify(ctl, 1);
    if (++n === PER) { out.set(h.digest()); n = 0; h = createHash('sha1'); Atomics.add(ctl, 2, 1); Atomics.notify(ctl, 2); }
  }
} else {
  const mode = process.argv[2];
  const work = Number(process.argv[3] ?? 0);
  const src = Buffer.alloc(BLOCK); for (let i = 0; i < BLOCK; i++) src[i] = i * 7;
  const decodeLoad = () => { let x = 0; for (let i = 0; i < work; i++) x += src[i & (BLOCK - 1)]; return x; };
  const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
  let sink = 0;
  /** Milliseconds the main thread spent waiting for the worker. */
  let waited = 0;
  if (mode === 'inline') {
    for (let p = 0; p < PIECES; p++) { const h = createHash('sha1'); for (let b = 0; b < PER; b++) { src[0] = b; sink += decodeLoad(); h.update(src); } sink += h.digest()[0]; }
  } else {
    const sab = new SharedArrayBuffer(32 + 4 * SLOTS + SLOTS * BLOCK + 20);
    const ctl = new Int32Array(sab, 0, 8); const lens = new Int32Array(sab, 32, SLOTS);
    const ring = new Uint8Array(sab, 32 + 4 * SLOTS, SLOTS * BLOCK); const out = new Uint8Array(sab, 32 + 4 * SLOTS + SLOTS * BLOCK, 20);
    const w = new Worker(new URL(import.meta.url), { workerData: { sab } });
    await new Promise((r) => w.once('online', r));
    const t1 = process.hrtime.bigint(); 
    let pub = 0;
    for (let p = 0; p < PIECES; p++) {
      for (let b = 0; b < PER; b++) {
        src[0] = b; sink += decodeLoad();
        if (pub - Atomics.load(ctl, 1) >= SLOTS) {
          const w0 = performance.now();
          while (pub - Atomics.load(ctl, 1) >= SLOTS) Atomics.wait(ctl, 1, Atomics.load(ctl, 1));
          waited += performance.now() - w0;
        }
        const slot = pub % SLOTS; ring.set(src, slot * BLOCK); lens[slot] = BLOCK;
        pub++; Atomics.store(ctl, 0, pub); Atomics.notify(ctl, 0);
      }
      const w0 = performance.now();
      while (Atomics.load(ctl, 2) <= p) Atomics.wait(ctl, 2, p);
      waited += performance.now() - w0;
      sink += out[0];
    }
    Atomics.store(ctl, 0, -1); Atomics.notify(ctl, 0); await w.terminate();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9; const c = process.cpuUsage(c0);
  const ms = secs * 1000;
  console.log(`${mode} work=${work}: wall ${ms.toFixed(0)} ms, main thread not waiting ${(ms - waited).toFixed(0)} ms; process CPU user ${(c.user / 1000).toFixed(0)} ms, sys ${(c.system / 1000).toFixed(0)} ms${sink > 0 ? '' : ' !'}`);
}
