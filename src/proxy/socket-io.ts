// How the relay's sockets read: the buffer sizes and read buffers, kept apart from the relay's rules
// (relay-core.ts) and its connection edge (connection-relay.ts) because they are what the proxy's
// throughput hangs on (docs/benchmarks.md).
import type { OnReadOpts } from 'node:net';

/**
 * Bytes queued per socket before its reader is paused: bounds memory per connection while keeping
 * pause/resume (two syscalls each) off the per-chunk path; 16 KiB (the default) halves throughput.
 */
export const SOCKET_BUFFER = 1 << 20;

/**
 * Reads go into buffers of this size (Node's own reads take 64 KiB at a time): a read then moves up
 * to 256 KiB, with a write for each, and the kernel is entered a quarter as often. Measured relaying
 * 1 GB of pieces from the target: 1.5 s of proxy CPU against 2.3 s with 64 KiB reads.
 */
export const LARGE_READ = 256 * 1024;
/**
 * A read of less than this is copied out and its buffer read into again; a larger one is passed on
 * and the next read gets a new buffer. A queued chunk so never pins more than twice its size.
 */
const HANDOFF = LARGE_READ / 2;

/**
 * Node's `onread` option for a socket it connects: reads of up to LARGE_READ, each handed to
 * `deliver` as a Buffer that is never read into again (the write queue, the MSE bridge and the
 * --save writer may still hold it).
 */
export function largeReads(deliver: (chunk: Buffer) => void): OnReadOpts {
  let readBuffer = Buffer.allocUnsafe(LARGE_READ);
  return {
    buffer: (): Buffer => readBuffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      let chunk: Buffer;
      if (n >= HANDOFF) {
        chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
        readBuffer = Buffer.allocUnsafe(LARGE_READ);
      } else chunk = Buffer.from(buf.subarray(0, n));
      deliver(chunk);
      return true;
    },
  };
}
