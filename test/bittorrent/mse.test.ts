// Encrypted connections (MSE/PE) in captures: the key exchange is recognised, nothing is decoded from
// ciphertext, and the plaintext that follows when the peers select it is decoded, marked resync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BtConnection } from '../../src/bittorrent/connection.js';
import { knownPlaintext, looksRandom, probableExtension } from '../../src/bittorrent/mse.js';
import type { AnyRecord, Dir, EventRecord, MessageRecord } from '../../src/model/record.js';
import { formatRecord } from '../../src/output/text-format.js';
import type { FlowInfo } from '../../src/transport/types.js';
import { prng } from '../capture/capture-bytes.js';
import { readTruth, score } from '../support/score.js';
import { concat, donthave, extHandshake, handshake, have, msg, request } from '../support/bt-bytes.js';
import { tcpSegments } from './tcp-segments.js';
import { tlsLikeMsePublicKey } from '../support/mse-keys.js';

const A = '10.0.0.1:40000';
const B = '10.0.0.2:6881';

type Step = [Dir, Uint8Array];

function run(steps: Step[], split = 0): { records: AnyRecord[]; conn: BtConnection } {
  const records: AnyRecord[] = [];
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
  const conn = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 3, portHint: false });
  let ts = 1;
  for (const [dir, bytes] of steps) {
    const step = split > 0 ? split : bytes.length;
    for (let i = 0; i < bytes.length; i += step) conn.data(dir, bytes.subarray(i, i + step), ts);
    ts += 1;
  }
  conn.finish(ts);
  return { records, conn };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

const messages = (rs: AnyRecord[]): MessageRecord[] => rs.filter((r): r is MessageRecord => 'msg' in r);
const events = (rs: AnyRecord[], name: string): EventRecord[] => rs.filter((r): r is EventRecord => 'event' in r && r.event === name);
const line = (r: MessageRecord): string => `${r.src === A ? 'A' : 'B'} ${r.msg}${r.ext !== undefined ? `:${r.ext}` : ''}${r.piece !== undefined ? `#${r.piece}` : ''}${r.resync ? ' R' : ''}`;

// libtorrent's exchange with plaintext selected: Ya+PadA | Yb+PadB | req1, req2^req3, RC4(VC,
// crypto_provide, PadC, IA = the initiator's handshake) | RC4(VC, crypto_select, PadD), then plain.
const ya = randomBytes(96 + 187, 1);
const yb = randomBytes(96 + 337, 2);
const initiatorCipher = randomBytes(40 + 8 + 4 + 2 + 300 + 2 + 68, 3);
const responderCipher = randomBytes(8 + 4 + 2 + 227, 4);
const bPlain = concat(handshake({ peerId: '-LT2080-abcdefghijkl' }), extHandshake({ m: { ut_metadata: 2, lt_donthave: 7 }, v: 'libtorrent' }), msg(14), msg(1));
const aPlain = concat(extHandshake({ m: { ut_metadata: 2, lt_donthave: 7 } }), msg(15), msg(2), request(3, 0, 16384));
const bLater = concat(donthave(7, 3), msg(16, new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x40, 0])));
const plaintextSelected: Step[] = [
  [0, ya],
  [1, yb],
  [0, initiatorCipher],
  [1, concat(responderCipher, bPlain)],
  [0, aPlain],
  [1, bLater],
];
const plaintextExpected = [
  'B handshake R',
  'B extended:handshake R',
  'B have_all R',
  'B unchoke R',
  'A extended:handshake R',
  'A have_none R',
  'A interested R',
  'A request#3 R',
  'B extended:lt_donthave#3 R',
  'B reject_request#3 R',
];

test('MSE with plaintext selected: encrypted once, ciphertext skipped, the plaintext decoded as resync', () => {
  const { records } = run(plaintextSelected);
  assert.equal(events(records, 'encrypted').length, 1);
  assert.equal(records[0] && 'event' in records[0] ? records[0].event : undefined, 'open');
  assert.deepEqual(
    events(records, 'resync').map((r) => [r.src, r.bytes]),
    [
      [B, responderCipher.length],
      [A, initiatorCipher.length],
    ],
  );
  assert.deepEqual(messages(records).map(line), plaintextExpected);
  assert.ok(messages(records).every((r) => r.conn === 3 && r.probably === undefined));
});

test('MSE detection does not depend on how each direction is chunked', () => {
  const whole = JSON.stringify(run(plaintextSelected).records.map((r) => ({ ...r, ts: 0 })));
  for (const split of [1, 2, 3, 5, 19, 20, 21, 95, 96, 97, 250]) {
    const got = JSON.stringify(run(plaintextSelected, split).records.map((r) => ({ ...r, ts: 0 })));
    assert.equal(got, whole, `split every ${split} bytes`);
  }
});

