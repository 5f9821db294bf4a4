// requestKey: one number for the requests of ordinary peers, text for the rest; never two requests
// with one key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestKey } from '../../src/analysis/request-tracking.js';

test('ordinary requests get a number; distinct triples at the edges of the number form get distinct keys', () => {
  const edges = {
    piece: [0, 1, 0xfffff],
    begin: [0, 16384, 0xffffc000],
    length: [0, 1, 16384, 0x7fff],
  };
  const keys = new Set<number | string>();
  let n = 0;
  for (const p of edges.piece) {
    for (const b of edges.begin) {
      for (const l of edges.length) {
        const k = requestKey(p, b, l);
        assert.equal(typeof k, 'number', `${p}:${b}:${l}`);
        assert.ok(Number.isSafeInteger(k), `${p}:${b}:${l} -> ${k}`);
        keys.add(k);
        n++;
      }
    }
  }
  assert.equal(keys.size, n);
});

test('a triple outside the number form gets its text, which no number equals', () => {
  for (const [p, b, l] of [
    [0x100000, 0, 16384],
    [3, 100, 16384],
    [3, 0x100000000, 16384],
    [3, 16384, 0x8000],
    [3, 16384, 1 << 20],
  ] as const) {
    assert.equal(requestKey(p, b, l), `${p}:${b}:${l}`);
  }
  // piece 1 begin 0 length 16384 and any text key stay apart in a Map
  const m = new Map<number | string, string>([[requestKey(1, 0, 16384), 'number'], [requestKey(1, 100, 16384), 'text']]);
  assert.equal(m.size, 2);
});
