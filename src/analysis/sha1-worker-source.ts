// The SHA-1 worker's program (sha1-worker.ts starts it): plain JavaScript run with `eval: true`, so
// that nothing has to be found on disk, whether the caller runs from dist/ (bundled or not) or from
// the sources under tsx. It reads entries from the shared ring in order and hashes per piece id.
// The layout constants are sha1-worker.ts's (LAYOUT), passed in workerData.
export const WORKER_SOURCE = `
'use strict';
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { sab, ringBytes, L, spinMs } = workerData;
const ctl = new Int32Array(sab, 0, L.ctlInts);
const digest = new Uint8Array(sab, L.digestAt, 20);
const ring = new Uint8Array(sab, L.ringAt, ringBytes);
const words = new Int32Array(sab, L.ringAt, ringBytes >> 2);
const mask = ringBytes - 1;
const hashes = new Map();
let tail = 0;
try {
  Atomics.store(ctl, L.READY, 1);
  for (;;) {
    const head = Atomics.load(ctl, L.HEAD);
    if (head === tail) {
      if (Atomics.load(ctl, L.STOP) !== 0) break;
      // More bytes usually follow within a block's decoding: poll a moment before sleeping, as waking costs both threads a system call.
      const until = performance.now() + spinMs;
      while (Atomics.load(ctl, L.HEAD) === tail && performance.now() < until);
      if (Atomics.load(ctl, L.HEAD) !== tail) continue;
      Atomics.store(ctl, L.SLEEPING, 1);
      Atomics.wait(ctl, L.HEAD, tail);
      Atomics.store(ctl, L.SLEEPING, 0);
      continue;
    }
    while (tail !== head) {
      const pos = tail & mask;
      const type = words[pos >> 2], id = words[(pos >> 2) + 1], len = words[(pos >> 2) + 2];
      let step = L.header;
      if (type === L.DATA) {
        let h = hashes.get(id);
        if (h === undefined) hashes.set(id, (h = createHash('sha1')));
        h.update(ring.subarray(pos + L.header, pos + L.header + len));
        step += (len + L.header - 1) & -L.header;
      } else if (type === L.END) {
        const h = hashes.get(id) ?? createHash('sha1');
        hashes.delete(id);
        digest.set(h.digest());
      } else if (type === L.DROP) hashes.delete(id);
      else if (type === L.WRAP) step = ringBytes - pos;
      tail = (tail + step) | 0;
      Atomics.store(ctl, L.TAIL, tail);
      if (Atomics.load(ctl, L.MAIN_WAITING) !== 0) Atomics.notify(ctl, L.TAIL);
    }
  }
} catch {
  Atomics.store(ctl, L.FAILED, 1);
  Atomics.notify(ctl, L.TAIL);
}
`;
