// Opens a capture for streaming: a file or stdin ('-'), gunzipped on the fly when it starts with
// the gzip magic (as Wireshark reads .pcap.gz). Problems become InputError with a one-line reason.
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

/** The input cannot be opened or read; the message is one line (the caller adds the file name). */
export class InputError extends Error {
  override name = 'InputError';
}

const HIGH_WATER_MARK = 256 * 1024;

export async function openCaptureStream(path: string): Promise<AsyncIterable<Uint8Array>> {
  let source: Readable;
  if (path === '-') {
    if (process.stdin.isTTY) throw new InputError('stdin is a terminal; pipe a capture into it');
    source = process.stdin;
  } else {
    try {
      if ((await stat(path)).isDirectory()) throw new InputError('is a directory');
      const handle = await open(path, 'r');
      source = handle.createReadStream({ highWaterMark: HIGH_WATER_MARK });
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(describeError(err));
    }
  }
  return decompressIfGzip(source);
}

async function* decompressIfGzip(source: Readable): AsyncGenerator<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
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
    yield* gunzip(head, chunks);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(describeError(err));
  } finally {
    source.destroy();
  }
}

async function* gunzip(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
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
  try {
    for await (const chunk of inflate) yield chunk as Uint8Array;
  } catch (err) {
    // A gzip stream cut short ends what could be decompressed; the capture reader then reports
    // the truncated capture with its byte offset.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') return;
    if (code?.startsWith('Z_')) throw new InputError(`corrupt gzip data (${(err as Error).message})`);
    throw err;
  } finally {
    compressed.destroy();
    inflate.destroy();
  }
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
      return code !== undefined ? `cannot read (${code})` : String((err as Error).message ?? err).split('\n')[0]!;
  }
}
