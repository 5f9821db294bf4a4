// The reused-buffer writer main.ts gives a file or /dev/null as stdout: the bytes are exactly what
// Node's own stream would have written, whatever was written (text of any size and alphabet, bytes,
// another encoding), and a full disk is an 'error' event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileStdout } from '../../src/cli/file-stdout.js';

function writeAllTo(out: Writable, parts: Array<string | Uint8Array | [string, BufferEncoding]>): void {
  for (const p of parts) {
    if (Array.isArray(p)) out.write(p[0], p[1]);
    else out.write(p);
  }
}

test('a file gets exactly the UTF-8 of the text and the bytes written, in order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-file-stdout-'));
  try {
    const path = join(dir, 'out');
    const fd = openSync(path, 'w');
    const out = fileStdout(fd);
    assert.ok(out !== undefined);
    const big = 'é'.repeat(3 << 20) + 'x'; // larger than the reused buffer is kept
    const parts: Array<string | Uint8Array | [string, BufferEncoding]> = [
      '{"a":1}\n',
      'peer "µTorrent 3.5" 😀 \ud800 lone\n',
      Uint8Array.of(0, 255, 10),
      big,
      ['ff00', 'hex'],
      'after\n'.repeat(50_000),
    ];
    writeAllTo(out, parts);
    closeSync(fd);
    const want = Buffer.concat(parts.map((p) => (Array.isArray(p) ? Buffer.from(p[0], p[1]) : typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
    assert.ok(readFileSync(path).equals(want));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/dev/full: the write fails as an error event with ENOSPC', async () => {
  const fd = openSync('/dev/full', 'w');
  try {
    const out = fileStdout(fd)!;
    const failed = once(out, 'error');
    out.write('x\n');
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
});

test('a descriptor that cannot be examined keeps Node\'s stream', () => {
  assert.equal(fileStdout(-1), undefined);
});
