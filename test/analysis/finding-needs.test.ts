// Issue 18: each finding is judged only on what the capture saw, direction by direction
// (src/analysis/finding-needs.ts). A gap in the direction a finding needs (before its message)
// keeps it from being raised and is counted, with the reason, in the connection's `unjudged`
// record; a gap in a direction it does not need changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FINDING_NEEDS } from '../../src/analysis/finding-needs.js';
import { FINDING_CODES } from '../../src/analysis/findings.js';
import type { EventRecord } from '../../src/model/record.js';
import { A, B, Script, codes, u32 } from './script.js';
import { benc } from './bencode-encode.js';

/** A gap (or resync) event in the direction `from` sends. */
function lose(s: Script, from: 'A' | 'B', event: 'gap' | 'resync' = 'gap'): void {
  const [src, dst] = from === 'A' ? [A, B] : [B, A];
  s.analyzer.record({ ts: (s.ts += 0.001), conn: s.conn, transport: 'tcp', src, dst, event, bytes: 89 });
}

function unjudged(fs: readonly EventRecord[]): EventRecord['unjudged'] {
  return fs.find((r) => r.event === 'unjudged')?.unjudged;
}

function started(): Script {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { upload_only: 3, lt_donthave: 7 });
  return s;
}

test('every finding code says what it needs, and docs/findings.md says it in its row', () => {
  const doc = readFileSync('docs/findings.md', 'utf8');
  for (const code of FINDING_CODES) {
    const needs = FINDING_NEEDS[code];
    assert.ok(needs.seen.length > 0, code);
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(row !== undefined, `${code}: no row in docs/findings.md`);
    assert.ok(row.includes(needs.seen), `${code}: its row does not say what it needs: "${needs.seen}"`);
  }
});

