// Opens a capture for streaming: a file or stdin ('-'), gunzipped on the fly when it starts with
// the gzip magic (as Wireshark reads .pcap.gz). Problems become InputError with a one-line reason.
import { fstatSync, readSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

/** The input cannot be opened or read; the message is one line (the caller adds the file name). */
export class InputError extends Error {
  override name = 'InputError';
}

const HIGH_WATER_MARK = 256 * 1024;

export interface CaptureStreamOptions {
  /**
   * Gzip data damaged or cut short after `offset` decompressed bytes: called with a one-line
   * reason, and the stream ends there (the capture reader then judges what came before). Without
   * it, damaged gzip data is an InputError; damage before any decompressed byte always is.
   */
  onDamage?: (message: string, offset: number) => void;
}

/** Standard input as the program was given it (Io.stdin); `isTTY` and `fd` as Node's stdin has them. */
export type StdinStream = Readable & { isTTY?: boolean; fd?: number };

export async function openCaptureStream(path: string, options: CaptureStreamOptions & { stdin?: StdinStream; chunkSize?: number } = {}): Promise<AsyncIterable<Uint8Array>> {
  let source: Readable;
  if (path === '-') {
    if (options.stdin === undefined) throw new InputError('no standard input was given to read');
    source = openStdin(options.stdin);
  } else {
    try {
      const info = await stat(path);
      if (info.isDirectory()) throw new InputError('is a directory');
      const handle = await open(path, 'r');
      if (info.isFile() && !startsWithGzipMagic(handle)) return fileChunks(handle, options.chunkSize ?? HIGH_WATER_MARK);
      source = handle.createReadStream({ highWaterMark: HIGH_WATER_MARK });
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(describeError(err));
    }
  }
  return decompressIfGzip(source, options);
}

function startsWithGzipMagic(handle: FileHandle): boolean {
  const head = Buffer.alloc(2);
  return readSync(handle.fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * A regular file that is not gzip, read on this thread into one buffer that every chunk reuses: each
 * chunk is valid until the next is asked for (the capture reader, the reassemblers, the decoder and
 * the UI store copy what they keep; test/capture/source-reuse.test.ts holds them to it). A stream
 * instead reads on libuv's thread pool into a fresh buffer per chunk: for a 224 MB capture that was
 * 0.3 s of system time in page faults (0.08 s reusing one buffer) and hand-offs that left the
 * decoder waiting, on the 2-CPU machine the bench runs on. Gzip goes through zlib, which may still
 * read a chunk after it was given the next: it keeps the stream.
 */
async function* fileChunks(handle: FileHandle, size: number): AsyncGenerator<Uint8Array> {
  // A plain Uint8Array, not a Buffer: slice() on it copies (on a Buffer it is a view, which a stage
  // that copies with slice() would keep into the reused buffer).
  const buf = new Uint8Array(size);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(handle.fd, buf, 0, size, null);
      } catch (err) {
        throw new InputError(describeError(err), { cause: err });
      }
      if (n === 0) return;
      yield n === size ? buf : buf.subarray(0, n);
    }
  } finally {
    await handle.close();
  }
}

/** `stdin` as a capture's bytes (not yet gunzipped); a terminal or a directory is an InputError. */
export function openStdin(stdin: StdinStream): Readable {
  if (stdin.isTTY) throw new InputError('stdin is a terminal; pipe a capture into it');
  // Node reads a directory on stdin as empty input.
  if (stdin.fd !== undefined && isDirectory(stdin.fd)) throw new InputError('is a directory');
  return stdin;
}

function isDirectory(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false;
  }
}

/** The chunks as they are, or gunzipped when they start with the gzip magic. */
export async function* decompressIfGzip(source: AsyncIterable<Uint8Array>, options: CaptureStreamOptions = {}): AsyncGenerator<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  try {
    // The first two bytes decide; a pipe may deliver them one at a time.
    const head: Uint8Array[] = [];
    let headLength = 0;
    while (headLength < 2) {
      const next = await chunks.next();
      if (next.done) break;
      head.push(next.value);
      headLength += next.value.length;
    }
    const first = head[0];
    const second = first !== undefined && first.length > 1 ? first[1] : head[1]?.[0];
    if (first?.[0] !== 0x1f || second !== 0x8b) {
      yield* head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
      return;
    }
    yield* gunzip(head, chunks, options);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(describeError(err), { cause: err });
  } finally {
    if (source instanceof Readable) source.destroy();
    else await chunks.return?.();
  }
}

async function* gunzip(head: Uint8Array[], rest: AsyncIterator<Uint8Array>, options: CaptureStreamOptions): AsyncGenerator<Uint8Array> {
  const compressed = Readable.from(
    (async function* () {
      yield* head;
      for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  const inflate = createGunzip({ chunkSize: 64 * 1024 });
  compressed.on('error', (err) => inflate.destroy(err));
  compressed.pipe(inflate);
  let produced = 0;
  try {
    for await (const chunk of inflate) {
      produced += (chunk as Uint8Array).length;
      yield chunk as Uint8Array;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code?.startsWith('Z_')) throw err;
    // Cut short or damaged: what could be decompressed was passed on (zlib drops what its last
    // step produced, at most a chunk), and the capture reader judges it.
    const truncated = code === 'Z_BUF_ERROR';
    const reason = truncated ? 'gzip data is truncated' : `corrupt gzip data (${firstLine(err)})`;
    if (produced === 0) throw new InputError(truncated ? `${reason} before any capture byte` : reason);
    if (options.onDamage !== undefined) options.onDamage(truncated ? reason : `${reason}; the rest of the file is not read`, produced);
    else if (!truncated) throw new InputError(reason);
  } finally {
    compressed.destroy();
    inflate.destroy();
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split('\n')[0]!;
}

function describeError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return code !== undefined ? `cannot read (${code})` : firstLine(err);
  }
}
