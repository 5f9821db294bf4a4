// One run of the program on the given I/O: parse the arguments, run the command, and give back its
// exit status. main.ts runs it on the process's streams; the tests run it in-process on in-memory
// ones. Errors that reach here are bugs; input problems are reported by the commands as one line.
import { inspect } from 'node:util';
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { warnOn, type Io, type RunIo } from './io.js';

/** Exit status 70 (EX_SOFTWARE): a bug, reported in one line (LTDH_DEBUG=1 adds the stack). */
const INTERNAL_ERROR = 70;

export async function runProgram(io: Io): Promise<number> {
  // Field by field, not a spread: stdin stays a getter (process.stdin is made only when `-` is read).
  const run: RunIo = {
    get stdin() {
      return io.stdin;
    },
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY: io.isTTY,
    exit: (code) => io.exit(code),
    hangUp: () => io.hangUp(),
    argv: io.argv,
    finishAfterClose: false,
  };
  let status: number | undefined;
  watchStdout(run, () => status);
  let exitCode = 0;
  const program = buildProgram((code) => {
    exitCode = code;
  }, run);
  try {
    await program.parseAsync([...io.argv], { from: 'user' });
    status = exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2, as unreadable input does.
      status = err.exitCode === 0 ? 0 : 2;
    } else {
      warnOn(io, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      if (process.env.LTDH_DEBUG) io.stderr.write(`${inspect(err)}\n`);
      status = INTERNAL_ERROR;
    }
  }
  return status;
}

/**
 * The reader went away (`ltdh-inspect --help | head`): nothing more can be shown, and that is no
 * error: the program ends with the status it has so far (0). --check goes on to its verdict (its
 * writer stops writing): the exit status is its answer. Any other failure (a full disk: ENOSPC,
 * stdout closed: EBADF) is one line and exit status 2, never a stack trace: the output the user asked
 * for could not be written. EIO is the terminal gone (its window closed, the tmux pane killed): no
 * line (stderr is that terminal too, mostly), the program ends as a hang-up ends it.
 */
function watchStdout(run: RunIo, status: () => number | undefined): void {
  run.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (run.finishAfterClose) return;
    if (err.code === 'EPIPE') return run.exit(status() ?? 0);
    if (err.code === 'EIO') return run.hangUp();
    warnOn(run, `cannot write to standard output: ${err.code ?? err.message}${err.code === 'ENOSPC' ? ' (no space left on device)' : ''}`);
    run.exit(2);
  });
}
