// Where the terminal UI reads keys from. Usually stdin; but `tcpdump -w - | ltdh-inspect -` feeds the
// capture through stdin, and then the keys come from the controlling terminal, /dev/tty, as less
// and fzf do. Without either there is no keyboard and the UI cannot run.
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';

export interface Keyboard {
  stream: NodeJS.ReadStream;
  /** Gives back what was opened for the UI (not stdin). */
  close(): void;
}

export function openKeyboard(stdinIsInput: boolean): Keyboard | undefined {
  if (!stdinIsInput && process.stdin.isTTY) return { stream: process.stdin, close() {} };
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r');
  } catch {
    return undefined;
  }
  const stream = new ReadStream(fd) as unknown as NodeJS.ReadStream;
  return { stream, close: () => stream.destroy() };
}
