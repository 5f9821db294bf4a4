// The program's I/O, handed to the commands instead of their reaching for `process`: main.ts gives
// the process's own streams, the tests in-memory ones (test/support/run-cli.ts runs the whole program
// in-process). Nothing under src/ but main.ts touches process.stdout/stderr/stdin/exit.
import type { Readable, Writable } from 'node:stream';

export interface Io {
  /** What `-` reads; `isTTY` (a terminal: refused as a capture, read for keys) and `fd` as a tty/file stream has them. */
  readonly stdin: Readable & { isTTY?: boolean; fd?: number };
  /** `columns`/`rows` when it is a terminal. */
  readonly stdout: Writable & { columns?: number; rows?: number };
  /** `columns` when it is a terminal (the help printed there is wrapped to it). */
  readonly stderr: Writable & { columns?: number };
  /** stdout is a terminal: the interactive UI and colour; never for a pipe or a file. */
  readonly isTTY: boolean;
  /** Ends the program at once with this status (stdout's reader went away, or stdout cannot be written). */
  exit(code: number): void;
  /**
   * The terminal is gone (SIGHUP, or EIO writing to it): ends the program at once and quietly, as a
   * closed terminal ends a program that does not catch SIGHUP (by that signal: status 129 in a shell).
   */
  hangUp(): void;
  /** The arguments as typed, after the program name (reports quote the command line). */
  readonly argv: readonly string[];
}

/**
 * One run of the program: its I/O and what the running command tells the stdout watch
 * (run-program.ts). Made fresh for each run, so one run's --check does not change the next one's.
 */
export interface RunIo extends Io {
  /**
   * Set by --check: it must run on to its verdict after stdout fails (`| head -1`); its writer stops
   * writing by itself. Otherwise a reader that went away ends the program quietly.
   */
  finishAfterClose: boolean;
}

/** A one-line message on stderr, prefixed with the program's name. */
export function warnOn(io: Io, line: string): void {
  io.stderr.write(`ltdh-inspect: ${line}\n`);
}
