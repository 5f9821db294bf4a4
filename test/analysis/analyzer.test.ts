// Every finding code on synthetic conversations: the right code, at the right message, with an
// explanation naming the evidence; and the same traffic done right produces nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseTorrent } from '../../src/analysis/torrent.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { merkleRoot } from '../../src/analysis/piece-verification.js';
import { FINDING_CODES, FINDING_SEVERITY } from '../../src/analysis/findings.js';
import { A, B, HASH, Script, codes, frame, pieceRaw, u32 } from './script.js';
import { benc } from './bencode-encode.js';
import { v2Torrent } from './v2-torrent.js';

const PL = 32768;

/** A v1 torrent over `data` in pieces of PL bytes. */
function v1Torrent(data: Uint8Array) {
  const hashes: Buffer[] = [];
  for (let i = 0; i < data.length; i += PL) hashes.push(createHash('sha1').update(data.subarray(i, i + PL)).digest());
  const info = { length: data.length, name: 'x.bin', 'piece length': PL, pieces: Buffer.concat(hashes) };
  return { info: parseTorrent(benc({ announce: 'http://t/a', info })), infoBytes: benc(info) };
}

function bytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/** Connection with both handshakes and extended handshakes (A: lt_donthave 3; B: lt_donthave 1). */
function connected(opts: { fast?: boolean; infoHash?: string; torrent?: ReturnType<typeof v1Torrent> } = {}): Script {
  const s = new Script({ torrent: opts.torrent?.info });
  s.handshakes({ fastA: opts.fast, fastB: opts.fast, infoHash: opts.infoHash ?? opts.torrent?.info.infoHashV1 });
  s.extHandshake('A', { ut_pex: 1, ut_metadata: 2, lt_donthave: 3 });
  s.extHandshake('B', { lt_donthave: 1, ut_metadata: 2 });
  return s;
}

test('every finding code has a severity and is documented in docs/findings.md', async () => {
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile('docs/findings.md', 'utf8');
  for (const code of FINDING_CODES) {
    assert.ok(['error', 'warning', 'info'].includes(FINDING_SEVERITY[code]));
    assert.ok(doc.includes(`\`${code}\``), `${code} not documented`);
  }
});

test('records pass through unchanged and in order; a clean exchange produces no finding', () => {
  const s = connected({ fast: true });
  assert.deepEqual(codes(s.send('B', { msg: 'bitfield', bits: 16, set: 16 }, frame(5, Uint8Array.of(0xff, 0xff)))), []);
  assert.deepEqual(codes(s.send('B', { msg: 'unchoke' })), []);
  assert.deepEqual(codes(s.send('A', { msg: 'interested' })), []);
  assert.deepEqual(codes(s.send('A', { msg: 'request', piece: 3, begin: 0, length: 16384 })), []);
  assert.deepEqual(codes(s.donthave('B', 3, 3)), []);
  assert.deepEqual(codes(s.send('B', { msg: 'reject_request', piece: 3, begin: 0, length: 16384 })), ['requests-dropped-by-donthave']);
  assert.deepEqual(codes(s.send('B', { msg: 'have', piece: 3 })), []);
  assert.deepEqual(codes(s.send('A', { msg: 'request', piece: 3, begin: 0, length: 16384 })), []);
  assert.deepEqual(codes(s.send('B', { msg: 'piece', piece: 3, begin: 0, length: 16384 })), []);
  assert.deepEqual(codes(s.finish()), []);
  assert.deepEqual(s.analyzer.counts(), { error: 0, warning: 0, info: 1 });
});

test('ext-id-own-mapping: lt_donthave sent with the sender\'s own id, read as ut_pex by the receiver; names both mappings', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 1 });
  s.extHandshake('B', { ut_pex: 1, lt_donthave: 3 });
  const f = s.ext('A', 1, 'ut_pex', u32(7));
  assert.deepEqual(codes(f), ['ext-id-own-mapping']);
  const m = f[0]!.message!;
  assert.match(m, /id 1 is ut_pex in the receiver's mapping \(ut_pex 1, lt_donthave 3\) but lt_donthave in the sender's own \(lt_donthave 1\): the sender used its own id/);
  assert.match(m, /most likely lt_donthave/);
  assert.equal(f[0]!.severity, 'error');
  assert.equal(f[0]!.src, A);
  assert.equal(f[0]!.dst, B);
  // the right id (3) is fine, and a genuine ut_pex dict with id 1 is fine too
  assert.deepEqual(codes(s.donthave('A', 3, 7)), ['donthave-not-announced']);
  assert.deepEqual(codes(s.ext('A', 1, 'ut_pex', benc({ added: new Uint8Array(0) }))), []);
});

test('ext-id-own-mapping: ut_metadata 1 of a client meeting a receiver with ut_metadata 2 (id unknown to the receiver)', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { ut_metadata: 1 });
  s.extHandshake('B', { ut_metadata: 2, ut_pex: 3 });
  const f = s.ext('A', 1, null, benc({ msg_type: 0, piece: 0 }));
  assert.deepEqual(codes(f), ['ext-id-own-mapping']);
  assert.match(f[0]!.message!, /id 1 is not in the receiver's mapping \(ut_metadata 2, ut_pex 3\) but ut_metadata in the sender's own \(ut_metadata 1\)/);
  assert.match(f[0]!.message!, /receiver's id for ut_metadata is 2/);
});