test('the initiator plaintext is found by message chain when its handshake was inside the RC4 part', () => {
  // The boundary lies at every offset from 0 to 40 bytes into a segment of ciphertext.
  for (let cut = 0; cut <= 40; cut++) {
    const steps: Step[] = [
      [0, ya],
      [1, yb],
      [0, concat(randomBytes(200 + cut, 9 + cut), aPlain)],
      [1, concat(responderCipher, bPlain)],
    ];
    const { records } = run(steps);
    const a = messages(records).filter((r) => r.src === A).map(line);
    assert.deepEqual(a, ['A extended:handshake R', 'A have_none R', 'A interested R', 'A request#3 R'], `cut ${cut}`);
    assert.equal(events(records, 'resync').find((r) => r.src === A)?.bytes, 200 + cut);
  }
});

test('RC4 selected (everything after the exchange is ciphertext): encrypted, nothing decoded', () => {
  const steps: Step[] = [[0, ya], [1, yb]];
  for (let i = 0; i < 40; i++) steps.push([(i % 2) as Dir, randomBytes(1000 + i * 997, 100 + i)]);
  const { records } = run(steps);
  assert.equal(events(records, 'encrypted').length, 1);
  assert.deepEqual(messages(records), []);
});

test('an unresolved id toward a libtorrent peer gets "probably", without ext', () => {
  // B's handshake shows in plaintext (libtorrent peer id) but not its extended handshake.
  const steps: Step[] = [
    [0, ya],
    [1, yb],
    [0, initiatorCipher],
    [1, concat(responderCipher, handshake({ peerId: '-LT2080-abcdefghijkl' }), msg(14))],
    [0, concat(msg(15), have(1), donthave(7, 5), donthave(9, 5))],
  ];
  const { records } = run(steps);
  const ext = messages(records).filter((r) => r.msg === 'extended');
  assert.deepEqual(
    ext.map((r) => [r.ext, r.extId, r.probably, r.probablyWhy, r.piece]),
    [
      [null, 7, 'lt_donthave', "libtorrent's id", 5],
      [null, 9, undefined, undefined, undefined],
    ],
  );
  const text = formatRecord(ext[0]!, 0);
  assert.match(text, /\[probably lt_donthave \(libtorrent's id\) piece=5\]/);
  assert.match(formatRecord(events(records, 'encrypted')[0]!, 0), /ENCRYPTED/);
});

test('probableExtension: only for clients with libtorrent fixed ids', () => {
  assert.equal(probableExtension('libtorrent (Rasterbar)', 7), 'lt_donthave');
  assert.equal(probableExtension('qBittorrent 4.5.0', 1), 'ut_pex');
  assert.equal(probableExtension('libTorrent (Rakshasa) / rTorrent*', 7), undefined);
  assert.equal(probableExtension(undefined, 7), undefined);
  assert.equal(probableExtension('libtorrent (Rasterbar)', 5), undefined);
});

test('flows that are not a key exchange are ignored, as before', () => {
  const http = new TextEncoder().encode(`GET /announce?info_hash=${'%ab'.repeat(20)}&peer_id=-LT2080-abcdefghijkl HTTP/1.1\r\nHost: x\r\n\r\n`);
  // a ClientHello's record and handshake headers (256-byte record, 252-byte hello, TLS 1.2), then its body
  const tls = concat(Uint8Array.of(0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xfc, 0x03, 0x03), randomBytes(300, 5));
  const cases: Array<[string, Step[]]> = [
    ['http', [[0, http], [1, randomBytes(200, 6)], [0, randomBytes(100, 7)]]],
    ['tls', [[0, tls], [1, randomBytes(200, 6)], [0, randomBytes(100, 7)]]],
    ['short first flight', [[0, randomBytes(95, 8)], [1, randomBytes(200, 6)], [0, randomBytes(100, 7)]]],
    ['short answer', [[0, ya], [1, randomBytes(60, 6)], [0, randomBytes(100, 7)]]],
    ['first flight too long', [[0, randomBytes(96 + 513, 8)], [1, randomBytes(200, 6)], [0, randomBytes(100, 7)]]],
    ['answer too long', [[0, ya], [1, randomBytes(96 + 513, 6)], [0, randomBytes(100, 7)]]],
    ['text', [[0, new TextEncoder().encode('x'.repeat(100) + 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN')], [1, randomBytes(200, 6)], [0, randomBytes(100, 7)]]],
  ];
  for (const [name, steps] of cases) {
    const { records, conn } = run(steps);
    assert.deepEqual(records, [], name);
    assert.equal(conn.ignored, true, name);
  }
});

test('knownPlaintext and looksRandom', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  assert.ok(knownPlaintext(enc('SSH-2.0-OpenSSH')));
  assert.ok(knownPlaintext(enc('HTTP/1.1 200 OK')));
  // a TLS 1.2 ServerHello's record and handshake headers
  assert.ok(knownPlaintext(Uint8Array.of(0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03)));
  // three bytes cannot tell a TLS record from a key that begins the same way
  assert.ok(!knownPlaintext(Uint8Array.of(0x16, 0x03, 0x03)));
  assert.ok(!knownPlaintext(tlsLikeMsePublicKey()));
  assert.ok(!knownPlaintext(randomBytes(96, 11)));
  assert.ok(looksRandom(randomBytes(96, 12)));
  assert.ok(!looksRandom(new Uint8Array(96)));
});

test("a real TLS ClientHello (node's TLS client) is known plaintext", async () => {
  const first = await new Promise<Uint8Array>((resolve, reject) => {
    const server = createServer((sock) => {
      sock.once('data', (d: Buffer) => {
        resolve(new Uint8Array(d));
        sock.destroy();
        server.close();
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'tracker.example' });
      client.on('error', () => {}); // the server closes without answering
    });
  });
  assert.ok(knownPlaintext(first), Buffer.from(first.subarray(0, 12)).toString('hex'));
});

// A public key begins 16 03, as a TLS record does, once in 65,536 exchanges: such a key exchange was
// taken for TLS and ignored.
test('a key exchange whose public key begins like a TLS record is still recognised', () => {
  const key = tlsLikeMsePublicKey();
  assert.deepEqual([...key.subarray(0, 2)], [0x16, 0x03]);
  const { records } = run([[0, concat(key, ya.subarray(96))], ...plaintextSelected.slice(1)]);
  assert.equal(events(records, 'encrypted').length, 1);
  assert.deepEqual(messages(records).map(line), plaintextExpected);
});

test('a gap during the key exchange gives up; a gap after it goes to resync', () => {
  const records: AnyRecord[] = [];
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
  const c1 = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 1, portHint: false });
  c1.data(0, ya, 1);
  c1.gap(1, 100, 2);
  assert.equal(c1.ignored, true);
  const c2 = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 2, portHint: false });
  c2.data(0, ya, 1);
  c2.data(1, yb, 2);
  c2.data(0, initiatorCipher.subarray(0, 100), 3);
  c2.gap(0, 50, 4);
  c2.data(0, concat(initiatorCipher.subarray(150), aPlain, have(1), have(2)), 5);
  c2.finish(6);
  assert.deepEqual(messages(records).map(line), ['A extended:handshake R', 'A have_none R', 'A interested R', 'A request#3 R', 'A have#1 R', 'A have#2 R']);
  assert.equal(events(records, 'gap').length, 1);
});

// ---- the real capture -----------------------------------------------------------------------

const SAMPLE = 'samples/lt-encrypted';

function decodeSample(): AnyRecord[] {
  const segs = tcpSegments(`${SAMPLE}.pcap`);
  const syn = segs.find((s) => s.syn)!;
  const records: AnyRecord[] = [];
  const info: FlowInfo = { transport: 'tcp', initiator: syn.src, responder: syn.dst, startTs: syn.ts, startSeen: true };
  const conn = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 1, portHint: false });
  for (const s of segs) if (!s.syn) conn.data(s.src === syn.src ? 0 : 1, s.payload, s.ts);
  conn.finish(segs.at(-1)!.ts);
  return records;
}