test("ext-before-handshake: the receiver's direction lost bytes before the message (the issue's case): not raised, counted", () => {
  const s = started();
  lose(s, 'B'); // B's extended handshake was in the 89 bytes the capture never saw
  assert.deepEqual(codes(s.ext('A', 3, null, Uint8Array.of(1))), []);
  const end = s.finish();
  assert.deepEqual(unjudged(end), { 'ext-before-handshake': { 'receiver-lost-bytes': 1 } });
  assert.match(end.find((r) => r.event === 'unjudged')!.message!, /1 finding\(s\) not judged.*ext-before-handshake 1 \(the receiver's direction lost bytes before the message\)/);
});

test("ext-before-handshake: a gap in the sender's own direction does not matter; it is still raised", () => {
  const s = started();
  lose(s, 'A');
  assert.deepEqual(codes(s.ext('A', 3, null, Uint8Array.of(1))), ['ext-before-handshake']);
  assert.equal(unjudged(s.finish()), undefined);
});

test("a resync flag on the receiver's messages marks its direction too", () => {
  const s = started();
  s.send('B', { msg: 'unchoke', resync: true });
  assert.deepEqual(codes(s.ext('A', 3, null, Uint8Array.of(1))), []);
  assert.deepEqual(unjudged(s.finish()), { 'ext-before-handshake': { 'receiver-lost-bytes': 1 } });
});

test("donthave-not-announced and -redundant need the sender's history, not the receiver's", () => {
  const s = started();
  s.extHandshake('B', { lt_donthave: 1 });
  lose(s, 'B');
  // A never announced piece 3: a gap in B's direction does not hide A's own haves.
  assert.deepEqual(codes(s.donthave('A', 1, 3)), ['donthave-not-announced']);
  lose(s, 'A');
  // A's have for piece 4 may have been in the bytes A's direction lost.
  assert.deepEqual(codes(s.donthave('A', 1, 4)), []);
  assert.deepEqual(codes(s.donthave('A', 1, 4)), []);
  assert.deepEqual(unjudged(s.finish()), { 'donthave-not-announced': { 'sender-lost-bytes': 1 }, 'donthave-redundant': { 'sender-lost-bytes': 1 } });
});

test("request-after-donthave needs the receiver's direction (its have may be lost)", () => {
  const s = started();
  s.extHandshake('B', { lt_donthave: 1 });
  s.send('B', { msg: 'have_all' });
  s.donthave('B', 7, 5);
  lose(s, 'B');
  assert.deepEqual(codes(s.send('A', { msg: 'request', piece: 5, begin: 0, length: 16384 })), []);
  const end = s.finish();
  assert.deepEqual(unjudged(end)?.['request-after-donthave'], { 'receiver-lost-bytes': 1 });
});

test("ext-id-own-mapping needs both directions; ext-unknown-id only the receiver's", () => {
  const s = started();
  s.extHandshake('B', { ut_pex: 7, ut_metadata: 2 });
  lose(s, 'A');
  // id 3 is A's upload_only; B's mapping has no id 3: the direction bug, but A's mapping may have changed.
  assert.deepEqual(codes(s.ext('A', 3, null, Uint8Array.of(1))), []);
  assert.deepEqual(codes(s.ext('A', 9, null, Uint8Array.of(1))), ['ext-unknown-id']);
  assert.deepEqual(unjudged(s.finish()), { 'ext-id-own-mapping': { 'sender-lost-bytes': 1 } });
});

test('an unrequested metadata piece needs both directions (the requests are read through the sender\'s mapping)', () => {
  const s = started();
  s.extHandshake('A', { ut_metadata: 2 });
  s.extHandshake('B', { ut_metadata: 2 }, { metadata_size: 20000 });
  const piece = (): EventRecord[] => s.ext('B', 2, 'ut_metadata', benc({ msg_type: 1, piece: 0, total_size: 20000 }), { msg_type: 1, piece: 0, total_size: 20000, trailing: 16384 });
  // B lost bytes: A's requests are named through B's mapping, which those bytes may have changed.
  lose(s, 'B');
  assert.deepEqual(codes(piece()), []);
  assert.deepEqual(unjudged(s.finish())?.['metadata-piece-size'], { 'sender-lost-bytes': 1 });
  // Nothing lost: the same piece nobody asked for is an error.
  const t = started();
  t.extHandshake('A', { ut_metadata: 2 });
  t.extHandshake('B', { ut_metadata: 2 }, { metadata_size: 20000 });
  assert.deepEqual(codes(t.ext('B', 2, 'ut_metadata', benc({ msg_type: 1, piece: 0, total_size: 20000 }), { msg_type: 1, piece: 0, total_size: 20000, trailing: 16384 })), ['metadata-piece-size']);
});

test('fast-not-negotiated needs both handshakes: without the receiver\'s it is counted as not judged', () => {
  const s = new Script();
  s.send('A', { msg: 'handshake', infoHash: '0123456789abcdef0123456789abcdef01234567', extensions: [] });
  assert.deepEqual(codes(s.send('A', { msg: 'have_all' })), []);
  assert.deepEqual(unjudged(s.finish()), { 'fast-not-negotiated': { 'start-not-captured': 1 } });
});

test('request-unanswered: a request sent before bytes were lost may have been answered in them', () => {
  const s = started();
  s.extHandshake('B', { lt_donthave: 1 });
  s.send('A', { msg: 'request', piece: 1, begin: 0, length: 16384 });
  lose(s, 'B');
  s.send('A', { msg: 'request', piece: 2, begin: 0, length: 16384 });
  const end = s.finish();
  const f = end.filter((r) => r.event === 'finding');
  assert.deepEqual(codes(f), ['request-unanswered']);
  assert.match(f[0]!.message!, /^1 request\(s\) .* the first: piece 2 /);
  assert.deepEqual(unjudged(end), { 'request-unanswered': { 'lost-bytes-after': 1 } });
});

test('a connection with nothing left unjudged gets no unjudged record', () => {
  const s = started();
  s.extHandshake('B', { lt_donthave: 1 });
  lose(s, 'B');
  s.send('A', { msg: 'interested' });
  assert.equal(unjudged(s.finish()), undefined);
});
