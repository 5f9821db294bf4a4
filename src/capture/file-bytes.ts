// Reads bytes of a capture file back by offset, for the hex pane: the store keeps only the first
// bytes of long messages and where the rest lies in the file. Only a plain (uncompressed) regular
// file can be read that way: offsets are in the decompressed stream, and stdin is gone once read.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from '../model/store.js';

export interface FileBytes {
  /** Undefined when the capture cannot be read back; `why` says why, for the hex pane. */
  source: ByteSource | undefined;
  why: string | undefined;
  close(): void;
}

export function openFileBytes(path: string): FileBytes {
  if (path === '-') return unavailable('the capture came on stdin, and only the first bytes are kept');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return unavailable('the capture file cannot be opened again to read the rest');
  }
  const close = (): void => {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  };
  try {
    if (!fstatSync(fd).isFile()) {
      close();
      return unavailable('the capture is not a regular file, so the rest cannot be read back');
    }
    const head = new Uint8Array(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b) {
      close();
      return unavailable('the capture is gzip-compressed, so the rest cannot be read back');
    }
  } catch {
    close();
    return unavailable('the capture file cannot be read again');
  }
  const source: ByteSource = {
    read(offset, length) {
      const out = new Uint8Array(length);
      let got = 0;
      try {
        while (got < length) {
          const n = readSync(fd, out, got, length - got, offset + got);
          if (n === 0) return undefined;
          got += n;
        }
      } catch {
        return undefined;
      }
      return out;
    },
  };
  return { source, why: undefined, close };
}

function unavailable(why: string): FileBytes {
  return { source: undefined, why, close() {} };
}
