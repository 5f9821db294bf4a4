#!/usr/bin/env node
// Thin entry point: the one place that touches the process's streams and exit. It runs the program
// on them (run-program.ts) and exits with the command's status.
import { closeSync, fstatSync } from 'node:fs';
import { runProgram } from './run-program.js';
import { fileStdout } from './file-stdout.js';

/** What a shell reports for a program ended by SIGHUP (128 + 1). */
const HUNG_UP = 129;

/**
 * Ends the process as a closed terminal ends one that does not catch SIGHUP: by the signal's default
 * action. Not process.exit: at exit Node puts back the terminal modes it found at start (ResetStdio)
 * and aborts with an assertion when the terminal is gone (tcsetattr fails with EIO).
 */
function hangUp(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  // Still here: SIGHUP is ignored (nohup). Node's exit leaves a closed descriptor alone.
  for (const fd of [0, 1, 2]) {
    try {
      if (fstatSync(fd).isCharacterDevice()) closeSync(fd);
    } catch {
      // Already closed.
    }
  }
  process.exit(HUNG_UP);
}

process.exitCode = await runProgram({
  // Made only when read: Node's stdin on a directory or a closed descriptor is best left untouched
  // unless `-` asks for it.
  get stdin() {
    return process.stdin;
  },
  // A file or /dev/null: written through one reused buffer (file-stdout.ts); a terminal or a pipe: Node's stream.
  stdout: (process.stdout.isTTY !== true ? fileStdout(1) : undefined) ?? process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
  exit: (code) => process.exit(code),
  hangUp,
  argv: process.argv.slice(2),
});