test('ext-unknown-id and ext-before-handshake', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 3 });
  const early = s.ext('A', 3, null, u32(1));
  assert.deepEqual(codes(early), ['ext-before-handshake']);
  assert.match(early[0]!.message!, /id 3 is lt_donthave in the sender's own mapping/);
  s.extHandshake('B', { lt_donthave: 1 });
  const f = s.ext('A', 9, null, u32(1));
  assert.deepEqual(codes(f), ['ext-unknown-id']);
  assert.match(f[0]!.message!, /id 9 is not in the receiver's mapping \(lt_donthave 1\)/);
});

test('a later extended handshake changes the mapping in force; 0 disables', () => {
  const s = connected();
  assert.deepEqual(codes(s.extHandshake('B', { lt_donthave: 0, ut_metadata: 2 })), []);
  const f = s.ext('A', 1, null, u32(1));
  // id 1 is gone from B's mapping; A's own id 1 is ut_pex, which a 4-byte payload does not fit
  assert.deepEqual(codes(f), ['ext-unknown-id']);
  s.extHandshake('B', { lt_donthave: 5 });
  assert.deepEqual(codes(s.ext('A', 5, 'lt_donthave', u32(1), { piece: 1 })), ['donthave-not-announced']);
});

test('donthave-unsupported: lt_donthave (sender\'s id) to a peer that does not list it', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 3 });
  s.extHandshake('B', { ut_metadata: 1 });
  const f = s.ext('A', 3, null, u32(4));
  assert.deepEqual(codes(f), ['ext-id-own-mapping', 'donthave-unsupported']);
  assert.match(f[1]!.message!, /does not list lt_donthave \(ut_metadata 1\)/);
});

test('donthave-malformed: 5-byte payload', () => {
  const s = connected();
  const f = s.ext('A', 1, 'lt_donthave', Uint8Array.of(0, 0, 0, 1, 0), { malformed: 'lt_donthave payload is 5 bytes, not 4' });
  assert.deepEqual(codes(f), ['donthave-malformed']);
  assert.match(f[0]!.message!, /5 bytes/);
});

test('donthave-out-of-range: with the torrent\'s piece count, and bounded by a bitfield without it', () => {
  const t = v1Torrent(bytes(PL * 3));
  const s = connected({ torrent: t });
  s.send('A', { msg: 'have_none' });
  const f = s.donthave('A', 1, 3);
  assert.deepEqual(codes(f), ['donthave-out-of-range']);
  assert.match(f[0]!.message!, /piece 3, beyond the 3 pieces known from the torrent file/);
  assert.equal(f[0]!.piece, 3);

  const u = connected();
  u.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)));
  assert.deepEqual(codes(u.donthave('A', 1, 9999)), ['donthave-out-of-range']);
  assert.deepEqual(codes(u.donthave('A', 1, 7)), []);
});

test('donthave-not-announced and donthave-redundant; have in between makes a second donthave normal', () => {
  const s = connected();
  s.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xf0, 0x00)));
  assert.deepEqual(codes(s.donthave('A', 1, 9)), ['donthave-not-announced']);
  assert.deepEqual(codes(s.donthave('A', 1, 2)), []);
  const again = s.donthave('A', 1, 2);
  assert.deepEqual(codes(again), ['donthave-redundant']);
  assert.equal(again[0]!.severity, 'info');
  s.send('A', { msg: 'have', piece: 2 });
  assert.deepEqual(codes(s.donthave('A', 1, 2)), []);
});

test('request-after-donthave, cleared by a new have', () => {
  const s = connected();
  s.send('B', { msg: 'have_all' });
  s.donthave('B', 3, 5);
  const f = s.send('A', { msg: 'request', piece: 5, begin: 0, length: 16384 });
  assert.deepEqual(codes(f), ['request-after-donthave']);
  assert.equal(f[0]!.severity, 'warning');
  s.send('B', { msg: 'have', piece: 5 });
  assert.deepEqual(codes(s.send('A', { msg: 'request', piece: 5, begin: 16384, length: 16384 })), []);
});

test('requests-dropped-by-donthave without fast: reported at the donthave, never answered', () => {
  const s = connected();
  s.send('B', { msg: 'have_all' });
  s.send('A', { msg: 'request', piece: 4, begin: 0, length: 16384 });
  s.send('A', { msg: 'request', piece: 4, begin: 16384, length: 16384 });
  s.send('A', { msg: 'request', piece: 6, begin: 0, length: 16384 });
  const dh = s.donthave('B', 3, 4);
  assert.deepEqual(codes(dh), []);
  s.send('B', { msg: 'piece', piece: 6, begin: 0, length: 16384 });
  const end = s.finish();
  assert.deepEqual(codes(end), ['requests-dropped-by-donthave']);
  assert.match(end[0]!.message!, /2 request\(s\) for piece 4 \(begin 0, 16384\).*no fast extension.*2 never answered/);
  assert.equal(end[0]!.src, B);
  assert.equal(end[0]!.ts, s.out.find((r) => 'msg' in r && r.msg === 'extended' && r.piece === 4)!.ts);
});

