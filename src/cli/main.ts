#!/usr/bin/env node
// Thin entry point: parse arguments, run, exit with the command's status. Errors that reach here
// are bugs; input problems are reported by the commands as one-line messages.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { stdoutState } from './stdout-state.js';

// The reader went away (`ltdh-inspect --help | head`): nothing more can be shown, and that is no
// error. --check goes on to its verdict (its writer stops writing): the exit status is its answer.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (stdoutState.finishAfterClose) return;
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  // Any other failure (a full disk: ENOSPC, stdout closed: EBADF) is one line and exit status 2,
  // never a stack trace: the output the user asked for could not be written.
  process.stderr.write(`ltdh-inspect: cannot write to standard output: ${err.code ?? err.message}${err.code === 'ENOSPC' ? ' (no space left on device)' : ''}\n`);
  process.exit(2);
});

let exitCode = 0;
const program = buildProgram((code) => {
  exitCode = code;
});

try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; usage errors exit 2, as unreadable input does.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`ltdh-inspect: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.LTDH_DEBUG) console.error(err);
    process.exitCode = 70;
  }
}
