// The whole program run in-process, as `ltdh-inspect ARGS` would run it, on in-memory streams: stdout
// and stderr collected, stdin given (empty by default, as `< /dev/null`), stdout not a terminal, and
// the exit status captured (what main.ts would exit with, or what an early exit gave: a reader that
// went away, a full disk). No node start-up per run: the CLI tests took seconds each when spawned on
// the shared 2-CPU machine. The spawned smoke tests (the built dist/ binary, real pipes, /dev/full,
// a tty) stay in test/cli/.
import { Readable, Writable } from 'node:stream';
import { runProgram } from '../../src/cli/run-program.js';
import type { Io } from '../../src/cli/io.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  /** The exit status. */
  code: number;
}

export interface CliRunOptions {
  /** What stdin holds (read when the capture is `-`); empty by default. */
  stdin?: string | Uint8Array;
  /** Replaces the collecting stdout (e.g. failingStdout); `stdout` in the result is then ''. */
  stdout?: Writable;
}

/** Runs `ltdh-inspect ...args` in this process; resolves once it has ended. */
export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliResult> {
  const memory = memoryIo(args, options);
  const run = runProgram(memory.io);
  const code = await Promise.race([run, memory.exitCalled]);
  // An early exit leaves the command running here (process.exit would have stopped it): let it end,
  // so that it does not run on into the next test.
  await run.catch(() => undefined);
  return { stdout: memory.stdout(), stderr: memory.stderr(), code: memory.exited() ?? code };
}

export interface MemoryIo {
  io: Io;
  stdout(): string;
  stderr(): string;
  /** The status io.exit was called with, if it was. */
  exited(): number | undefined;
  exitCalled: Promise<number>;
}

/** In-memory I/O for the program or one command (runProxyCommand(..., io)). */
export function memoryIo(argv: string[] = [], options: CliRunOptions = {}): MemoryIo {
  const out = new Collector();
  const err = new Collector();
  let exited: number | undefined;
  let exit!: (code: number) => void;
  const exitCalled = new Promise<number>((resolve) => (exit = resolve));
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]), { isTTY: false });
  const io: Io = {
    stdin,
    stdout: options.stdout ?? out,
    stderr: err,
    isTTY: false,
    exit: (code) => {
      // process.exit: nothing written after it is seen, and the first call wins.
      if (exited !== undefined) return;
      exited = code;
      out.muted = err.muted = true;
      exit(code);
    },
    // As a shell reports a program ended by SIGHUP.
    hangUp: () => io.exit(129),
    argv,
  };
  return { io, stdout: () => out.text(), stderr: () => err.text(), exited: () => exited, exitCalled };
}

/** runCli, with its stdout split into JSON records (for --json runs). */
export async function runCliJson<T = Record<string, unknown>>(args: string[], options: CliRunOptions = {}): Promise<CliResult & { records: T[] }> {
  const r = await runCli(args, options);
  const records = r.stdout === '' ? [] : r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as T);
  return { ...r, records };
}

/**
 * A stdout that takes `bytes` bytes, then fails every write with `code` as a pipe or a disk does:
 * EPIPE (the reader went away: `| head`), ENOSPC (/dev/full). What it took is in `taken`.
 */
export function failingStdout(bytes: number, code: 'EPIPE' | 'ENOSPC' | 'EBADF'): Writable & { taken: number } {
  let taken = 0;
  const stream = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, done) {
      if (taken + chunk.length > bytes) {
        taken = bytes;
        done(Object.assign(new Error(`write ${code}`), { code, errno: -1, syscall: 'write' }));
        return;
      }
      taken += chunk.length;
      done();
    },
  });
  return Object.defineProperty(stream, 'taken', { get: () => taken }) as Writable & { taken: number };
}

/** A stdout or stderr that keeps what is written (as a pipe would take it, 64 KiB at a time). */
class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  muted = false;

  constructor() {
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (!this.muted) this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