test('requests-dropped-by-donthave with fast: emitted once every request got its reject', () => {
  const s = connected({ fast: true });
  s.send('B', { msg: 'have_all' });
  s.send('A', { msg: 'request', piece: 4, begin: 0, length: 16384 });
  s.send('A', { msg: 'request', piece: 4, begin: 16384, length: 16384 });
  s.donthave('B', 3, 4);
  assert.deepEqual(codes(s.send('B', { msg: 'reject_request', piece: 4, begin: 0, length: 16384 })), []);
  const f = s.send('B', { msg: 'reject_request', piece: 4, begin: 16384, length: 16384 });
  assert.deepEqual(codes(f), ['requests-dropped-by-donthave']);
  assert.match(f[0]!.message!, /fast extension on, so BEP 54 expects a reject_request for each: 2 rejected/);
  assert.deepEqual(codes(s.finish()), []);
});

test('fast-not-negotiated names who lacks the bit', () => {
  const s = new Script();
  s.handshakes({ fastA: true, fastB: false });
  const f = s.send('A', { msg: 'have_all' });
  assert.deepEqual(codes(f), ['fast-not-negotiated']);
  assert.match(f[0]!.message!, new RegExp(`have_all .*receiver ${B} did not set the fast bit`));
  assert.deepEqual(codes(s.send('B', { msg: 'reject_request', piece: 1, begin: 0, length: 16384 })), ['fast-not-negotiated']);
  const ok = new Script();
  ok.handshakes({ fastA: true, fastB: true });
  assert.deepEqual(codes(ok.send('A', { msg: 'have_all' })), []);
  assert.deepEqual(codes(ok.send('A', { msg: 'allowed_fast', piece: 1 })), []);
});

test('bitfield-not-first: a have_all or have_none that is not first (BEP 6: exactly one of the three, right after the handshake)', () => {
  for (const late of ['have_all', 'have_none'] as const) {
    const s = new Script();
    s.handshakes({ fastA: true, fastB: true });
    assert.deepEqual(codes(s.send('A', { msg: 'have_none' })), []);
    s.send('A', { msg: 'interested' });
    const f = s.send('A', { msg: late });
    assert.deepEqual(codes(f), ['bitfield-not-first'], late);
    assert.match(f[0]!.message!, new RegExp(`^${late} from ${A.replace(/\./g, '\\.')} after its earlier have_none: BEP 6 allows exactly one of bitfield, have_all or have_none`));
  }
  // without the fast extension a late have_all is wrong anyway: one finding, fast-not-negotiated
  const nofast = new Script();
  nofast.handshakes({ fastA: true, fastB: false });
  nofast.send('A', { msg: 'have', piece: 0 });
  assert.deepEqual(codes(nofast.send('A', { msg: 'have_all' })), ['fast-not-negotiated']);
  // first after the extended handshake and allowed_fast: no finding
  const ok = new Script();
  ok.handshakes({ fastA: true, fastB: true });
  ok.extHandshake('A', { lt_donthave: 1 });
  ok.send('A', { msg: 'allowed_fast', piece: 1 });
  assert.deepEqual(codes(ok.send('A', { msg: 'have_all' })), []);
});

test('bitfield-bad-length, bitfield-spare-bits, bitfield-not-first', () => {
  const t = v1Torrent(bytes(PL * 10));
  const s = connected({ torrent: t });
  const bad = s.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)));
  assert.deepEqual(codes(bad), ['bitfield-bad-length']);
  assert.match(bad[0]!.message!, /1 bytes for 10 pieces.*exactly 2 bytes/);
  const spare = s.send('B', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff, 0xe0)));
  assert.deepEqual(codes(spare), ['bitfield-spare-bits']);
  assert.match(spare[0]!.message!, /0xe0: 6 spare bit\(s\) after piece 9/);
  const u = connected({ torrent: t });
  u.send('A', { msg: 'have', piece: 1 });
  const late = u.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff, 0xc0)));
  assert.deepEqual(codes(late), ['bitfield-not-first']);
  const ok = connected({ torrent: t });
  assert.deepEqual(codes(ok.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff, 0xc0)))), []);
});

test('piece-out-of-range and block-too-large (naming the client)', () => {
  const t = v1Torrent(bytes(PL * 2));
  const s = connected({ torrent: t });
  assert.deepEqual(codes(s.send('B', { msg: 'have', piece: 2 })), ['piece-out-of-range']);
  const big = s.send('A', { msg: 'request', piece: 0, begin: 0, length: 32768 });
  assert.deepEqual(codes(big), ['block-too-large']);
  assert.match(big[0]!.message!, /32768 bytes .*client TestClient 1\.0/);
});

test('hash-mismatch: v1 SHA-1 once all blocks of a piece are in the capture', () => {
  const data = bytes(PL * 2);
  const t = v1Torrent(data);
  const s = connected({ torrent: t });
  s.send('B', { msg: 'piece', piece: 0, begin: 16384, length: 16384 }, pieceRaw(0, 16384, data.subarray(16384, PL)));
  assert.deepEqual(codes(s.send('B', { msg: 'piece', piece: 0, begin: 0, length: 16384 }, pieceRaw(0, 0, data.subarray(0, 16384)))), []);
  const wrong = data.slice(PL, PL * 2);
  wrong[100] = (wrong[100] ?? 0) ^ 1;
  s.send('B', { msg: 'piece', piece: 1, begin: 0, length: 16384 }, pieceRaw(1, 0, wrong.subarray(0, 16384)));
  const f = s.send('B', { msg: 'piece', piece: 1, begin: 16384, length: 16384 }, pieceRaw(1, 16384, wrong.subarray(16384)));
  assert.deepEqual(codes(f), ['hash-mismatch']);
  assert.match(f[0]!.message!, /piece 1 .*SHA-1 [0-9a-f]{40}, the torrent says [0-9a-f]{40}/);
});