test('lt-encrypted.pcap (real libtorrent MSE, plaintext selected): every plaintext message, nothing from ciphertext', () => {
  const records = decodeSample();
  const truth = readTruth(`${SAMPLE}.truth.ndjson`);
  assert.equal(events(records, 'encrypted').length, 1);
  const s = score(truth, records);
  // The one message the peers parsed that the capture cannot show: the initiator's handshake, sent as
  // RC4-encrypted IA.
  const initiator = truth[0]!.src;
  assert.equal(truth.filter((r) => r.msg === 'handshake' && r.src === initiator).length, 1);
  assert.equal(s.recovered, s.messages - 1, `recovered ${s.recovered} of ${s.messages}`);
  assert.ok(!messages(records).some((r) => r.msg === 'handshake' && r.src === initiator));
  assert.equal(s.extra, 0, `${s.extra} messages the peers never parsed (decoded from ciphertext?)`);
  assert.equal(s.extNamedOk, s.extNamed);
  assert.ok(s.donthaveOk);
  assert.ok(messages(records).every((r) => r.resync === true), 'plaintext after MSE is marked resync');
  assert.equal(events(records, 'malformed').length, 0);
});

test('flows found not to be a key exchange keep none of the watch buffers (regression)', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Freed buffers are not all counted at once: collect twice around a turn of the event loop.
  const settle = async (): Promise<void> => {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  };
  const tooLong = randomBytes(96 + 513, 8);
  await settle();
  const before = process.memoryUsage().arrayBuffers;
  const ignored: BtConnection[] = [];
  for (let i = 0; i < 2000; i++) ignored.push(run([[0, tooLong]]).conn);
  await settle();
  assert.ok(ignored.every((c) => c.ignored));
  // Each watch once held 2 KiB for the bytes after an exchange that never happened, for as long as
  // the transport kept the flow.
  const retained = process.memoryUsage().arrayBuffers - before;
  assert.ok(retained < 1 << 20, `${(retained / 1024).toFixed(0)} KiB kept by 2000 ignored flows`);
});
