// SHA-1 of v1 pieces on a worker thread, so that hashing can overlap decoding (issue 15 item 3:
// SHA-1 is about a fifth of `--json`'s time on the magnet capture). For the pipeline nothing
// changes: update() takes the piece's bytes in order and verdict() answers at once with the digest,
// so a hash-mismatch finding lands where the inline hash puts it.
//
// Off unless LTDH_HASH_WORKER=1: on the 2-CPU VM the bench runs on it was slower than hashing inline,
// idle or busy (docs/benchmarks.md, "Hash checks"): the copy into shared memory, the hand-offs and a
// second thread competing with V8's own background threads cost more than the SHA-1 they move. The
// bench times it beside inline hashing on every run, so a machine where it pays will show it.
//
// One worker for the process, started lazily at the first v1 piece to check. update() copies the
// bytes into a ring in shared memory (one producer, this thread; one consumer, the worker; the
// indices are Int32 cells moved with Atomics) and returns; verdict() queues "end of piece" and waits
// (Atomics.wait, allowed on Node's main thread) until the worker has consumed the ring: by then it
// has hashed the earlier blocks while this thread decoded, so the wait is about one block's hash.
// A full ring makes update() wait for room: memory stays bounded, and a piece larger than the ring
// streams through it. Each side wakes the other only when that one has said it is asleep.
//
// Until the worker says it is ready, when it cannot be started, or while waiting for it has lately
// cost more than hashing inline would (a busy machine), pieces are hashed inline (piece-hash.ts); a
// piece is hashed wholly where it started. The worker is unref'd and
// prints nothing: it neither keeps the process alive nor changes its output or exit status.
import type { Worker } from 'node:worker_threads';
import { WORKER_SOURCE } from './sha1-worker-source.js';

/** The shared memory's layout: control cells (Int32 indices), the digest slot, then the ring. */
const LAYOUT = {
  HEAD: 0, // bytes published by this thread (wrapping Int32)
  TAIL: 1, // bytes consumed by the worker (wrapping Int32)
  SLEEPING: 2, // the worker waits on HEAD
  MAIN_WAITING: 3, // this thread waits on TAIL
  READY: 4,
  STOP: 5,
  FAILED: 6,
  ctlInts: 16,
  digestAt: 64,
  ringAt: 128,
  // Ring entries: a 16-byte header (type, piece id, length) and for DATA the bytes, padded to 16.
  header: 16,
  DATA: 1,
  END: 2,
  DROP: 3,
  WRAP: 4,
} as const;

export interface HashWorkerOptions {
  /** Whether pieces are hashed on the worker: LTDH_HASH_WORKER=1 in the environment says yes. */
  use: boolean;
  /** Ring size in bytes, a power of two (at least 256). */
  ringBytes: number;
  /** Whether pieces go inline for a while after the worker kept this thread waiting (tests turn it off to be sure the worker hashes). */
  pauses: boolean;
}

const DEFAULTS: HashWorkerOptions = { use: process.env['LTDH_HASH_WORKER'] === '1', ringBytes: 1 << 20, pauses: true };
let options = DEFAULTS;
/** undefined: not started yet; null: not to be used (disabled, or it could not start). */
let ring: HashRing | null | undefined;

/** The ring to hash a new piece on, or undefined to hash it inline (starts the worker the first time). */
export function hashRing(): HashRing | undefined {
  if (ring === undefined) ring = startRing();
  return ring !== null && ring.usable() ? ring : undefined;
}

/** Tests and benches: stop the worker (if any) and use these options from now on. */
export function configureHashWorker(o: Partial<HashWorkerOptions>): void {
  ring?.stop();
  ring = undefined;
  options = { ...DEFAULTS, ...o };
}

/** Pieces hashed by the worker and inline during pauses since it started (tests, benches); undefined when there is no worker. */
export function hashWorkerCounts(): { worker: number; paused: number } | undefined {
  return ring ? { ...ring.counts } : undefined;
}

