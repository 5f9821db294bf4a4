// The proxy's read buffers: reused only while nothing keeps what was read in them, and large reads
// for the sockets the proxy accepts as for those it connects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { largeReads, readLargeFromAccepted, LARGE_READ } from '../../src/proxy/socket-io.js';

/** Fills the current read buffer with `n` bytes of `fill`, as the handle would, and calls back. */
function read(opts: ReturnType<typeof largeReads>, n: number, fill: number): Uint8Array {
  const buf = (opts.buffer as () => Uint8Array)();
  buf.fill(fill, 0, n);
  opts.callback(n, buf);
  return buf;
}

test('the read buffer is read into again only when the chunk read into it was let go', () => {
  const got: Buffer[] = [];
  let keep = false;
  let mayKeep = false;
  const opts = largeReads({ mayKeep: () => mayKeep, deliver: (c) => (got.push(c), keep) });
  const first = read(opts, 1000, 1);
  assert.equal(got[0]!.buffer, first.buffer, 'nothing may keep it: the chunk is a view of the read buffer, not a copy');
  read(opts, 5000, 2);
  assert.equal(got[1]!.buffer, first.buffer, 'let go: the same buffer is read into again');
  keep = true;
  read(opts, 3000, 3);
  const after = read(opts, 10, 4);
  assert.notEqual(after.buffer, first.buffer, 'kept: the next read goes into a new buffer');
  assert.deepEqual([...new Set(got[2]!)], [3], 'the kept chunk is not overwritten by the next read');
  // A chunk that may be kept is copied out when small, handed off when large.
  mayKeep = true;
  const small = read(opts, 100, 5);
  assert.notEqual(got.at(-1)!.buffer, small.buffer, 'small and may be kept: copied');
  const big = read(opts, LARGE_READ, 6);
  assert.equal(got.at(-1)!.buffer, big.buffer, 'large: handed over');
  assert.notEqual(read(opts, 1, 7).buffer, big.buffer, 'and never read into again');
  assert.deepEqual([...new Set(got.at(-2)!)], [6]);
});

test('an accepted socket reads into the user buffer: reads larger than 64 KiB, every byte in order, then the end', async () => {
  const payload = Buffer.alloc(2 << 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 12)) & 0xff;
  const chunks: Buffer[] = [];
  let installed = false;
  let accepted!: Socket;
  const server = createServer({ pauseOnConnect: true }, (s) => {
    accepted = s;
    installed = readLargeFromAccepted(s, largeReads({ mayKeep: () => false, deliver: (c) => (chunks.push(Buffer.from(c)), false) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await once(server, 'connection');
  // Much of it is in the kernel's buffers before the accepted socket starts reading (all of it does
  // not fit: 'finish' comes only once it reads, hence the race).
  client.end(payload);
  await Promise.race([once(client, 'finish'), new Promise((r) => setTimeout(r, 200))]);
  const ended = once(accepted, 'end');
  accepted.resume();
  await ended;
  client.destroy();
  accepted.destroy();
  server.close();
  assert.ok(installed, 'this Node lays out its sockets as socket-io.ts expects (else the proxy falls back to 64 KiB reads)');
  assert.ok(Math.max(...chunks.map((c) => c.length)) > 65536, `largest read ${Math.max(...chunks.map((c) => c.length))} bytes`);
  assert.ok(Buffer.concat(chunks).equals(payload), 'every byte, in order');
});