test('ut_metadata: metadata-total-size, metadata-piece-size (size and unrequested), metadata-rejected, metadata-hash-mismatch', () => {
  const meta = bytes(16384 + 100);
  const s = connected({ infoHash: createHash('sha1').update(meta).digest('hex') });
  s.extHandshake('A', { ut_metadata: 2 }, { metadata_size: meta.length });
  const utm = (from: 'A' | 'B', id: number, dict: Record<string, number>, data: Uint8Array = new Uint8Array(0)) =>
    s.ext(from, id, 'ut_metadata', Uint8Array.from([...benc(dict), ...data]), { msg_type: dict.msg_type, index: dict.piece, total_size: dict.total_size, trailing: data.length } as never);
  // B asks for piece 0 and 1 (A's ut_metadata id is 2), A answers
  assert.deepEqual(codes(utm('B', 2, { msg_type: 0, piece: 0 })), []);
  assert.deepEqual(codes(utm('A', 2, { msg_type: 1, piece: 0, total_size: meta.length }, meta.subarray(0, 16384))), []);
  const unrequested = utm('A', 2, { msg_type: 1, piece: 1, total_size: meta.length }, meta.subarray(16384));
  assert.deepEqual(codes(unrequested), ['metadata-piece-size']);
  assert.match(unrequested[0]!.message!, /never requested/);
  utm('B', 2, { msg_type: 0, piece: 1 });
  const total = utm('A', 2, { msg_type: 1, piece: 1, total_size: 99999 }, meta.subarray(16384));
  assert.deepEqual(codes(total), ['metadata-total-size']);
  assert.match(total[0]!.message!, /total_size 99999 .*metadata_size 16484/);
  utm('B', 2, { msg_type: 0, piece: 0 });
  const short = utm('A', 2, { msg_type: 1, piece: 0, total_size: meta.length }, meta.subarray(0, 1000));
  assert.deepEqual(codes(short), ['metadata-piece-size']);
  assert.match(short[0]!.message!, /carries 1000 bytes: a piece other than the last must be 16384 bytes/);
  const rej = utm('A', 2, { msg_type: 2, piece: 0 });
  assert.deepEqual(codes(rej), ['metadata-rejected']);
  assert.deepEqual(codes(utm('A', 2, { msg_type: 2, piece: 1 })), []);

  const h = connected({ infoHash: HASH });
  h.extHandshake('A', { ut_metadata: 2 }, { metadata_size: 100 });
  h.ext('B', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never);
  const data = bytes(100);
  const f = h.ext('A', 2, 'ut_metadata', Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: 100 }), ...data]), { msg_type: 1, index: 0, total_size: 100, trailing: 100 } as never);
  assert.deepEqual(codes(f), ['metadata-hash-mismatch']);
  assert.match(f[0]!.message!, new RegExp(`not the handshake's info hash ${HASH}`));
});

test('metadata fetched with ut_metadata gives the piece count: an earlier bitfield is judged then', () => {
  const t = v1Torrent(bytes(PL * 10));
  const s = connected({ infoHash: t.info.infoHashV1 });
  const size = t.infoBytes.length;
  s.extHandshake('A', { ut_metadata: 2 }, { metadata_size: size });
  s.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff, 0xff, 0xff)));
  s.ext('B', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never);
  const f = s.ext('A', 2, 'ut_metadata', Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: size }), ...t.infoBytes]), { msg_type: 1, index: 0, total_size: size, trailing: size } as never);
  assert.deepEqual(codes(f), ['bitfield-bad-length']);
  assert.match(f[0]!.message!, /3 bytes for 10 pieces \(from the metadata fetched with ut_metadata\)/);
  assert.equal(f[0]!.ts, s.out.find((r) => 'msg' in r && r.msg === 'bitfield')!.ts);
  assert.deepEqual(codes(s.donthave('A', 1, 10)), ['donthave-out-of-range']);
});

test('request-unanswered at the end; a choke without fast drops requests silently', () => {
  const s = connected();
  s.send('B', { msg: 'have_all' });
  s.send('A', { msg: 'request', piece: 1, begin: 0, length: 16384 });
  s.send('A', { msg: 'request', piece: 2, begin: 0, length: 16384 });
  const end = s.finish();
  assert.deepEqual(codes(end), ['request-unanswered']);
  assert.match(end[0]!.message!, /2 request\(s\) from 10\.0\.0\.1:40000 .*first: piece 1 begin 0/);
  const c = connected();
  c.send('A', { msg: 'request', piece: 1, begin: 0, length: 16384 });
  c.send('B', { msg: 'choke' });
  assert.deepEqual(codes(c.finish()), []);
});

