#!/usr/bin/env node
// Thin entry point: the one place that touches the process's streams and exit. It runs the program
// on them (run-program.ts) and exits with the command's status.
import { runProgram } from './run-program.js';

process.exitCode = await runProgram({
  // Made only when read: Node's stdin on a directory or a closed descriptor is best left untouched
  // unless `-` asks for it.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
  exit: (code) => process.exit(code),
  argv: process.argv.slice(2),
});
