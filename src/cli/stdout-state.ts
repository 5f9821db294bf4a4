// What the program does when stdout's reader goes away (`| head`, `| grep -q`). The timeline and
// --json end quietly then; --check must still reach its verdict, because its exit status is the
// answer a CI step reads, whatever became of its output.
export const stdoutState = {
  /** A command that must run to its end after stdout fails (it stops writing by itself). */
  finishAfterClose: false,
};