test('requests are matched to their piece exactly, whether 16 KiB at a block boundary or not, and stay in the order sent', () => {
  const s = connected();
  s.send('B', { msg: 'have_all' });
  const sent = [
    { piece: 3, begin: 100, length: 500 },
    { piece: 1, begin: 16384, length: 16384 },
    { piece: 1, begin: 0, length: 16384 },
    { piece: 2, begin: 16384, length: 1000 },
    { piece: 4294967295, begin: 4294950912, length: 16384 },
  ];
  for (const r of sent) s.send('A', { msg: 'request', ...r });
  // Answers that match no request (a neighbour's begin or length) settle nothing.
  s.send('B', { msg: 'piece', piece: 1, begin: 16384, length: 1000 });
  s.send('B', { msg: 'piece', piece: 3, begin: 0, length: 500 });
  s.send('B', { msg: 'piece', piece: 2, begin: 16384, length: 16384 });
  s.send('B', { msg: 'piece', piece: 1, begin: 0, length: 16384 });
  s.send('B', { msg: 'piece', piece: 4294967295, begin: 4294950912, length: 16384 });
  const end = s.finish();
  assert.deepEqual(codes(end), ['request-unanswered']);
  assert.match(end[0]!.message!, /^3 request\(s\) .*first: piece 3 begin 100 length 500$/);
  const all = connected();
  all.send('B', { msg: 'have_all' });
  for (const r of sent) all.send('A', { msg: 'request', ...r });
  for (const r of sent) all.send('B', { msg: 'piece', ...r });
  assert.deepEqual(codes(all.finish()), []);
});

test('torrent-unmatched when no handshake carries the torrent\'s info hash', () => {
  const t = v1Torrent(bytes(PL));
  const s = connected({ infoHash: HASH, torrent: t });
  const end = s.finish();
  assert.deepEqual(codes(end), ['torrent-unmatched']);
  assert.match(end[0]!.message!, new RegExp(t.info.infoHashV1));
  assert.deepEqual(codes(connected({ torrent: t }).finish()), []);
});

test('forget (the proxy, a connection over): its unanswered requests are reported then, and finish() does not repeat them', () => {
  const t = v1Torrent(bytes(PL));
  const s = connected({ infoHash: HASH, torrent: t });
  s.send('B', { msg: 'have_all' });
  s.send('A', { msg: 'request', piece: 1, begin: 0, length: 16384 });
  const before = s.out.length;
  s.analyzer.forget(1);
  const atClose = s.out.slice(before) as Parameters<typeof codes>[0];
  assert.deepEqual(codes(atClose), ['request-unanswered']);
  // Its state is gone, but it still counts for the torrent check at the end.
  const end = s.finish();
  assert.deepEqual(codes(end), ['torrent-unmatched']);
  assert.match(end[0]!.message!, /no handshake of the 1 connection\(s\) seen/);
  s.analyzer.forget(1);
  assert.equal(s.out.length, before + 2);
});

test('after a gap, history-based findings are off (no false not-announced/redundant)', () => {
  const s = connected();
  s.event({ event: 'gap', bytes: 5000 });
  assert.deepEqual(codes(s.donthave('A', 1, 3)), []);
  assert.deepEqual(codes(s.donthave('A', 1, 3)), []);
});

test('a capture that starts mid-connection (no handshakes) gives no state findings', () => {
  const s = new Script();
  assert.deepEqual(codes(s.send('A', { msg: 'have_all' })), []);
  assert.deepEqual(codes(s.donthave('A', 1, 3)), []);
  assert.deepEqual(codes(s.ext('A', 7, null, u32(1))), []);
});

test('torrent-unmatched is not claimed when a connection\'s info hash was never seen (encrypted)', () => {
  const t = v1Torrent(bytes(PL));
  const s = new Script({ torrent: t.info });
  s.event({ event: 'encrypted' });
  assert.deepEqual(codes(s.finish()), []);
});

// ---- gaps filled: negatives and variants of the codes above, and regressions ---------------------

test('ext-unknown-id says what the sender\'s own mapping has at that id when the payload does not fit it', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { ut_pex: 1, lt_donthave: 3 });
  s.extHandshake('B', { lt_donthave: 2 });
  const f = s.ext('A', 1, null, u32(1));
  assert.deepEqual(codes(f), ['ext-unknown-id']);
  assert.match(f[0]!.message!, /id 1 is not in the receiver's mapping \(lt_donthave 2\) and in the sender's own \(ut_pex 1, lt_donthave 3\) it is ut_pex, which its 4-byte payload does not fit either/);
  assert.doesNotMatch(f[0]!.message!, /nor in the sender's/);
  // nothing at that id on either side
  const g = s.ext('A', 7, null, u32(1));
  assert.deepEqual(codes(g), ['ext-unknown-id']);
  assert.match(g[0]!.message!, /id 7 is not in the receiver's mapping \(lt_donthave 2\) nor in the sender's \(ut_pex 1, lt_donthave 3\)/);
});

test('ext-id-own-mapping is not claimed when the receiver\'s name for the id fits the payload, or the shape is unknown', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { ut_pex: 2, ut_metadata: 1, ut_comment: 4 });
  s.extHandshake('B', { ut_metadata: 2, lt_donthave: 4 });
  // id 2: ut_metadata for B, ut_pex for A; a genuine ut_metadata request fits the receiver's name
  assert.deepEqual(codes(s.ext('A', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never)), []);
  // id 4: lt_donthave for B, ut_comment (shape unknown) for A: read as the receiver says
  assert.deepEqual(codes(s.ext('A', 4, 'lt_donthave', u32(0), { piece: 0 })), ['donthave-not-announced']);
});

