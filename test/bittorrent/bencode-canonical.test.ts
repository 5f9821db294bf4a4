// canonicalDict (src/bittorrent/bencode.ts) reads a canonical dictionary in place, and the extended
// handshake decoder reads such handshakes with it instead of the `bencode` package. Both must agree
// with the package on every input: the real handshakes of every sample capture and the edge cases
// below are decoded both ways and compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { canonicalDict, decodeBencode, isDict, valueAt, type BValue } from '../../src/bittorrent/bencode.js';
import { decodeExtendedHandshake } from '../../src/bittorrent/extensions.js';
import { decodeCapture } from '../../src/inspect.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Bencoded dictionary with its entries in the order given (not sorted: the caller decides). */
function dict(entries: [string | Uint8Array, string][]): string {
  return `d${entries.map(([k, v]) => `${typeof k === 'string' ? Buffer.byteLength(k, 'latin1') : k.length}:${typeof k === 'string' ? k : Buffer.from(k).toString('latin1')}${v}`).join('')}e`;
}
const str = (s: string): string => `${Buffer.byteLength(s, 'latin1')}:${s}`;
const mOf = (n: number, id = (i: number): number => (i % 250) + 1): string =>
  dict(Array.from({ length: n }, (_, i) => [`ext_${String(i).padStart(6, '0')}`, `i${id(i)}e`]));

/** The handshakes of the edge cases: canonical ones (the fast way is taken) and others (it is not). */
const CANONICAL = [
  dict([['m', dict([['lt_donthave', 'i7e'], ['ut_metadata', 'i3e'], ['ut_pex', 'i1e']])], ['metadata_size', 'i316e'], ['p', 'i6881e'], ['reqq', 'i500e'], ['v', str('Transmission 4.0')], ['yourip', '4:\x7f\x00\x00\x01']]),
  dict([['m', mOf(300)]]),
  dict([['m', mOf(30_000)], ['v', str('x'.repeat(5000))]]),
  dict([['m', mOf(10, (i) => (i === 3 ? 300 : i === 5 ? -1 : i))]]),
  dict([['m', dict([['a', str('x')], ['b', 'le'], ['c', 'de'], ['d', 'i99999999999999999999e'], ['e', 'i0e']])]]),
  dict([['m', 'i5e']]),
  dict([['m', 'de']]),
  dict([['m', dict([['lt_donthave', 'i0e']])], ['upload_only', 'i1e'], ['v', 'i3e'], ['yourip', '5:abcde']]),
  dict([['complete_ago', 'i-1e'], ['e', 'i1e'], ['ipv4', '4:\x0a\x00\x00\x02'], ['ipv6', `16:${'\x00'.repeat(15)}\x01`], ['m', 'de'], ['v', '4:\xff\xfe\x01\x02']]),
  dict([['', 'i1e'], ['lt_x', 'l1:ai2ed1:bl1:ceee'], ['m', dict([['ut_pex', 'i1e']])], ['v', '6:caf\xc3\xa9!'], ['z', str('\u0007bell')]]),
  dict([['m', dict([['ut_pex', 'i1e']])], ['nest', 'l'.repeat(62) + 'e'.repeat(62)]]),
  dict([['m', dict([['ut_pex', 'i1e']])]]) + 'trailing',
  'de',
];

const OTHER = [
  dict([['v', str('unsorted')], ['m', dict([['ut_pex', 'i1e']])]]),
  dict([['m', dict([['ut_pex', 'i1e'], ['lt_donthave', 'i2e']])]]), // m unsorted
  dict([['m', dict([['ut_pex', 'i1e'], ['ut_pex', 'i2e']])]]), // duplicate key
  dict([['m', dict([['a', 'i1e'], ['b', 'i2e'], ['a', 'i3e']])]]),
  dict([['m', dict([['12', 'i1e'], ['ut_pex', 'i2e'], ['3', 'i3e']])]]),
  dict([['m', dict([['12', 'i1e'], ['3', 'i3e'], ['ut_pex', 'i2e']])]]), // sorted, but JS puts 3 before 12
  dict([['10', 'i1e'], ['9', 'i1e'], ['m', dict([['ut_pex', 'i2e']])]]),
  dict([['m', dict([['__proto__', 'i1e'], ['ut_pex', 'i2e']])]]),
  dict([['m', dict([['__proto__', dict([['lt_donthave', 'i3e']])]])]]),
  dict([['m', dict([[b('\xff\xfe'), 'i1e'], ['ut_pex', 'i2e']])]]), // invalid UTF-8: the package uses hex
  dict([['m', dict([[b('\x80'), 'i1e']])]]), // ... "80", an integer-like key
  dict([['m', dict([[b('\xef\xbf\xbd'), 'i1e']])]]), // a real U+FFFD: hex too
  dict([['m', dict([[b('caf\xc3\xa9'), 'i1e']])]]),
  dict([['m', dict([['ut_pex', 'i01e']])]]),
  dict([['m', dict([['ut_pex', 'i-0e']])]]),
  dict([['m', dict([['ut_pex', 'i1.5e']])]]),
  dict([['m', dict([['ut_pex', 'i+1e']])]]),
  'd01:m' + dict([]) + 'e',
  'd1:md6:ut_pexi1ee', // truncated
  'd1:md6:ut_pexi1e',
  'd1:mi1',
  'd1:v5:abc',
  'd1:a-6:e', // a negative length: the package loops for ever
  'd1:a-4:e',
  'li1ee',
  'i5e',
  '',
  'x',
  dict([['m', dict([['ut_pex', 'i1e']])], ['nest', 'l'.repeat(70) + 'e'.repeat(70)]]),
  dict([['m', dict([['ut_pex', 'i1e']])], ['s', '3.0:abc']]),
  dict([['m', dict([['ut_pex', 'i1e']])], ['s', '03:abc']]),
];

