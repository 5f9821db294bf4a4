// stdin read once: `--export` needs the capture a second time, so its chunks are copied to a
// temporary file as they pass (at most `limit` bytes; beyond that the spool is given up and the
// export says why). The caller removes the directory with `remove()`.
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Default bound on the disk a spool takes: 4 GiB. */
export const SPOOL_LIMIT = 4 * 1024 ** 3;

export class Spool {
  readonly path: string;
  private readonly dir: string;
  private readonly out: WriteStream;
  private written = 0;
  /** Why the spool cannot be used (over the limit, a write failed), once known. */
  problem: string | undefined;

  constructor(private readonly limit = SPOOL_LIMIT) {
    this.dir = mkdtempSync(join(tmpdir(), 'ltdh-inspect-'));
    this.path = join(this.dir, 'stdin.capture');
    this.out = createWriteStream(this.path);
    this.out.on('error', (err) => (this.problem ??= `could not keep a copy of stdin (${err.message})`));
  }

  /** Passes the chunks on unchanged, copying them to the spool file. */
  async *tee(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      if (this.problem === undefined) {
        this.written += chunk.length;
        if (this.written > this.limit) {
          this.problem = `stdin held more than ${Math.round(this.limit / 1024 ** 2)} MiB, the most kept on disk to read it again; save the capture to a file and export from that`;
          this.out.destroy();
        } else if (!this.out.write(chunk)) {
          await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
        }
      }
      yield chunk;
    }
  }

  /** All chunks written and the file closed. */
  async close(): Promise<void> {
    if (this.out.destroyed) return;
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
  }

  remove(): void {
    this.out.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
