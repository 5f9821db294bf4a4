import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rc4 } from '../../src/bittorrent/rc4.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('RC4 test vectors (no discard)', () => {
  // Classic vectors (Wikipedia / RFC 6229 style).
  assert.equal(hex(new Rc4(ascii('Key'), 0).copy(ascii('Plaintext'))), 'bbf316e8d940af0ad3');
  assert.equal(hex(new Rc4(ascii('Wiki'), 0).copy(ascii('pedia'))), '1021bf0420');
  assert.equal(hex(new Rc4(ascii('Secret'), 0).copy(ascii('Attack at dawn'))), '45a01f645fc35b383552544b9bf5');
});

test('RFC 6229: 40-bit key 0102030405, keystream at offset 1024 (what MSE discards)', () => {
  const key = Uint8Array.of(1, 2, 3, 4, 5);
  assert.equal(hex(new Rc4(key, 0).copy(new Uint8Array(16))), 'b2396305f03dc027ccc3524a0a1118a8');
  // RFC 6229, key 0x0102030405, DEC 1024: 30 ab bc c7 c2 0b 01 60 9f 23 ee 2d 5f 6b b7 df.
  assert.equal(hex(new Rc4(key, 1024).copy(new Uint8Array(16))), '30abbcc7c20b01609f23ee2d5f6bb7df');
});

test('streaming: any split gives the same keystream; encrypt then decrypt is identity', () => {
  const key = ascii('0123456789abcdef0123');
  const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
  const whole = new Rc4(key).copy(data);
  for (const step of [1, 2, 3, 64, 999]) {
    const r = new Rc4(key);
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += step) out.set(r.copy(data.subarray(i, i + step)), i);
    assert.equal(hex(out), hex(whole), `step ${step}`);
  }
  assert.equal(hex(new Rc4(key).copy(whole)), hex(data));
});