/** A decoded value with byte strings as arrays (a view and a copy compare equal). */
function plain(v: BValue): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, plain(x)]);
  return v;
}

test('canonicalDict agrees with the package: same entries, in the same order, same values, same end', () => {
  for (const text of CANONICAL) {
    const bytes = b(text);
    const read = canonicalDict(bytes, 0, Infinity);
    assert.ok(read, `not read in place: ${text.slice(0, 80)}`);
    const decoded = decodeBencode(bytes);
    assert.ok(decoded.ok && isDict(decoded.value));
    assert.equal(read.end, decoded.end);
    assert.equal(read.count, read.entries.length);
    assert.deepEqual(
      read.entries.map((e) => [e.key, plain(valueAt(bytes, e))]),
      Object.entries(decoded.value).map(([k, v]) => [k, plain(v)]),
    );
    // `keep` only limits the keys made strings.
    const cut = canonicalDict(bytes, 0, 1)!;
    assert.equal(cut.count, read.count);
    assert.equal(cut.entries.length, Math.min(1, read.count));
  }
});

test('canonicalDict refuses what it cannot read as the package does (order, duplicates, special or non-ASCII keys, bad bencode)', () => {
  for (const text of OTHER) assert.equal(canonicalMOf(b(text)), undefined, text.slice(0, 80));
});

/** The in-place reading of `m` inside a canonical top level (undefined when either is not canonical). */
function canonicalMOf(bytes: Uint8Array): unknown {
  const top = canonicalDict(bytes, 0, Infinity);
  const m = top?.entries.find((e) => e.key === 'm');
  return m === undefined ? top : canonicalDict(bytes, m.start, Infinity, 1);
}

test('extended handshakes: the in-place decoding gives what the package gives, on edge cases', () => {
  for (const text of [...CANONICAL, ...OTHER]) {
    const payload = b(text);
    assert.deepEqual(decodeExtendedHandshake(payload), decodeExtendedHandshake(payload, true), text.slice(0, 80));
  }
  // 30,000 keys: the first 256 are kept, and the rest said.
  const big = decodeExtendedHandshake(b(CANONICAL[2]!));
  assert.equal(Object.keys(big.m!).length, 256);
  assert.equal(big.fields.malformed, 'm has more than 256 entries');
});

test('a negative string length is refused instead of looping for ever in the package', () => {
  assert.deepEqual(decodeBencode(b('d1:a-6:e')), { ok: false, error: 'negative string length at offset 4' });
  assert.equal(decodeExtendedHandshake(b('d1:a-6:e')).fields.malformed, 'negative string length at offset 4');
  // A '.' ends a length as the package reads it: not negative, decoded as before.
  assert.equal(decodeBencode(b('l3.0:abce')).ok, true);
});

test('extended handshakes of every sample capture: in place and through the package, the same fields', async () => {
  const captures = [
    ...readdirSync('samples').filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => `samples/${f}`),
    ...readdirSync('samples/cut').map((f) => `samples/cut/${f}`),
  ];
  let handshakes = 0;
  let inPlace = 0;
  for (const path of captures) {
    await decodeCapture(
      path,
      (r, raw) => {
        if (!('ext' in r) || r.ext !== 'handshake' || raw === undefined || raw.length !== r.size) return;
        const payload = raw.subarray(6);
        handshakes++;
        if (canonicalMOf(payload) !== undefined) inPlace++;
        assert.deepEqual(decodeExtendedHandshake(payload), decodeExtendedHandshake(payload, true), `${path} frame ${r.frame}`);
      },
      { findings: false },
    );
  }
  assert.ok(handshakes > 50, `${handshakes} handshakes`);
  // Real clients write canonical dictionaries: nearly all take the fast way.
  assert.ok(inPlace >= handshakes * 0.9, `${inPlace} of ${handshakes} read in place`);
});