test('a handshake giving an id to another name: the id names the new one, as in the timeline (no false ext-id-own-mapping)', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 1 });
  s.extHandshake('B', { ut_pex: 1, lt_donthave: 3 });
  s.extHandshake('B', { lt_donthave: 1 });
  s.send('A', { msg: 'have_none' });
  s.send('A', { msg: 'have', piece: 1 });
  // the decoder names id 1 lt_donthave now (the latest name given that id)
  assert.deepEqual(codes(s.ext('A', 1, 'lt_donthave', u32(1), { piece: 1 })), []);
  const f = s.ext('A', 3, null, u32(1));
  assert.deepEqual(codes(f), ['ext-unknown-id']);
  assert.match(f[0]!.message!, /id 3 is not in the receiver's mapping \(lt_donthave 1\)/);
});

test('an id the receiver disabled or moved, equal to the sender\'s own: a stale id, not the direction bug', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 1, ut_pex: 2 });
  s.extHandshake('B', { lt_donthave: 1, ut_pex: 2 });
  s.extHandshake('B', { lt_donthave: 0 });
  const f = s.ext('A', 1, null, u32(1));
  assert.deepEqual(codes(f), ['ext-unknown-id', 'donthave-unsupported']);
  assert.match(f[0]!.message!, new RegExp(`id 1 is not in the receiver's mapping \\(ut_pex 2\\); it was lt_donthave there until a later extended handshake of ${B.replace(/\./g, '\\.')} disabled lt_donthave: the sender used the receiver's old id`));
  s.extHandshake('B', { ut_pex: 5 });
  const g = s.ext('A', 2, null, benc({ added: new Uint8Array(0) }));
  assert.deepEqual(codes(g), ['ext-unknown-id']);
  assert.match(g[0]!.message!, /it was ut_pex there until a later extended handshake of .* moved ut_pex to id 5/);
  // the direction bug proper is still caught once ids differ
  const d = new Script();
  d.handshakes();
  d.extHandshake('A', { lt_donthave: 1 });
  d.extHandshake('B', { lt_donthave: 3 });
  assert.deepEqual(codes(d.ext('A', 1, null, u32(1))), ['ext-id-own-mapping']);
});

test('donthave-unsupported also when the sender\'s lt_donthave is malformed (unknown id)', () => {
  const s = new Script();
  s.handshakes();
  s.extHandshake('A', { lt_donthave: 3 });
  s.extHandshake('B', { ut_metadata: 1 });
  const f = s.ext('A', 3, null, Uint8Array.of(0, 0, 0, 1, 0));
  assert.deepEqual(codes(f), ['ext-unknown-id', 'donthave-unsupported']);
  assert.equal(f[1]!.severity, 'warning');
  assert.equal(f[1]!.src, A);
  // to a peer listing lt_donthave: no donthave-unsupported
  assert.deepEqual(codes(connected().donthave('A', 1, 1)), ['donthave-not-announced']);
});

test('fast-not-negotiated when neither side set the bit; suggest_piece and have_none too', () => {
  const s = new Script();
  s.handshakes();
  const f = s.send('A', { msg: 'have_none' });
  assert.deepEqual(codes(f), ['fast-not-negotiated']);
  assert.match(f[0]!.message!, /neither peer set the fast bit/);
  const g = s.send('B', { msg: 'suggest_piece', piece: 0 });
  assert.deepEqual(codes(g), ['fast-not-negotiated']);
  assert.equal(g[0]!.src, B);
  const h = new Script();
  h.handshakes({ fastA: false, fastB: true });
  assert.match(h.send('A', { msg: 'allowed_fast', piece: 0 })[0]?.message ?? '', new RegExp(`sender ${A.replace(/\./g, '\\.')} did not set`));
});

test('bitfield-not-first: not after the extended handshake, port, allowed_fast or keep-alive; after have_all, unchoke, interest or a request', () => {
  const ok = new Script();
  ok.handshakes({ fastA: true, fastB: true });
  ok.extHandshake('A', { lt_donthave: 1 });
  ok.send('A', { msg: 'port', port: 6881 });
  ok.send('A', { msg: 'allowed_fast', piece: 1 });
  ok.send('A', { msg: 'keep_alive' });
  ok.send('B', { msg: 'unchoke' });
  assert.deepEqual(codes(ok.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)))), []);
  for (const first of [{ msg: 'have_all' }, { msg: 'unchoke' }, { msg: 'interested' }, { msg: 'request', piece: 0, begin: 0, length: 16384 }] as const) {
    const s = new Script();
    s.handshakes({ fastA: true, fastB: true });
    s.send('A', first);
    const f = s.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)));
    assert.deepEqual(codes(f), ['bitfield-not-first'], first.msg);
    assert.equal(f[0]!.src, A);
    assert.match(f[0]!.message!, new RegExp(`bitfield from ${A.replace(/\./g, '\\.')} after its earlier ${first.msg}: BEP 3 allows it only as the first message`));
  }
  // a second bitfield names the first one as the evidence
  const twice = new Script();
  twice.handshakes();
  twice.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)));
  twice.send('A', { msg: 'have', piece: 0 });
  assert.match(twice.send('A', { msg: 'bitfield' }, frame(5, Uint8Array.of(0xff)))[0]?.message ?? '', /after its earlier bitfield/);
});

