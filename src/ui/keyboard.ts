// Where the terminal UI reads keys from. Usually stdin; but `tcpdump -w - | ltdh-inspect -` feeds the
// capture through stdin, and then the keys come from the controlling terminal, /dev/tty, as less
// and fzf do. Without either there is no keyboard and the UI cannot run.
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Readable } from 'node:stream';

export interface Keyboard {
  stream: NodeJS.ReadStream;
  /** Gives back what was opened for the UI (not stdin). */
  close(): void;
}

/** `stdin`: the program's (Io.stdin); used for keys when it is a terminal and not the capture. */
export function openKeyboard(stdin: Readable & { isTTY?: boolean }, stdinIsInput: boolean): Keyboard | undefined {
  if (!stdinIsInput && stdin.isTTY) return { stream: stdin as NodeJS.ReadStream, close() {} };
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r');
  } catch {
    return undefined;
  }
  const stream = new ReadStream(fd) as unknown as NodeJS.ReadStream;
  return { stream, close: () => stream.destroy() };
}
