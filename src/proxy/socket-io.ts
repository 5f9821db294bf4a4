// How the relay's sockets read: the buffer sizes and read buffers, kept apart from the relay's rules
// (relay-core.ts) and its connection edge (connection-relay.ts) because they are what the proxy's
// throughput hangs on (docs/benchmarks.md).
import type { OnReadOpts, Socket } from 'node:net';

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
 * When a chunk may be kept (see ReadTarget.mayKeep), a read of less than this is copied out and its
 * buffer read into again; a larger one is passed on and the next read gets a new buffer. A kept
 * chunk so never pins more than twice its size.
 */
const HANDOFF = LARGE_READ / 2;

/** Where a socket's reads go (the relay's side of one socket). */
export interface ReadTarget {
  /**
   * Whether a chunk handed over now may outlive the call: queued behind earlier writes that the
   * kernel has not taken, held by the --save writer or by the MSE bridge.
   */
  mayKeep(): boolean;
  /**
   * Takes a chunk (relayed, then decoded) and says whether anything still refers to it after the
   * call; when nothing does, the next read goes into the same buffer.
   */
  deliver(chunk: Buffer): boolean;
}

/**
 * Node's `onread` option: reads of up to LARGE_READ. The read buffer is reused while what is read
 * goes straight through (written whole into the kernel, decoded in place: the decoder copies what it
 * holds across calls); a fresh one is only allocated when a chunk is kept. Reusing it measured 0.3-0.4
 * s of proxy CPU per GB less than a new 256 KiB buffer per large read (page faults on fresh memory).
 */
export function largeReads(target: ReadTarget): OnReadOpts {
  let readBuffer = Buffer.allocUnsafe(LARGE_READ);
  return {
    buffer: (): Buffer => readBuffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      if (!target.mayKeep()) {
        // Whatever is kept after all (a write the kernel took only in part) is never read into again.
        if (target.deliver(Buffer.from(buf.buffer, buf.byteOffset, n))) readBuffer = Buffer.allocUnsafe(LARGE_READ);
        return true;
      }
      let chunk: Buffer;
      if (n >= HANDOFF) {
        chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
        readBuffer = Buffer.allocUnsafe(LARGE_READ);
      } else chunk = Buffer.from(buf.subarray(0, n));
      target.deliver(chunk);
      return true;
    },
  };
}

/** The Socket's internal slots that its `onread` option fills (Node 20 to 24 name them so). */
interface UserBufferSlots {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function userBufferSlots(socket: Socket): UserBufferSlots | undefined {
  const named = (name: string): symbol | undefined => Object.getOwnPropertySymbols(socket).find((s) => s.description === name);
  const buffer = named('kBuffer');
  const callback = named('kBufferCb');
  const generator = named('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

/**
 * Gives an accepted socket, not yet reading (pauseOnConnect), the reads `onread` gives a socket Node
 * connects: Node offers the option only to those, so the slots its constructor would fill are filled
 * here, and the handle is switched to the user buffer as its constructor would. Returns false, and
 * leaves the socket as it was (64 KiB reads, 'data' events), where this Node lays its sockets out
 * otherwise. The relay then also skips Node's readable stream for each read of what the client sends.
 */
export function readLargeFromAccepted(socket: Socket, opts: OnReadOpts): boolean {
  const slots = userBufferSlots(socket);
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown; reading?: boolean } | null })._handle;
  if (slots === undefined || handle == null || typeof handle.useUserBuffer !== 'function' || handle.reading === true) return false;
  const generator = opts.buffer;
  if (typeof generator !== 'function') return false;
  const first = generator();
  const own = socket as unknown as Record<symbol, unknown>;
  if (own[slots.buffer] != null) return false;
  own[slots.buffer] = first;
  own[slots.generator] = generator;
  own[slots.callback] = opts.callback;
  (handle.useUserBuffer as (b: Uint8Array) => void).call(handle, first);
  return true;
}