/** Tests: start the worker now and wait until it is ready; false when it is not to be used or did not start. */
export async function hashWorkerReady(timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (hashRing() === undefined) {
    if (ring === null || ring?.failed() === true || Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

function startRing(): HashRing | null {
  if (!options.use) return null;
  try {
    return new HashRing(options.ringBytes, options.pauses);
  } catch {
    return null;
  }
}

/** This thread's end of the ring, and the worker. */
export class HashRing {
  private readonly ctl: Int32Array;
  private readonly digest: Uint8Array;
  /** A Buffer: its fill() copies with memcpy, where Uint8Array.set into shared memory copies several times slower. */
  private readonly bytes: Buffer;
  private readonly words: Int32Array;
  private readonly worker: Worker;
  private head = 0;
  private ids = 0;
  private broken = false;
  /** This round of pieces (see judge()): pieces ended, bytes sent, milliseconds this thread waited. */
  private round = { pieces: 0, bytes: 0, waited: 0 };
  /** Pieces the worker hashed, and pieces hashed inline during pauses (tests, benches). */
  readonly counts = { worker: 0, paused: 0 };
  /** Pieces still to hash inline before the worker is tried again, and the next such pause. */
  private pause = 0;
  private nextPause = PAUSE_PIECES;

  constructor(
    private readonly size: number,
    private readonly pauses = true,
  ) {
    if (size < 256 || (size & (size - 1)) !== 0) throw new RangeError(`ring size ${size} is not a power of two of at least 256`);
    const sab = new SharedArrayBuffer(LAYOUT.ringAt + size);
    this.ctl = new Int32Array(sab, 0, LAYOUT.ctlInts);
    this.digest = new Uint8Array(sab, LAYOUT.digestAt, 20);
    this.bytes = Buffer.from(sab, LAYOUT.ringAt, size);
    this.words = new Int32Array(sab, LAYOUT.ringAt, size >> 2);
    const workerData = { sab, ringBytes: size, L: LAYOUT, spinMs: WORKER_SPIN_MS };
    // Loaded here, not at startup: most runs never check a piece. Node 20.16 has getBuiltinModule; before it, the constructor throws and pieces are hashed inline.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    // execArgv []: the worker needs no loader (tsx) or flags of this process; its stdout and stderr are not the process's.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [], stdout: true, stderr: true });
    this.worker.unref();
    this.worker.on('error', () => (this.broken = true));
    this.worker.on('exit', () => (this.broken = true));
  }

  /** Whether a new piece goes to the worker: it has started, has not failed, and waiting for it has not lately cost more than hashing inline. */
  usable(): boolean {
    if (Atomics.load(this.ctl, LAYOUT.READY) !== 1 || this.failed()) return false;
    if (this.pause === 0) return true;
    this.pause--;
    this.counts.paused++;
    return false;
  }

  failed(): boolean {
    return this.broken || Atomics.load(this.ctl, LAYOUT.FAILED) !== 0;
  }

  newId(): number {
    this.ids = (this.ids + 1) | 0;
    return this.ids;
  }

  /** The piece's next bytes, queued in slices that fit before the ring's end (at most a quarter of the ring, so the worker can free room meanwhile). */
  data(id: number, data: Uint8Array): void {
    const most = this.size >> 2;
    this.round.bytes += data.length;
    for (let off = 0; off < data.length && !this.failed(); ) {
      const pos = this.head & (this.size - 1);
      const toEnd = this.size - pos;
      if (toEnd < 2 * LAYOUT.header) {
        this.put(LAYOUT.WRAP, 0, toEnd);
        continue;
      }
      const n = Math.min(data.length - off, toEnd - LAYOUT.header, most);
      this.room(LAYOUT.header + pad(n));
      this.bytes.fill(data.subarray(off, off + n), pos + LAYOUT.header, pos + LAYOUT.header + n);
      this.put(LAYOUT.DATA, id, LAYOUT.header + pad(n), n);
      off += n;
    }
  }

  /** The piece's SHA-1 (20 bytes, valid until the next call), or undefined when the worker failed. */
  end(id: number): Uint8Array | undefined {
    if (this.failed()) return undefined;
    this.room(LAYOUT.header);
    this.put(LAYOUT.END, id, LAYOUT.header);
    this.waitForUse(0);
    this.counts.worker++;
    if (++this.round.pieces === ROUND_PIECES) this.judge();
    return this.failed() ? undefined : this.digest;
  }

  /** The piece will not be judged: the worker lets its hash state go. */
  drop(id: number): void {
    if (this.failed()) return;
    this.room(LAYOUT.header);
    this.put(LAYOUT.DROP, id, LAYOUT.header);
  }

  stop(): void {
    Atomics.store(this.ctl, LAYOUT.STOP, 1);
    this.broken = true;
    void this.worker.terminate();
  }

  /**
   * After each round of pieces: when this thread waited for the worker longer than hashing the
   * round's bytes inline takes (the second CPU is busy elsewhere), the next pieces are hashed inline,
   * for a pause that doubles each time it happens again.
   */
  private judge(): void {
    const { bytes, waited } = this.round;
    if (this.pauses && waited > bytes / INLINE_BYTES_PER_MS) {
      this.pause = this.nextPause;
      this.nextPause = Math.min(this.nextPause * 2, MAX_PAUSE_PIECES);
    }
    this.round = { pieces: 0, bytes: 0, waited: 0 };
  }

  /** Writes an entry's header at head (its bytes, if any, are in place), publishes it and wakes the worker if it sleeps. */
  private put(type: number, id: number, step: number, length = 0): void {
    const w = (this.head & (this.size - 1)) >> 2;
    this.words[w] = type;
    this.words[w + 1] = id;
    this.words[w + 2] = length;
    this.head = (this.head + step) | 0;
    Atomics.store(this.ctl, LAYOUT.HEAD, this.head);
    if (Atomics.load(this.ctl, LAYOUT.SLEEPING) !== 0) Atomics.notify(this.ctl, LAYOUT.HEAD, 1);
  }

  private used(): number {
    return (this.head - Atomics.load(this.ctl, LAYOUT.TAIL)) | 0;
  }

  /** Waits until `n` bytes are free in the ring. */
  private room(n: number): void {
    if (this.used() > this.size - n) this.waitForUse(this.size - n);
  }

  /** Waits until at most `most` bytes of the ring are in use (or the worker failed): a short spin (the wait is usually one block's hash), then sleeps. */
  private waitForUse(most: number): void {
    if (this.used() <= most) return;
    const t0 = performance.now();
    const spinUntil = t0 + MAIN_SPIN_MS;
    for (let i = 1; this.used() > most; i++) if ((i & 63) === 0 && performance.now() > spinUntil) break;
    while (this.used() > most && !this.failed()) {
      const seen = Atomics.load(this.ctl, LAYOUT.TAIL);
      Atomics.store(this.ctl, LAYOUT.MAIN_WAITING, 1);
      if (this.used() > most) Atomics.wait(this.ctl, LAYOUT.TAIL, seen, 200);
      Atomics.store(this.ctl, LAYOUT.MAIN_WAITING, 0);
    }
    this.round.waited += performance.now() - t0;
  }
}

/** How long the worker polls for more bytes before it sleeps, and this thread for the worker before it sleeps (ms). */
const WORKER_SPIN_MS = 0.1;
const MAIN_SPIN_MS = 0.05;
/** SHA-1 inline on the bench machine: about 1.5 GB/s (bytes per millisecond). */
const INLINE_BYTES_PER_MS = 1.5e6;
/** Pieces per round judged by judge(); the first pause in pieces, doubled each time up to the last. */
const [ROUND_PIECES, PAUSE_PIECES, MAX_PAUSE_PIECES] = [16, 32, 4096];

function pad(n: number): number {
  return (n + LAYOUT.header - 1) & -LAYOUT.header;
}
