// The one bencode decoder (src/bittorrent/bencode.ts) as .torrent files use it: strict, every problem
// a one-line error with its offset, and the exact bytes of each top-level value (the info hash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBencode, dictionarySpans } from '../../src/bittorrent/bencode.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

test('strict: trailing bytes, non-canonical integers and lengths, non-string keys are errors with their offset', () => {
  assert.deepEqual(decodeBencode(b('i5e'), { strict: true }), { ok: true, value: 5, end: 3 });
  assert.match((decodeBencode(b('i5ex'), { strict: true }) as { error: string }).error, /trailing bytes .* offset 3/);
  assert.match((decodeBencode(b('i05e'), { strict: true }) as { error: string }).error, /bad integer at offset 0/);
  assert.match((decodeBencode(b('i-0e'), { strict: true }) as { error: string }).error, /bad integer/);
  assert.match((decodeBencode(b('l03:abce'), { strict: true }) as { error: string }).error, /bad string length at offset 1/);
  assert.match((decodeBencode(b('di1ei2ee'), { strict: true }) as { error: string }).error, /key is not a string at offset 1/);
  assert.match((decodeBencode(b('4:ab'), { strict: true }) as { error: string }).error, /runs past the end/);
  assert.match((decodeBencode(b('l'.repeat(65) + 'e'.repeat(65)), { strict: true }) as { error: string }).error, /nested deeper than 64/);
});

test('peer data (not strict): trailing bytes are the caller\'s; the package names other problems as before', () => {
  assert.deepEqual(decodeBencode(b('i5exyz')), { ok: true, value: 5, end: 3 });
  assert.match((decodeBencode(b('x')) as { error: string }).error, /^bad bencode/);
  assert.match((decodeBencode(b('l'.repeat(100))) as { error: string }).error, /nested deeper than 64/);
});

test('dictionarySpans: where each value lies, for hashing its exact bytes', () => {
  const bytes = b('d8:announce3:url4:infod4:name1:aee');
  const spans = dictionarySpans(bytes)!;
  assert.deepEqual(spans.get('announce'), [11, 16]);
  assert.equal(Buffer.from(bytes.subarray(...spans.get('info')!)).toString('latin1'), 'd4:name1:ae');
  assert.equal(dictionarySpans(b('l1:ae')), undefined);
  assert.equal(dictionarySpans(b('d4:info')), undefined);
});
