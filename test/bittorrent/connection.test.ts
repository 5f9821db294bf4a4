import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BtConnection } from '../../src/bittorrent/connection.js';
import type { AnyRecord, Dir, MessageRecord } from '../../src/model/record.js';
import type { FlowInfo } from '../../src/transport/types.js';
import { concat, donthave, extended, extHandshake, handshake, have, keepAlive, msg, piece, request, u32 } from '../support/bt-bytes.js';
import { prng } from '../capture/capture-bytes.js';
import { formatRecord } from '../../src/output/text-format.js';

const A = '10.0.0.1:40000';
const B = '10.0.0.2:6881';

function run(steps: Array<[Dir, Uint8Array | number]>, opts: { startSeen?: boolean; portHint?: boolean } = {}): { records: AnyRecord[]; conn: BtConnection } {
  const records: AnyRecord[] = [];
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: opts.startSeen ?? true };
  const conn = new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 7, portHint: opts.portHint ?? false });
  let ts = 1;
  for (const [dir, what] of steps) {
    if (typeof what === 'number') conn.gap(dir, what, ts);
    else conn.data(dir, what, ts);
    ts += 1;
  }
  conn.finish(ts);
  return { records, conn };
}

const messages = (rs: AnyRecord[]): MessageRecord[] => rs.filter((r): r is MessageRecord => 'msg' in r);
const summary = (rs: AnyRecord[]): string[] =>
  messages(rs).map((r) => `${r.src === A ? 'A' : 'B'} ${r.msg}${r.ext !== undefined ? `:${r.ext}` : ''}${r.piece !== undefined ? `#${r.piece}` : ''}${r.resync ? ' R' : ''}`);

// webtorrent numbers its extensions in registration order; libtorrent has fixed ids.
const streamA = concat(
  handshake({ peerId: '-WW0105-abcdefghijkl' }),
  extHandshake({ m: { ut_metadata: 1, lt_donthave: 2 }, v: 'WebTorrent 1.0' }),
  have(3),
  donthave(7, 3),
  keepAlive(),
  request(3, 16384, 16384),
);
const streamB = concat(
  handshake(),
  extHandshake({ m: { ut_pex: 1, ut_metadata: 2, lt_donthave: 7 }, v: 'libtorrent/2.0', reqq: 500, yourip: Uint8Array.of(10, 0, 0, 1) }),
  msg(1),
  donthave(2, 30),
  piece(3, 16384, new Uint8Array(100).fill(9)),
);
const expected = [
  'A handshake',
  'B handshake',
  'A extended:handshake',
  'B extended:handshake',
  'A have#3',
  'A extended:lt_donthave#3',
  'A keep_alive',
  'A request#3',
  'B unchoke',
  'B extended:lt_donthave#30',
  'B piece#3',
];

function sortByDir(lines: string[]): string[] {
  return [...lines.filter((l) => l.startsWith('A')), ...lines.filter((l) => l.startsWith('B'))];
}

test('decodes both directions and resolves extended ids through the receiver mapping', () => {
  // Handshakes first, then the rest: mappings are known before the donthaves travel.
  const bExt = 68 + extHandshake({ m: { ut_pex: 1, ut_metadata: 2, lt_donthave: 7 }, v: 'libtorrent/2.0', reqq: 500, yourip: Uint8Array.of(10, 0, 0, 1) }).length;
  const { records } = run([
    [0, streamA.subarray(0, 68)],
    [1, streamB.subarray(0, bExt)],
    [0, streamA.subarray(68)],
    [1, streamB.subarray(bExt)],
  ]);
  assert.deepEqual(sortByDir(summary(records)), sortByDir(expected));
  const dh = messages(records).filter((r) => r.ext === 'lt_donthave');
  assert.deepEqual(dh.map((r) => [r.extId, r.piece]), [[7, 3], [2, 30]]);
  const bHs = messages(records).find((r) => r.ext === 'handshake' && r.src === B)!;
  assert.equal(bHs.v, 'libtorrent/2.0');
  assert.equal(bHs.reqq, 500);
  assert.equal(bHs.yourip, '10.0.0.1');
  assert.deepEqual(bHs.m, { ut_pex: 1, ut_metadata: 2, lt_donthave: 7 });
  assert.equal(records[0] && 'event' in records[0] ? records[0].event : '', 'open');
});

test('every split point of each stream gives the same records', () => {
  const reference = summary(run([[0, streamA.subarray(0, 100)], [1, streamB], [0, streamA.subarray(100)]]).records);
  for (let cut = 1; cut < streamB.length; cut++) {
    const { records } = run([[0, streamA.subarray(0, 100)], [1, streamB.subarray(0, cut)], [1, streamB.subarray(cut)], [0, streamA.subarray(100)]]);
    assert.deepEqual(summary(records), reference, `split at ${cut}`);
  }
  const bytewise: Array<[Dir, Uint8Array]> = [[0, streamA.subarray(0, 100)]];
  for (let i = 0; i < streamB.length; i++) bytewise.push([1, streamB.subarray(i, i + 1)]);
  bytewise.push([0, streamA.subarray(100)]);
  assert.deepEqual(summary(run(bytewise).records), reference);
});

test('a message before the receiver extended handshake is unresolved, with its id', () => {
  const { records } = run([[0, concat(handshake(), donthave(7, 1))], [1, handshake()]]);
  const r = messages(records).find((x) => x.msg === 'extended')!;
  assert.equal(r.ext, null);
  assert.equal(r.extId, 7);
});

test('a later extended handshake changes the mapping and id 0 disables', () => {
  const { records } = run([
    [1, concat(handshake(), extHandshake({ m: { lt_donthave: 3 } }))],
    [0, concat(handshake(), donthave(3, 1))],
    [1, extHandshake({ m: { lt_donthave: 0, ut_pex: 3 } })],
    [0, donthave(3, 2)],
  ]);
  const ext = messages(records).filter((r) => r.msg === 'extended' && r.src === A);
  assert.deepEqual(ext.map((r) => r.ext), ['lt_donthave', 'ut_pex']);
});

test('lt_donthave whose payload is not 4 bytes is malformed and says so', () => {
  const { records } = run([
    [1, concat(handshake(), extHandshake({ m: { lt_donthave: 7 } }))],
    [0, concat(handshake(), extended(7, Uint8Array.of(0, 0, 1)))],
  ]);
  const r = messages(records).find((x) => x.ext === 'lt_donthave')!;
  assert.match(r.malformed ?? '', /3 bytes, expected 4/);
  assert.equal(r.piece, undefined);
});

test('an absurd length does not allocate and the decoder resynchronises', () => {
  const after = concat(have(1), have(2), have(3), have(4));
  const { records } = run([[0, concat(handshake(), u32(0xfffffff0), Uint8Array.of(5, 1, 2, 3), after)]]);
  assert.ok(records.some((r) => 'event' in r && r.event === 'malformed'));
  assert.deepEqual(summary(records), ['A handshake', 'A have#1 R', 'A have#2 R', 'A have#3 R', 'A have#4 R']);
});

test('unknown ids are reported with their length and decoding continues', () => {
  const { records } = run([[0, concat(handshake(), msg(99, new Uint8Array(10)), have(5))]]);
  const m = messages(records);
  assert.equal(m[1]?.msg, 'unknown');
  assert.equal(m[1]?.id, 99);
  assert.equal(m[1]?.size, 15);
  assert.equal(m[2]?.msg, 'have');
});

test('a gap inside a piece keeps the stream in step', () => {
  const block = piece(1, 0, new Uint8Array(1000));
  const { records } = run([[0, concat(handshake(), block.subarray(0, 300))], [0, 500], [0, concat(block.subarray(800), have(9))]]);
  assert.deepEqual(summary(records), ['A handshake', 'A piece#1', 'A have#9']);
  assert.ok(records.some((r) => 'event' in r && r.event === 'gap' && r.bytes === 500));
});

test('after a gap past a boundary the decoder finds the next messages and marks them', () => {
  const tail = concat(piece(2, 16384, new Uint8Array(2000).fill(1)).subarray(1500), have(1), request(1, 0, 16384), have(2), have(3));
  const { records } = run([[0, concat(handshake(), have(0))], [0, 4000], [0, tail]]);
  assert.deepEqual(summary(records), ['A handshake', 'A have#0', 'A have#1 R', 'A request#1 R', 'A have#2 R', 'A have#3 R']);
  const resync = records.find((r) => 'event' in r && r.event === 'resync');
  assert.ok(resync && 'bytes' in resync && resync.bytes === 4000 + 2013 - 1500);
});

test('a flow that starts with something else is ignored, cheaply', () => {
  const { records, conn } = run([[0, new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')]]);
  assert.equal(records.length, 0);
  assert.equal(conn.ignored, true);
});

test('mid-stream capture: decoded from the first run of plausible messages', () => {
  const junk = new Uint8Array(333).fill(0x41);
  const body = concat(have(1), have(2), request(2, 0, 16384), have(3), have(4));
  const { records } = run([[0, concat(junk, body)]], { startSeen: false });
  assert.deepEqual(summary(records), ['A have#1 R', 'A have#2 R', 'A request#2 R', 'A have#3 R', 'A have#4 R']);
});

test('hostile extended handshakes do not crash', () => {
  const payloads = [
    new TextEncoder().encode('d1:m'),
    new TextEncoder().encode('d1:md11:lt_donthavei999eee'),
    new TextEncoder().encode('l'.repeat(100000)),
    new TextEncoder().encode('d1:v5:\x1b[31mee'),
    new Uint8Array(0),
  ];
  for (const p of payloads) {
    const { records } = run([[0, concat(handshake(), extended(0, p), have(1))]]);
    assert.equal(messages(records).at(-1)?.msg, 'have');
  }
});

// ---- memory held per connection (regressions) ----

/** Collects garbage, twice around a turn of the event loop: freed buffers are not all counted at once. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;

function connection(startSeen: boolean, records: AnyRecord[] = []): BtConnection {
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen };
  return new BtConnection(info, { sink: (r) => records.push(r), assignConn: () => 7, portHint: false });
}

test('a length prefix allocates nothing before its bytes arrive; the message still decodes when they do', () => {
  // A 4 MiB bitfield announced, one byte of it sent: the buffer was once sized by the prefix
  // (2 MiB per connection from six bytes).
  const start = concat(handshake(), u32(4 << 20), Uint8Array.of(5, 0xff));
  const before = arrayBuffers();
  const open: BtConnection[] = [];
  for (let i = 0; i < 500; i++) {
    const conn = connection(true);
    conn.data(0, start, 1);
    open.push(conn);
  }
  const grown = arrayBuffers() - before;
  assert.ok(grown < 16 << 20, `${(grown / 2 ** 20).toFixed(0)} MiB for 500 connections`);
  const records: AnyRecord[] = [];
  const conn = connection(true, records);
  conn.data(0, start, 1);
  const rest = new Uint8Array((4 << 20) - 2).fill(0x0f);
  for (let i = 0; i < rest.length; i += 1400) conn.data(0, rest.subarray(i, i + 1400), 2);
  conn.data(0, have(9), 3);
  assert.deepEqual(summary(records), ['A handshake', 'A bitfield', 'A have#9']);
  assert.equal(messages(records)[1]?.bits, ((4 << 20) - 1) * 8);
});

test('looking for a boundary holds about what arrived, and nothing once the flow is given up', async () => {
  const junk = (n: number, seed: number): Uint8Array => {
    const r = prng(seed);
    return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  };
  const packets = Array.from({ length: 20 }, (_, i) => junk(1400, i + 1));
  await collectGarbage();
  const before = arrayBuffers();
  const scanning: BtConnection[] = [];
  for (let i = 0; i < 200; i++) {
    const conn = connection(false);
    for (const p of packets) conn.data(0, p, 1);
    scanning.push(conn);
  }
  await collectGarbage();
  // 28 KB arrived per connection; the window once doubled on every chunk to 512 KiB.
  const held = arrayBuffers() - before;
  assert.ok(held < 24 << 20, `${(held / 2 ** 20).toFixed(0)} MiB held by 200 connections`);
  const more = junk(64 * 1024, 99);
  for (const conn of scanning.slice(0, 20)) for (let sent = 0; sent < 1.2 * 2 ** 20; sent += more.length) conn.data(0, more, 2);
  scanning.length = 20;
  await collectGarbage();
  assert.ok(scanning.every((c) => c.ignored));
  const retained = arrayBuffers() - before;
  assert.ok(retained < 2 << 20, `${(retained / 2 ** 20).toFixed(1)} MiB kept by 20 ignored connections`);
});

test('located messages: the extents point at exactly their bytes, wherever the stream is split', () => {
  // Each chunk is laid out in a "capture file" with 10 bytes of packet header before it, so extents
  // of one message that spans chunks are not contiguous and must be followed one by one.
  const stream = concat(handshake(), extHandshake({ m: { lt_donthave: 2 } }), piece(1, 0, new Uint8Array(700).map((_, i) => i * 7)), keepAlive(), have(4), piece(2, 0, new Uint8Array(300).fill(5)));
  const splits = (i: number, j: number): number[] => [0, i, j, stream.length].filter((v, k, a) => k === 0 || v > a[k - 1]!);
  let cases = 0;
  for (let i = 1; i < stream.length; i += 3) {
    for (const j of [i + 1, i + 97, stream.length]) {
      const cuts = splits(i, Math.min(j, stream.length));
      const file = new Uint8Array(stream.length + 10 * cuts.length).fill(0xee);
      const seen: [Uint8Array, readonly number[] | undefined][] = [];
      const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
      const conn = new BtConnection(info, { sink: (r, raw, where) => void ('msg' in r && seen.push([raw!.slice(), where?.slice()])), assignConn: () => 1, portHint: false, locate: true });
      for (let k = 0; k + 1 < cuts.length; k++) {
        const chunk = stream.subarray(cuts[k]!, cuts[k + 1]!);
        const at = 10 * (k + 1) + cuts[k]!;
        file.set(chunk, at);
        conn.data(0, chunk, 1, at);
      }
      assert.equal(seen.length, 6);
      // The handshake is read while detecting the protocol, from a copy; it is always kept whole.
      assert.equal(seen[0]![1], undefined);
      for (const [raw, where] of seen.slice(1)) {
        assert.ok(where !== undefined, 'every message of a located stream is located');
        const parts: Uint8Array[] = [];
        for (let k = 0; k < where.length; k += 2) parts.push(file.subarray(where[k]!, where[k]! + where[k + 1]!));
        assert.deepEqual(concat(...parts), raw, `split at ${cuts.join(',')}`);
      }
      cases++;
    }
  }
  assert.ok(cases > 100);
});

test('located messages: bytes that come from no located chunk give no extents', () => {
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
  const where: (readonly number[] | undefined)[] = [];
  const conn = new BtConnection(info, { sink: (r, _raw, w) => void ('msg' in r && where.push(w)), assignConn: () => 1, portHint: false, locate: true });
  const big = piece(1, 0, new Uint8Array(500));
  conn.data(0, handshake(), 1, 0);
  conn.data(0, big.subarray(0, 100), 1, 100);
  conn.data(0, big.subarray(100), 1);
  conn.data(0, have(1), 1, 1000);
  assert.deepEqual(where, [undefined, undefined, [1000, 9]]);
});

test('an id whose mapping the capture missed: "probably", from what the receiver\'s listening endpoint advertised on another connection', async () => {
  const { AdvertisedMappings } = await import('../../src/bittorrent/extensions.js');
  const advertised = new AdvertisedMappings();
  const out: AnyRecord[] = [];
  const open = (conn: number, initiator: string, startSeen: boolean): BtConnection =>
    new BtConnection({ transport: 'tcp', initiator, responder: B, startTs: 1, startSeen }, { sink: (r) => void out.push(r), assignConn: () => conn, portHint: true, advertised });
  // conn 1: B advertises lt_donthave = 3 (and A its own ids, on an ephemeral port).
  const first = open(1, A, true);
  first.data(0, concat(handshake(), extHandshake({ m: { lt_donthave: 9 } })), 1);
  first.data(1, concat(handshake(), extHandshake({ m: { lt_donthave: 3, ut_metadata: 2 } })), 1);
  // conn 2 was open before the capture began: no handshakes, straight into messages.
  const C = '10.0.0.3:50000';
  const second = open(2, C, false);
  second.data(0, concat(have(1), have(2), have(3), keepAlive(), donthave(3, 2), extended(3, Uint8Array.of(1, 2, 3, 4, 5)), extended(2, new Uint8Array(0)), have(4)), 2);
  second.data(1, concat(have(1), have(2), have(3), keepAlive(), donthave(9, 7), have(5)), 2);
  const ext = messages(out).filter((r) => r.conn === 2 && r.msg === 'extended');
  assert.deepEqual(
    ext.map((r) => [r.src, r.extId, r.ext, r.probably, r.piece]),
    [
      [C, 3, null, 'lt_donthave', 2],
      // a payload that is not lt_donthave's 4 bytes, or not ut_metadata's bencoding: no guess
      [C, 3, null, undefined, undefined],
      [C, 2, null, undefined, undefined],
      // toward C: its own mapping was never seen, and nothing is known of its port
      [B, 9, null, undefined, undefined],
    ],
  );
  assert.equal(ext[0]!.probablyWhy, `${B} gave id 3 to lt_donthave in its extended handshake on conn 1`);
  assert.match(formatRecord(ext[0]!, 0), /UNRESOLVED .*\[probably lt_donthave \(10\.0\.0\.2:6881 gave id 3 to lt_donthave in its extended handshake on conn 1\) piece=2\]/);
});

test('located messages: one that arrives in more runs than MAX_EXTENT_PAIRS is not located (tracking stays bounded)', async () => {
  const { MAX_EXTENT_PAIRS } = await import('../../src/model/record.js');
  const info: FlowInfo = { transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: true };
  const where: (readonly number[] | undefined)[] = [];
  const conn = new BtConnection(info, { sink: (r, _raw, w) => void ('msg' in r && r.msg === 'piece' && where.push(w?.slice())), assignConn: () => 1, portHint: false, locate: true });
  conn.data(0, handshake(), 1, 0);
  for (const runs of [MAX_EXTENT_PAIRS - 10, MAX_EXTENT_PAIRS + 10]) {
    const m = piece(1, 0, new Uint8Array(runs - 13));
    // one byte per chunk, each 100 bytes after the last in the "file": nothing merges
    for (let i = 0; i < m.length; i++) conn.data(0, m.subarray(i, i + 1), 1, 1000 + 100 * i);
  }
  assert.equal(where.length, 2);
  assert.equal(where[0]!.length, 2 * (MAX_EXTENT_PAIRS - 10));
  assert.equal(where[1], undefined);
});

test('"probably" widened to the host: another port of the same IP, same client, advertised the id; two clients on that host disagreeing make no guess', async () => {
  const { AdvertisedMappings } = await import('../../src/bittorrent/extensions.js');
  const advertised = new AdvertisedMappings();
  const out: AnyRecord[] = [];
  const open = (conn: number, initiator: string, startSeen: boolean): BtConnection =>
    new BtConnection({ transport: 'tcp', initiator, responder: B, startTs: 1, startSeen }, { sink: (r) => void out.push(r), assignConn: () => conn, portHint: true, advertised });
  // conn 1: C (outgoing, ephemeral port 50000, a libtorrent peer id) advertises lt_donthave = 9.
  const C = '10.0.0.3';
  const first = open(1, `${C}:50000`, true);
  first.data(0, concat(handshake({ peerId: '-LT2080-abcdefghijkl' }), extHandshake({ m: { lt_donthave: 9 } })), 1);
  first.data(1, concat(handshake(), extHandshake({ m: { lt_donthave: 3 } })), 1);
  // conn 2: C on another ephemeral port, captured mid-stream; B sends it id 9.
  const second = open(2, `${C}:50001`, false);
  second.data(0, concat(have(1), have(2), have(3), keepAlive(), have(4)), 2);
  second.data(1, concat(have(1), have(2), have(3), keepAlive(), donthave(9, 7), have(5)), 2);
  const [guess] = messages(out).filter((r) => r.conn === 2 && r.msg === 'extended');
  assert.equal(guess?.probably, 'lt_donthave');
  assert.equal(guess?.piece, 7);
  assert.equal(guess?.probablyWhy, `its host ${C}:50000 gave id 9 to lt_donthave in its extended handshake on conn 1 (same IP and client)`);
  // conn 3: a second client on C gave id 9 to another extension: the host no longer says which.
  const third = open(3, `${C}:50002`, true);
  third.data(0, concat(handshake({ peerId: '-WW0208-abcdefghijkl' }), extHandshake({ m: { ut_pex: 9 } })), 3);
  const fourth = open(4, `${C}:50003`, false);
  fourth.data(1, concat(have(1), have(2), have(3), keepAlive(), donthave(9, 8), have(5)), 4);
  const [none] = messages(out).filter((r) => r.conn === 4 && r.msg === 'extended');
  assert.equal(none?.ext, null);
  assert.equal(none?.probably, undefined);
});

test('--ext-map (Decode As): a receiver without a captured extended handshake resolves ids through the given mapping; a captured handshake wins', async () => {
  const { GivenMappings, parseExtMap } = await import('../../src/bittorrent/extensions.js');
  const spec = parseExtMap('10.0.0.1=lt_donthave:5,ut_pex:2');
  assert.ok(typeof spec !== 'string');
  assert.equal(typeof parseExtMap('10.0.0.1:99999=lt_donthave:5'), 'string');
  assert.equal(typeof parseExtMap('host=lt_donthave:5'), 'string');
  assert.equal(typeof parseExtMap('10.0.0.1=lt_donthave'), 'string');
  assert.deepEqual(parseExtMap('[::1]:6881=lt_donthave:3'), { endpoint: '[::1]:6881', m: { lt_donthave: 3 }, spec: '[::1]:6881=lt_donthave:3' });
  const given = new GivenMappings([spec, parseExtMap(`${B}=lt_donthave:4`) as Exclude<typeof spec, string>]);
  const records: AnyRecord[] = [];
  const conn = new BtConnection({ transport: 'tcp', initiator: A, responder: B, startTs: 1, startSeen: false }, { sink: (r) => void records.push(r), assignConn: () => 1, portHint: true, given });
  // toward A (every port of 10.0.0.1): id 5 is lt_donthave; toward B: 4, until B's handshake says 1
  conn.data(1, concat(have(1), have(2), have(3), keepAlive(), donthave(5, 11), donthave(4, 12)), 1);
  conn.data(0, concat(have(1), have(2), have(3), keepAlive(), donthave(4, 13)), 2);
  conn.data(1, extHandshake({ m: { lt_donthave: 1 } }), 3);
  conn.data(0, donthave(4, 14), 4);
  const ext = messages(records).filter((r) => r.msg === 'extended' && r.ext !== 'handshake');
  assert.deepEqual(
    ext.map((r) => [r.dst, r.ext, r.piece, r.mappingFrom]),
    [
      [A, 'lt_donthave', 11, '--ext-map 10.0.0.1=lt_donthave:5,ut_pex:2'],
      [A, null, undefined, undefined],
      [B, 'lt_donthave', 13, `--ext-map ${B}=lt_donthave:4`],
      // the capture now holds the receiver's mapping: id 4 is not in it
      [B, null, undefined, undefined],
    ],
  );
});