test('piece-out-of-range for request, cancel, piece, suggest_piece and allowed_fast', () => {
  const t = v1Torrent(bytes(PL * 2));
  const s = connected({ fast: true, torrent: t });
  for (const m of [
    { msg: 'request', piece: 2, begin: 0, length: 16384 },
    { msg: 'cancel', piece: 2, begin: 0, length: 16384 },
    { msg: 'piece', piece: 5, begin: 0, length: 16384 },
    { msg: 'suggest_piece', piece: 2 },
    { msg: 'allowed_fast', piece: 9 },
  ] as const) {
    const f = s.send('A', m);
    assert.deepEqual(codes(f), ['piece-out-of-range'], m.msg);
    assert.equal(f[0]!.piece, m.piece);
    assert.match(f[0]!.message!, new RegExp(`${m.msg} for piece ${m.piece}, beyond the 2 pieces known from the torrent file`));
  }
  assert.deepEqual(codes(s.send('A', { msg: 'request', piece: 1, begin: 0, length: 16384 })), []);
});

test('requests-dropped-by-donthave lists each fate: answered anyway, cancelled, dropped by a choke', () => {
  const s = connected();
  s.send('B', { msg: 'have_all' });
  for (const begin of [0, 16384]) s.send('A', { msg: 'request', piece: 4, begin, length: 16384 });
  s.send('A', { msg: 'request', piece: 5, begin: 0, length: 16384 });
  s.donthave('B', 3, 4);
  s.donthave('B', 3, 5);
  assert.deepEqual(codes(s.send('B', { msg: 'piece', piece: 4, begin: 0, length: 16384 })), []);
  const cancelled = s.send('A', { msg: 'cancel', piece: 4, begin: 16384, length: 16384 });
  assert.deepEqual(codes(cancelled), ['requests-dropped-by-donthave']);
  assert.match(cancelled[0]!.message!, /2 request\(s\) for piece 4 .*: 1 answered with the piece anyway, 1 cancelled by the requester$/);
  assert.equal(cancelled[0]!.piece, 4);
  const choked = s.send('B', { msg: 'choke' });
  assert.deepEqual(codes(choked), ['requests-dropped-by-donthave']);
  assert.match(choked[0]!.message!, /1 request\(s\) for piece 5 .*: 1 dropped by a choke$/);
  assert.equal(choked[0]!.ts, s.out.find((r) => 'msg' in r && r.msg === 'extended' && r.piece === 5)!.ts);
  assert.deepEqual(codes(s.finish()), []);
});

test('metadata-piece-size: a last piece of the wrong size and a piece beyond the metadata size', () => {
  const meta = bytes(16384 + 100);
  const s = connected({ infoHash: createHash('sha1').update(meta).digest('hex') });
  s.extHandshake('A', { ut_metadata: 2 }, { metadata_size: meta.length });
  const utm = (from: 'A' | 'B', dict: Record<string, number>, data: Uint8Array = new Uint8Array(0)) =>
    s.ext(from, 2, 'ut_metadata', Uint8Array.from([...benc(dict), ...data]), { msg_type: dict.msg_type, index: dict.piece, total_size: dict.total_size, trailing: data.length } as never);
  utm('B', { msg_type: 0, piece: 1 });
  const last = utm('A', { msg_type: 1, piece: 1, total_size: meta.length }, meta.subarray(16384, 16384 + 99));
  assert.deepEqual(codes(last), ['metadata-piece-size']);
  assert.match(last[0]!.message!, /metadata piece 1 carries 99 bytes: the last of 2 piece\(s\) of 16484 bytes must be 100 bytes/);
  utm('B', { msg_type: 0, piece: 2 });
  const beyond = utm('A', { msg_type: 1, piece: 2, total_size: meta.length }, meta.subarray(0, 100));
  assert.deepEqual(codes(beyond), ['metadata-piece-size']);
  assert.match(beyond[0]!.message!, /metadata piece 2 is beyond the 2 piece\(s\) of 16484 bytes of metadata/);
  // the right pieces, requested: no finding, and the metadata checks out against the info hash
  utm('B', { msg_type: 0, piece: 0 });
  utm('B', { msg_type: 0, piece: 1 });
  assert.deepEqual(codes(utm('A', { msg_type: 1, piece: 0, total_size: meta.length }, meta.subarray(0, 16384))), []);
  assert.deepEqual(codes(utm('A', { msg_type: 1, piece: 1, total_size: meta.length }, meta.subarray(16384))), []);
  assert.equal(s.analyzer.stats().metadataVerified, 1);
});

