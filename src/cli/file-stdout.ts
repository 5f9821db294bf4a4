// Standard output that is a file or a character device such as /dev/null (not a terminal, not a
// pipe). Node's own stream for it (SyncWriteStream) turns every string into a fresh Buffer before
// its write(2): for the million-message capture's 180 MB of JSON that allocation cost about 0.1 s,
// and for records of 500 KB (1 MB extended handshakes) a page fault per 4 KB written. This one
// encodes each string into one reused buffer and writes it at once, as synchronously as Node's, so
// the program's output and exit behave as before (errors such as ENOSPC arrive as 'error' events).
import { fstatSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

/** The reused buffer is kept up to this size; a larger string is encoded into a buffer of its own. */
const KEEP_BYTES = 4 << 20;

/** A writer for descriptor `fd` when it is a file or a character device, else undefined (keep Node's stream). */
export function fileStdout(fd: number): Writable | undefined {
  try {
    const st = fstatSync(fd);
    return st.isFile() || st.isCharacterDevice() ? new FdWriter(fd) : undefined;
  } catch {
    return undefined;
  }
}

class FdWriter extends Writable {
  private buf = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly fd: number) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Uint8Array, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      if (typeof chunk !== 'string') writeAll(this.fd, chunk, chunk.length);
      else if (encoding === 'utf8' || encoding === 'utf-8') this.writeText(chunk);
      else writeAll(this.fd, Buffer.from(chunk, encoding), Buffer.byteLength(chunk, encoding));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private writeText(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3;
    let buf = this.buf;
    if (buf.length < most) {
      buf = Buffer.allocUnsafe(most);
      if (most <= KEEP_BYTES) this.buf = buf;
    }
    writeAll(this.fd, buf, buf.write(text, 0, 'utf8'));
  }
}

function writeAll(fd: number, bytes: Uint8Array, n: number): void {
  for (let off = 0; off < n; ) off += writeSync(fd, bytes, off, n - off);
}
