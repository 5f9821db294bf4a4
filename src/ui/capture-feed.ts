// Decodes a capture into the UI's store in the background, and says when the first screen can be
// painted: as soon as a screenful of records is in view. Until then the input is decoded in small
// slices with a turn of the event loop after each, so the paint does not wait for a whole read
// chunk: 256 KiB of tiny messages is about 14,000 records, 0.2 s of decoding on a quiet machine
// and far more on a busy one (issue 15 item 5). Once the first screen is painted, chunks go whole.
// Nothing here may import ink (the first screen is painted before ink loads).
import type { RecordStore } from '../model/store.js';
import { CaptureError, decodeCapture, type InspectOptions } from '../inspect.js';
import { InputError } from '../capture/source.js';

/** Slice size until the first screen: a few hundred tiny messages, or a few full-size packets. */
export const FIRST_SCREEN_SLICE = 4096;

export interface CaptureFeed {
  /**
   * Resolves when the first screen can be painted: a screenful in view, or the input's first chunk
   * decoded (as before slicing: a filter that keeps few records, a live capture), or the end.
   */
  firstScreen: Promise<void>;
  /** Resolves when decoding ends (the input's end, an error reported in the store, or stop()). */
  feeding: Promise<void>;
  /** The capture's error (not a capture, unreadable), once feeding has ended with one. */
  failure(): string | undefined;
  /** Stops decoding at the next slice (the user quit). */
  stop(): void;
  /** Bytes decoded so far. */
  bytesRead(): number;
}

export interface FeedOptions {
  /** Timeline rows on the first screen: a screenful. */
  screenRows: number;
  /** The decoder's options (locate, observer, ...); onFirstPacket and onPieceCount go to the store. */
  inspect: InspectOptions;
}

const QUIT = new Error('the user quit');

export function feedStore(chunks: AsyncIterable<Uint8Array>, store: RecordStore, options: FeedOptions): CaptureFeed {
  let quit = false;
  let painted = false;
  let bytes = 0;
  let firstChunk = Number.POSITIVE_INFINITY;
  let failure: string | undefined;
  let firstScreenDone!: () => void;
  const firstScreen = new Promise<void>((resolve) => (firstScreenDone = resolve));
  const ready = (): void => {
    painted = true;
    firstScreenDone();
  };
  const measured = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      if (firstChunk === Number.POSITIVE_INFINITY) firstChunk = chunk.length;
      yield chunk;
    }
  };
  const counted = async function* (): AsyncGenerator<Uint8Array> {
    for await (const slice of sliceWhile(measured(), FIRST_SCREEN_SLICE, () => !painted)) {
      bytes += slice.length;
      yield slice;
    }
  };
  const feeding = (async () => {
    try {
      const inspect: InspectOptions = {
        ...options.inspect,
        onFirstPacket: (ts) => store.setOrigin(ts),
        onPieceCount: (conn, count) => store.setPieceCount(conn, count),
      };
      await decodeCapture(counted(), store.add, inspect, async () => {
        if (!painted && (store.view.length >= options.screenRows || bytes >= firstChunk)) ready();
        // Quitting the UI stops the decoding of a capture still being read.
        if (quit) throw QUIT;
        // Lets the UI render (and the first screen paint) between slices and chunks.
        await new Promise<void>((resolve) => setImmediate(resolve));
      });
    } catch (err) {
      if (err === QUIT || quit) return;
      if (!(err instanceof CaptureError || err instanceof InputError)) throw err;
      failure = err.message;
      store.add({ event: 'warning', message: err.message });
    } finally {
      ready();
    }
  })();
  return {
    firstScreen,
    feeding,
    failure: () => failure,
    stop: () => void (quit = true),
    bytesRead: () => bytes,
  };
}

/** The chunks cut into `size`-byte slices while `cut()` holds, then whole; slices share the chunk's memory. */
export async function* sliceWhile(chunks: AsyncIterable<Uint8Array>, size: number, cut: () => boolean): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    let at = 0;
    for (; at < chunk.length && cut(); at += size) yield chunk.subarray(at, at + size);
    if (at < chunk.length) yield at === 0 ? chunk : chunk.subarray(at);
  }
}