test('hash-mismatch for a v2-only torrent: merkle root against the piece layer, and a small file\'s pieces root', () => {
  const { torrent, big, small } = v2Torrent();
  const s = new Script({ torrent });
  s.handshakes({ infoHash: torrent.infoHashV2!.slice(0, 40) });
  const block = (piece: number, begin: number, data: Uint8Array) => s.send('B', { msg: 'piece', piece, begin, length: data.length }, pieceRaw(piece, begin, data));
  // piece 1 right, piece 2 (the file's short last piece) right
  block(1, 0, big.subarray(PL, PL + 16384));
  assert.deepEqual(codes(block(1, 16384, big.subarray(PL + 16384, 2 * PL))), []);
  assert.deepEqual(codes(block(2, 0, big.subarray(2 * PL))), []);
  // piece 0 with one flipped byte
  const bad = big.slice(0, PL);
  bad[20000] = (bad[20000] ?? 0) ^ 1;
  block(0, 0, bad.subarray(0, 16384));
  const f = block(0, 16384, bad.subarray(16384));
  assert.deepEqual(codes(f), ['hash-mismatch']);
  assert.match(f[0]!.message!, /piece 0 .*merkle root [0-9a-f]{64}, the piece layer says [0-9a-f]{64}/);
  // piece 3: b.bin, at most one piece, checked against its pieces root
  const wrong = small.slice();
  wrong[0] = (wrong[0] ?? 0) ^ 1;
  block(3, 0, wrong.subarray(0, 16384));
  const g = block(3, 16384, wrong.subarray(16384));
  assert.deepEqual(codes(g), ['hash-mismatch']);
  assert.match(g[0]!.message!, /piece 3 .*the file's pieces root is [0-9a-f]{64}/);
  assert.equal(s.analyzer.stats().piecesVerified, 4);
  assert.deepEqual(codes(s.finish()), []);
});

test('metadata fetched for a v2 torrent: checked against the truncated SHA-256 info hash, then gives the piece count', () => {
  const { torrent, infoBytes } = v2Torrent();
  const s = connected({ infoHash: torrent.infoHashV2!.slice(0, 40) });
  s.extHandshake('A', { ut_metadata: 2 }, { metadata_size: infoBytes.length });
  s.ext('B', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never);
  const size = infoBytes.length;
  assert.deepEqual(codes(s.ext('A', 2, 'ut_metadata', Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: size }), ...infoBytes]), { msg_type: 1, index: 0, total_size: size, trailing: size } as never)), []);
  assert.equal(s.analyzer.stats().metadataVerified, 1);
  const f = s.send('A', { msg: 'have', piece: 4 });
  assert.deepEqual(codes(f), ['piece-out-of-range']);
  assert.match(f[0]!.message!, /beyond the 4 pieces known from the metadata fetched with ut_metadata/);
});

test('v2 metadata without piece layers: a file of at most one piece is still checked against its pieces root', () => {
  const { torrent, small, infoBytes } = v2Torrent();
  const s = connected({ infoHash: torrent.infoHashV2!.slice(0, 40) });
  const size = infoBytes.length;
  s.extHandshake('A', { ut_metadata: 2 }, { metadata_size: size });
  s.ext('B', 2, 'ut_metadata', benc({ msg_type: 0, piece: 0 }), { msg_type: 0, index: 0 } as never);
  s.ext('A', 2, 'ut_metadata', Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: size }), ...infoBytes]), { msg_type: 1, index: 0, total_size: size, trailing: size } as never);
  const wrong = small.slice();
  wrong[5] = (wrong[5] ?? 0) ^ 1;
  s.send('A', { msg: 'piece', piece: 3, begin: 0, length: 16384 }, pieceRaw(3, 0, wrong.subarray(0, 16384)));
  const f = s.send('A', { msg: 'piece', piece: 3, begin: 16384, length: wrong.length - 16384 }, pieceRaw(3, 16384, wrong.subarray(16384)));
  assert.deepEqual(codes(f), ['hash-mismatch']);
  assert.match(f[0]!.message!, /the file's pieces root is/);
  // a piece of the larger file has no hash to check without the piece layers: not buffered, not judged
  s.send('A', { msg: 'piece', piece: 0, begin: 0, length: 16384 }, pieceRaw(0, 0, new Uint8Array(16384)));
  assert.deepEqual(codes(s.send('A', { msg: 'piece', piece: 0, begin: 16384, length: 16384 }, pieceRaw(0, 16384, new Uint8Array(16384)))), []);
  assert.equal(s.analyzer.stats().piecesVerified, 1);
});

test('metadata buffers of all connections share one budget: 100 peers claiming 16 MiB each do not get 1.6 GB', () => {
  const size = 16 << 20;
  const analyzer = new Analyzer(() => {});
  const before = process.memoryUsage().arrayBuffers;
  for (let conn = 1; conn <= 100; conn++) {
    const base = { conn, transport: 'tcp' as const, ts: 1000 + conn };
    const a = { ...base, src: A, dst: B };
    const b = { ...base, src: B, dst: A };
    analyzer.record({ ...a, msg: 'handshake', size: 68, infoHash: HASH, extensions: ['extension protocol'] });
    analyzer.record({ ...b, msg: 'handshake', size: 68, infoHash: HASH, extensions: ['extension protocol'] });
    analyzer.record({ ...b, msg: 'extended', size: 30, ext: 'handshake', extId: 0, m: { ut_metadata: 2 } });
    analyzer.record({ ...a, msg: 'extended', size: 40, ext: 'handshake', extId: 0, m: { ut_metadata: 2 }, metadata_size: size });
    const ask = benc({ msg_type: 0, piece: 0 });
    analyzer.record({ ...b, msg: 'extended', size: ask.length + 6, ext: 'ut_metadata', extId: 2, msg_type: 0, index: 0 } as never, extendedFrame(2, ask));
    const data = Uint8Array.from([...benc({ msg_type: 1, piece: 0, total_size: size }), ...bytes(16384)]);
    analyzer.record({ ...a, msg: 'extended', size: data.length + 6, ext: 'ut_metadata', extId: 2, msg_type: 1, index: 0, total_size: size, trailing: 16384 } as never, extendedFrame(2, data));
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 100 << 20, `metadata buffers grew by ${(grown / 1048576).toFixed(0)} MB`);
});

function extendedFrame(id: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...u32(payload.length + 2), 20, id, ...payload]);
}
