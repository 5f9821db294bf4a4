import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeText } from '../../src/output/escape.js';

test('plain printable text is unchanged, including non-ASCII and emoji', () => {
  assert.equal(escapeText('libtorrent/2.0.9 µTorrent 😀'), 'libtorrent/2.0.9 µTorrent 😀');
});

test('C0 controls, DEL and C1 controls become \\xNN', () => {
  assert.equal(escapeText('a\x1b[31mb'), 'a\\x1b[31mb');
  assert.equal(escapeText('\x00\x07\n\r\t'), '\\x00\\x07\\x0a\\x0d\\x09');
  assert.equal(escapeText('\x7f'), '\\x7f');
  assert.equal(escapeText('\x9b2J\x85'), '\\x9b2J\\x85');
});

test('bidi overrides and isolates become \\uNNNN', () => {
  assert.equal(escapeText('a\u202eb'), 'a\\u202eb');
  for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
    assert.equal(escapeText(String.fromCharCode(c)), '\\u' + c.toString(16));
  }
});

test('lone surrogates are escaped, pairs kept', () => {
  assert.equal(escapeText('x\ud800y'), 'x\\ud800y');
  assert.equal(escapeText('\udc00'), '\\udc00');
  assert.equal(escapeText('\ud83d'), '\\ud83d');
  assert.equal(escapeText('\ud83d\ude00'), '\ud83d\ude00');
});

test('backslash is doubled so escapes cannot be forged', () => {
  assert.equal(escapeText('a\\x1b'), 'a\\\\x1b');
  assert.notEqual(escapeText('\\x1b'), escapeText('\x1b'));
});

test('no control character survives any input', () => {
  let s = '';
  for (let c = 0; c < 0x100; c++) s += String.fromCharCode(c);
  const out = escapeText(s + '\u202e\u2066\ud800');
  assert.doesNotMatch(out, /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/);
});

test('truncation to max characters with an ellipsis, never splitting an escape', () => {
  assert.equal(escapeText('abcdef', 10), 'abcdef');
  assert.equal(escapeText('abcdef', 6), 'abcdef');
  assert.equal(escapeText('abcdefg', 6), 'abcde…');
  assert.equal(escapeText('ab\x1bcd', 5), 'ab…');
  assert.equal(escapeText('ab\x1bcd', 6), 'ab…');
  assert.equal(escapeText('ab\x1bcd', 7), 'ab\\x1b…');
  assert.equal(escapeText('😀😀😀', 2), '😀…');
  assert.equal(escapeText('abc', 0), '');
  assert.equal(escapeText('abc', 1), '…');
  for (let max = 1; max < 30; max++) {
    const out = escapeText('\x1b\\é😀\u202eabc\x00def', max);
    assert.ok(Array.from(out).length <= max, `max ${max}: ${out}`);
  }
});
