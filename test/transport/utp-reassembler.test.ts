import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  UtpReassembler,
  parseUtpHeader,
} from '../../src/transport/utp-reassembler.js';
import type { FlowInfo, StreamHandler } from '../../src/transport/types.js';
import type { NetPacket } from '../../src/net/types.js';
import type { Dir } from '../../src/model/record.js';

const A = { ip: '10.0.0.1', port: 40000 };
const B = { ip: '10.0.0.2', port: 6881 };

type Ext = [type: number, bytes: number[]];

/** A uTP datagram: 20-byte header (BEP 29 layout), extension chain, payload. */
function utpBytes(type: number, connId: number, seq: number, ack: number, payload: Uint8Array | string = '', exts: Ext[] = []): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const extLen = exts.reduce((n, [, b]) => n + 2 + b.length, 0);
  const out = new Uint8Array(20 + extLen + body.length);
  const v = new DataView(out.buffer);
  out[0] = (type << 4) | 1;
  out[1] = exts[0]?.[0] ?? 0;
  v.setUint16(2, connId & 0xffff);
  v.setUint32(4, 123456); // timestamp_microseconds
  v.setUint32(8, 789); // timestamp_difference_microseconds
  v.setUint32(12, 1 << 20); // wnd_size
  v.setUint16(16, seq & 0xffff);
  v.setUint16(18, ack & 0xffff);
  let off = 20;
  exts.forEach(([, bytes], i) => {
    out[off] = exts[i + 1]?.[0] ?? 0;
    out[off + 1] = bytes.length;
    out.set(bytes, off + 2);
    off += 2 + bytes.length;
  });
  out.set(body, off);
  return out;
}

function udp(from: 'A' | 'B', payload: Uint8Array, ends = { A, B }): NetPacket {
  const [s, d] = from === 'A' ? [ends.A, ends.B] : [ends.B, ends.A];
  return {
    ipVersion: 4,
    srcIp: s.ip,
    dstIp: d.ip,
    srcPort: s.port,
    dstPort: d.port,
    src: `${s.ip}:${s.port}`,
    dst: `${d.ip}:${d.port}`,
    proto: 'udp',
    seq: 0,
    ack: 0,
    flags: 0,
    payload,
  };
}

function pkt(from: 'A' | 'B', type: number, connId: number, seq: number, ack: number, payload: Uint8Array | string = '', exts: Ext[] = []): NetPacket {
  return udp(from, utpBytes(type, connId, seq, ack, payload, exts));
}

const syn = (connId: number, seq: number) => pkt('A', ST_SYN, connId, seq, 0);
const state = (from: 'A' | 'B', connId: number, seq: number, ack: number) => pkt(from, ST_STATE, connId, seq, ack);
const data = (from: 'A' | 'B', connId: number, seq: number, payload: Uint8Array | string, ack = 0) => pkt(from, ST_DATA, connId, seq, ack, payload);
const fin = (from: 'A' | 'B', connId: number, seq: number, ack = 0) => pkt(from, ST_FIN, connId, seq, ack);

type Event = ['data', Dir, string] | ['gap', Dir, number] | ['end', Dir, string] | ['finish'];

class Recorder implements StreamHandler {
  events: Event[] = [];
  streams: [number[], number[]] = [[], []];
  ignored = false;
  constructor(readonly info: FlowInfo) {}
  data(dir: Dir, bytes: Uint8Array): void {
    const last = this.events.at(-1);
    const text = Buffer.from(bytes).toString('latin1');
    if (last?.[0] === 'data' && last[1] === dir) last[2] += text;
    else this.events.push(['data', dir, text]);
    for (const b of bytes) this.streams[dir].push(b);
  }
  gap(dir: Dir, bytes: number): void {
    this.events.push(['gap', dir, bytes]);
  }
  end(dir: Dir, how: string): void {
    this.events.push(['end', dir, how]);
  }
  finish(): void {
    this.events.push(['finish']);
  }
}

function setup(options?: ConstructorParameters<typeof UtpReassembler>[1]) {
  const flows: Recorder[] = [];
  const r = new UtpReassembler((info) => {
    const h = new Recorder(info);
    flows.push(h);
    return h;
  }, options);
  let ts = 0;
  const feed = (...pkts: NetPacket[]) => {
    for (const p of pkts) r.packet(++ts, p);
  };
  return { r, flows, feed };
}

/**
 * A connection opened by A: SYN with receive id X = 1000 and seq 100, B's ST_STATE with seq 500
 * (its next data seq, not consumed) acking the SYN. A then sends with id 1001, B with id 1000.
 */
const X = 1000;
function opened() {
  const s = setup();
  s.feed(syn(X, 100), state('B', X, 500, 100));
  return s;
}

// ---- parseUtpHeader ----------------------------------------------------------------------------

test('parseUtpHeader reads type, connection id, seq, ack and skips extensions by their length', () => {
  assert.deepEqual(parseUtpHeader(utpBytes(ST_SYN, 0x1234, 0xfffe, 0)), { type: ST_SYN, connId: 0x1234, seq: 0xfffe, ack: 0, payloadOffset: 20 });
  assert.deepEqual(parseUtpHeader(utpBytes(ST_DATA, 7, 8, 9, 'xy')), { type: ST_DATA, connId: 7, seq: 8, ack: 9, payloadOffset: 20 });
  // libtorrent's selective ACK bitmasks of 1 and 2 bytes (BEP 29 says multiples of 4)
  assert.equal(parseUtpHeader(utpBytes(ST_DATA, 7, 8, 9, 'xy', [[1, [0x05]]]))?.payloadOffset, 23);
  assert.equal(parseUtpHeader(utpBytes(ST_STATE, 7, 8, 9, '', [[1, [0x05]]]))?.payloadOffset, 23);
  assert.equal(parseUtpHeader(utpBytes(ST_STATE, 7, 8, 9, '', [[1, [0x80, 0x01]]]))?.payloadOffset, 24);
  // a chain: selective ACK, then extension bits (8 bytes)
  const chained = utpBytes(ST_DATA, 7, 8, 9, 'p', [
    [1, [1, 2, 3, 4]],
    [2, [0, 0, 0, 0, 0, 0, 0, 0]],
  ]);
  assert.equal(parseUtpHeader(chained)?.payloadOffset, 20 + 6 + 10);
});

test('parseUtpHeader rejects datagrams that are not well-formed uTP', () => {
  const bad: Array<[string, Uint8Array]> = [
    ['too short', utpBytes(ST_STATE, 1, 2, 3).subarray(0, 19)],
    ['version 2', Uint8Array.from(utpBytes(ST_STATE, 1, 2, 3), (b, i) => (i === 0 ? (ST_STATE << 4) | 2 : b))],
    ['type 5', Uint8Array.from(utpBytes(ST_STATE, 1, 2, 3), (b, i) => (i === 0 ? (5 << 4) | 1 : b))],
    ['unknown extension type 9', utpBytes(ST_DATA, 1, 2, 3, 'x', [[9, [0, 0, 0, 0]]])],
    ['empty selective ACK', utpBytes(ST_STATE, 1, 2, 3, '', [[1, []]])],
    ['extension longer than the datagram', utpBytes(ST_STATE, 1, 2, 3, '', [[1, [1, 2, 3, 4]]]).subarray(0, 25)],
    ['extension header cut', utpBytes(ST_STATE, 1, 2, 3, '', [[1, [1, 2, 3, 4]]]).subarray(0, 21)],
    ['ST_DATA without payload', utpBytes(ST_DATA, 1, 2, 3)],
    ['ST_STATE with a payload', utpBytes(ST_STATE, 1, 2, 3, 'x')],
    ['ST_SYN with a payload', utpBytes(ST_SYN, 1, 2, 3, 'x')],
  ];
  for (const [why, bytes] of bad) assert.equal(parseUtpHeader(bytes), null, why);
});

const enc = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const id20 = 'abcdefghij0123456789';
/** Real shapes of non-uTP UDP traffic that shares ports with uTP. */
const NOT_UTP: Array<[string, Uint8Array]> = [
  ['DHT ping query', enc(`d1:ad2:id20:${id20}e1:q4:ping1:t2:aa1:y1:qe`)],
  ['DHT get_peers query (libtorrent)', enc(`d1:ad2:id20:${id20}9:info_hash20:${id20}e1:q9:get_peers1:t2:xy1:v4:LT\x02\x081:y1:qe`)],
  ['DHT response with ip (libtorrent)', enc(`d2:ip6:\x7f\x00\x00\x01\xbe\xf11:rd2:id20:${id20}e1:t2:aa1:v4:LT\x02\x081:y1:re`)],
  ['DHT error', enc('d1:eli201e13:Generic Errore1:t2:aa1:y1:ee')],
  ['UDP tracker connect request', Uint8Array.from([0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef])],
  ['UDP tracker connect response', Uint8Array.from([0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0x9a, 0x3f, 0x11, 0x02, 0x77, 0x00, 0xc1, 0x05])],
  [
    'UDP tracker announce request',
    Uint8Array.from({ length: 98 }, (_, i) => [0x9a, 0x3f, 0x11, 0x02, 0x77, 0x00, 0xc1, 0x05, 0, 0, 0, 1][i] ?? (i * 7) & 0xff),
  ],
  ['UDP tracker announce response', Uint8Array.from({ length: 26 }, (_, i) => [0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 0, 0, 7, 8][i] ?? i)],
  ['UDP tracker error', Uint8Array.from([0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, ...enc('torrent not registered')])],
];

test('DHT KRPC and UDP tracker datagrams are rejected and never create flows', () => {
  for (const [why, bytes] of NOT_UTP) assert.equal(parseUtpHeader(bytes), null, why);
  const { r, flows, feed } = setup();
  for (const [, bytes] of NOT_UTP) feed(udp('A', bytes), udp('B', bytes));
  r.finish(99);
  assert.equal(flows.length, 0);
  assert.equal(r.notUtp, 2 * NOT_UTP.length);
});

test('random datagrams: only a valid uTP header shape passes, and nothing else opens a flow', () => {
  const rand = rng(2024);
  const { r, flows, feed } = setup();
  let accepted = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
    const h = parseUtpHeader(bytes);
    if (h !== null) {
      // a random datagram can only pass with version 1, a known type and a consistent extension chain
      accepted++;
      assert.equal(bytes[0]! & 0x0f, 1);
      assert.ok(h.type <= ST_SYN);
      assert.ok(h.payloadOffset <= bytes.length);
    }
    feed(udp('A', bytes));
  }
  r.finish(n + 1);
  assert.ok(accepted <= 3, `${accepted} of ${n} random datagrams parsed as uTP`);
  assert.ok(flows.length <= accepted);
  assert.equal(r.notUtp, n - accepted);
});

// ---- connections and streams -------------------------------------------------------------------

test('SYN, STATE and DATA in order: SYN sender is the initiator, both streams, FIN each side', () => {
  const { r, flows, feed } = opened();
  feed(
    data('A', X + 1, 101, 'hello', 499),
    data('B', X, 500, 'world', 101),
    data('A', X + 1, 102, '!', 500),
    fin('A', X + 1, 103, 500),
    state('B', X, 501, 103),
  );
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  // What the handler is told (the flow itself is the FlowInfo: its FlowInfo fields).
  const { transport, initiator, responder, startTs, startFrame, startSeen } = f.info;
  assert.deepEqual({ transport, initiator, responder, startTs, startFrame, startSeen }, { transport: 'utp', initiator: '10.0.0.1:40000', responder: '10.0.0.2:6881', startTs: 1, startFrame: 0, startSeen: true });
  assert.deepEqual(f.events, [
    ['data', 0, 'hello'],
    ['data', 1, 'world'],
    ['data', 0, '!'],
    ['end', 0, 'fin'],
  ]);
  assert.equal(r.flowCount, 1);
  feed(fin('B', X, 501, 103), state('A', X + 1, 104, 501));
  assert.deepEqual(f.events.slice(4), [['end', 1, 'fin'], ['finish']]);
  assert.equal(r.flowCount, 0);
  r.finish(100);
  assert.equal(f.events.filter((e) => e[0] === 'finish').length, 1);
  assert.equal(r.notUtp, 0);
});

test('the responder\'s ST_STATE missed by the capture: the initiator\'s ack tells where its stream starts', () => {
  const { flows, feed } = setup();
  // A acks 499 = the STATE's seq - 1, so B's stream starts at 500 even though 501 is captured first
  feed(syn(X, 100), data('A', X + 1, 101, 'a', 499), data('B', X, 501, 'B', 101), data('B', X, 500, 'A', 101));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'a'],
    ['data', 1, 'AB'],
  ]);
});

test('in-order payload is passed as a view into the datagram, not a copy', () => {
  const { flows, feed } = opened();
  const p = data('A', X + 1, 101, 'abcd');
  let seen: Uint8Array | undefined;
  flows[0]!.data = (_dir, bytes) => {
    seen = bytes;
  };
  feed(p);
  assert.equal(seen?.buffer, p.payload.buffer);
});

test('out-of-order packets are held until the hole fills', () => {
  const { flows, feed } = opened();
  feed(data('A', X + 1, 104, 'd'), data('A', X + 1, 103, 'c'), data('A', X + 1, 102, 'b'));
  assert.deepEqual(flows[0]!.events, []);
  feed(data('A', X + 1, 101, 'a'), data('A', X + 1, 105, 'e'));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcde']]);
});

test('duplicates and retransmissions are dropped (held or delivered), a retransmitted SYN is not a new flow', () => {
  const { flows, feed } = opened();
  feed(
    syn(X, 100), // retransmitted SYN
    data('A', X + 1, 101, 'a'),
    data('A', X + 1, 101, 'a'), // duplicate of a delivered packet
    data('A', X + 1, 103, 'c'),
    data('A', X + 1, 103, 'C'), // duplicate of a held packet: first seen wins
    data('A', X + 1, 102, 'b'),
    data('A', X + 1, 102, 'B'), // retransmission after delivery
    data('A', X + 1, 100, 'Z'), // the SYN's seq: before the stream
    data('A', X + 1, 104, 'd'),
  );
  assert.equal(flows.length, 1);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcd']]);
});

test('sequence numbers and connection ids wrap at 16 bits', () => {
  const { flows, feed } = setup();
  feed(
    syn(0xffff, 0xfffd), // the initiator then sends with id 0
    state('B', 0xffff, 0xffff, 0xfffd),
    data('A', 0, 0xfffe, 'a', 0xfffe),
    data('A', 0, 0x0000, 'c', 0xfffe), // after the wrap, held
    data('B', 0xffff, 0xffff, 'X', 0xfffe),
    data('A', 0, 0xffff, 'b', 0xffff),
    data('B', 0xffff, 0x0000, 'Y', 0x0000),
    data('A', 0, 0x0002, 'e', 0x0000),
    data('A', 0, 0x0001, 'd', 0x0000),
    fin('A', 0, 0x0003, 0x0000),
  );
  assert.equal(flows.length, 1);
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'a'],
    ['data', 1, 'X'],
    ['data', 0, 'bc'],
    ['data', 1, 'Y'],
    ['data', 0, 'de'],
    ['end', 0, 'fin'],
  ]);
});

test('a packet the receiver acknowledged but the capture missed: gap(dir, 0), then the stream continues', () => {
  // nothing held: the ack alone shows the loss
  const s1 = opened();
  s1.feed(data('A', X + 1, 101, 'a', 499), state('B', X, 500, 101));
  s1.feed(state('B', X, 500, 102)); // B got 102, the capture did not
  s1.feed(data('A', X + 1, 103, 'c', 499), data('A', X + 1, 102, 'late copy', 499));
  assert.deepEqual(s1.flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
    ['data', 0, 'c'],
  ]);
  // with packets held behind the hole: an ack short of the hole changes nothing, one past it skips it
  const s2 = opened();
  s2.feed(data('A', X + 1, 101, 'a'), data('A', X + 1, 103, 'c'), data('A', X + 1, 104, 'd'));
  s2.feed(state('B', X, 500, 101));
  assert.deepEqual(s2.flows[0]!.events, [['data', 0, 'a']]);
  s2.feed(state('B', X, 500, 103), data('A', X + 1, 105, 'e'));
  assert.deepEqual(s2.flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
    ['data', 0, 'cde'],
  ]);
  // the same for the responder's direction, acked by the initiator
  const s3 = opened();
  s3.feed(data('B', X, 500, 'x', 100), data('A', X + 1, 101, 'a', 501), data('B', X, 502, 'z', 101));
  assert.deepEqual(s3.flows[0]!.events, [
    ['data', 1, 'x'],
    ['gap', 1, 0],
    ['data', 0, 'a'],
    ['data', 1, 'z'],
  ]);
});

test('an ack short of the held packets skips only what it acknowledges: a later retransmission still fills the rest', () => {
  // receiver-side capture: 102 reached B but not the capture, 103 was lost on the way and is
  // retransmitted after B's cumulative ack of 102
  const { flows, feed } = opened();
  feed(data('A', X + 1, 101, 'a'), data('A', X + 1, 104, 'd'), state('B', X, 500, 102));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
  ]);
  feed(data('A', X + 1, 103, 'c'));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
    ['data', 0, 'cd'],
  ]);
});

test('FIN ends the direction only when every packet before it arrived', () => {
  const { flows, feed, r } = opened();
  feed(data('A', X + 1, 101, 'a'), fin('A', X + 1, 103));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'a']]);
  feed(data('A', X + 1, 104, 'beyond the FIN'), data('A', X + 1, 102, 'b'));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'ab'],
    ['end', 0, 'fin'],
  ]);
  feed(data('A', X + 1, 102, 'b')); // retransmission after the end
  r.finish(99);
  assert.deepEqual(flows[0]!.events.slice(2), [['finish']]);
});

test('FIN with a hole before it: the receiver\'s ack of the FIN ends it with a gap; else finish does', () => {
  const s1 = opened();
  s1.feed(data('A', X + 1, 101, 'a'), fin('A', X + 1, 103), state('B', X, 500, 103));
  assert.deepEqual(s1.flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
    ['end', 0, 'fin'],
  ]);
  const s2 = opened();
  s2.feed(data('A', X + 1, 101, 'a'), fin('A', X + 1, 103));
  s2.r.finish(99);
  assert.deepEqual(s2.flows[0]!.events, [['data', 0, 'a'], ['gap', 0, 0], ['end', 0, 'fin'], ['finish']]);
});

test('ST_RESET flushes held data with a gap, ends the connection, and late packets open nothing', () => {
  const { r, flows, feed } = opened();
  feed(data('A', X + 1, 101, 'ab'), data('A', X + 1, 103, 'd'));
  feed(pkt('B', ST_RESET, X, 500, 101));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'ab'],
    ['gap', 0, 0],
    ['data', 0, 'd'],
    ['end', 1, 'rst'],
    ['finish'],
  ]);
  assert.equal(r.flowCount, 0);
  feed(data('A', X + 1, 104, 'late'), data('B', X, 500, 'late'), state('B', X, 500, 104));
  assert.equal(flows.length, 1);
});

test('connection ids: two concurrent connections between the same endpoints stay apart', () => {
  const { r, flows, feed } = setup();
  feed(
    syn(1000, 10),
    syn(2000, 50),
    state('B', 2000, 700, 50),
    state('B', 1000, 300, 10),
    data('A', 1001, 11, 'one'),
    data('A', 2001, 51, 'two'),
    data('B', 2000, 700, 'TWO'),
    data('B', 1000, 300, 'ONE'),
    data('A', 2001, 52, '2'),
    data('A', 1001, 12, '1'),
    pkt('B', ST_RESET, 2000, 701, 52),
  );
  assert.equal(flows.length, 2);
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'one'],
    ['data', 1, 'ONE'],
    ['data', 0, '1'],
  ]);
  assert.deepEqual(flows[1]!.events, [['data', 0, 'two'], ['data', 1, 'TWO'], ['data', 0, '2'], ['end', 1, 'rst'], ['finish']]);
  assert.equal(r.flowCount, 1);
  // an id that belongs to neither connection opens nothing unless it carries data
  feed(state('B', 3000, 1, 1), fin('A', 3001, 1));
  assert.equal(flows.length, 2);
});

test('a new SYN with the same id but another seq replaces the old connection', () => {
  const { flows, feed } = opened();
  feed(data('A', X + 1, 101, 'old'), syn(X, 9000), state('B', X, 40, 9000), data('A', X + 1, 9001, 'new'));
  assert.equal(flows.length, 2);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'old'], ['finish']]);
  assert.deepEqual(flows[1]!.events, [['data', 0, 'new']]);
});

test('mid-stream (no SYN), initiator seen first: one flow, the first sender as initiator', () => {
  const { flows, feed } = setup();
  feed(data('A', X + 1, 40, 'x', 89), data('B', X, 90, 'y', 40), data('A', X + 1, 41, 'z', 90), state('B', X, 91, 41));
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.info.initiator, '10.0.0.1:40000');
  assert.equal(f.info.startSeen, false);
  assert.deepEqual(f.events, [
    ['data', 0, 'x'],
    ['data', 1, 'y'],
    ['data', 0, 'z'],
  ]);
});

test('mid-stream (no SYN), responder seen first: its id is one less, still one flow', () => {
  const { flows, feed } = setup();
  // B really is the responder (sends with X); A, the real initiator, sends with X+1
  feed(data('B', X, 90, 'y', 40), state('A', X + 1, 41, 90), data('A', X + 1, 41, 'z', 90), data('B', X, 91, 'w', 41));
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.info.initiator, '10.0.0.2:6881'); // the first sender seen
  assert.equal(f.info.responder, '10.0.0.1:40000');
  assert.deepEqual(f.events, [
    ['data', 0, 'y'],
    ['data', 1, 'z'],
    ['data', 0, 'w'],
  ]);
});

test('a lone ST_STATE/ST_FIN of an unknown connection opens nothing', () => {
  const { r, flows, feed } = setup();
  feed(state('A', 5, 1, 1), fin('B', 4, 2, 1), pkt('A', ST_RESET, 5, 1, 1));
  r.finish(9);
  assert.equal(flows.length, 0);
});

test('held-packet bounds: the hole is declared a gap', () => {
  const s1 = setup({ maxHeldPackets: 2 });
  s1.feed(syn(X, 0), data('A', X + 1, 1, 'a'), data('A', X + 1, 3, 'c'), data('A', X + 1, 4, 'd'));
  assert.deepEqual(s1.flows[0]!.events, [['data', 0, 'a']]);
  s1.feed(data('A', X + 1, 5, 'e'));
  assert.deepEqual(s1.flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 0],
    ['data', 0, 'cde'],
  ]);
  const s2 = setup({ maxHeldBytes: 8 });
  s2.feed(syn(X, 0), data('A', X + 1, 2, 'bbbb'), data('A', X + 1, 3, 'cccc'));
  assert.deepEqual(s2.flows[0]!.events, []);
  s2.feed(data('A', X + 1, 5, 'e'));
  // only the first hole is given up; 'e' waits behind the second one
  assert.deepEqual(s2.flows[0]!.events, [
    ['gap', 0, 0],
    ['data', 0, 'bbbbcccc'],
  ]);
  s2.feed(data('A', X + 1, 4, 'd'));
  assert.deepEqual(s2.flows[0]!.events.at(-1), ['data', 0, 'bbbbccccde']);
});

test('packets far from the expected seq are strays, not a huge hole', () => {
  const { r, flows, feed } = opened();
  feed(data('A', X + 1, 101, 'a'), data('A', X + 1, 101 + 20000, 'evil'), data('A', X + 1, 102, 'b'));
  r.finish(9);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'ab'], ['finish']]);
});

test('factory returning null ignores the flow; handler.ignored stops delivery but finish still comes', () => {
  let calls = 0;
  const r = new UtpReassembler(() => {
    calls++;
    return null;
  });
  r.packet(1, syn(X, 100));
  r.packet(2, data('A', X + 1, 101, 'abc'));
  r.packet(3, data('B', X, 7, 'abc'));
  assert.equal(calls, 1);
  r.finish(4);

  const { flows, feed, r: r2 } = opened();
  feed(data('A', X + 1, 101, 'abc'));
  flows[0]!.ignored = true;
  feed(data('A', X + 1, 102, 'def'), fin('A', X + 1, 103));
  r2.finish(9);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abc'], ['finish']]);
});

test('maxFlows evicts the least recently active connections (finishing them)', () => {
  const { r, flows, feed } = setup({ maxFlows: 10 });
  for (let i = 0; i < 25; i++) feed(syn(100 * i, 1));
  assert.ok(r.flowCount <= 10);
  assert.equal(flows.length, 25);
  assert.deepEqual(flows[0]!.events, [['finish']]);
  r.finish(99);
  for (const f of flows) assert.equal(f.events.filter((e) => e[0] === 'finish').length, 1);
});

test('IPv6 endpoints keep their bracketed form in the flow info', () => {
  const ends = { A: { ip: '::1', port: 48883 }, B: { ip: '::1', port: 48881 } };
  const flows: Recorder[] = [];
  const r = new UtpReassembler((info) => {
    const h = new Recorder(info);
    flows.push(h);
    return h;
  });
  const p = udp('A', utpBytes(ST_SYN, 5, 1, 0), ends);
  p.ipVersion = 6;
  p.src = '[::1]:48883';
  p.dst = '[::1]:48881';
  r.packet(1, p);
  assert.equal(flows[0]!.info.initiator, '[::1]:48883');
  assert.equal(flows[0]!.info.responder, '[::1]:48881');
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('shuffled with duplicates, selective-ACK extensions and seq wrap: the exact original bytes', () => {
  const rand = rng(4242);
  for (let iter = 0; iter < 1500; iter++) {
    const isn = iter % 3 === 0 ? 0xffe0 + (iter % 40) : Math.floor(rand() * 0x10000);
    const connId = Math.floor(rand() * 0x10000);
    const count = 1 + Math.floor(rand() * 40);
    const chunks = Array.from({ length: count }, () => Uint8Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * 256)));
    const pkts: NetPacket[] = [];
    chunks.forEach((c, i) => {
      const exts: Ext[] = rand() < 0.3 ? [[1, Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Math.floor(rand() * 256))]] : [];
      const p = pkt('A', ST_DATA, connId + 1, isn + 1 + i, 0, c, exts);
      pkts.push(p);
      if (rand() < 0.3) pkts.push(p); // duplicate
    });
    for (let i = pkts.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pkts[i], pkts[j]] = [pkts[j]!, pkts[i]!];
    }
    const { r, flows, feed } = setup();
    feed(syn(connId, isn), ...pkts, fin('A', connId + 1, isn + 1 + count));
    r.finish(1e9);
    const f = flows[0]!;
    assert.equal(flows.length, 1, `iteration ${iter}`);
    assert.deepEqual(f.events.filter((e) => e[0] === 'gap'), [], `iteration ${iter}`);
    assert.deepEqual(Uint8Array.from(f.streams[0]), Uint8Array.from(chunks.flatMap((c) => [...c])), `iteration ${iter}`);
    assert.deepEqual(f.events.slice(-2), [['end', 0, 'fin'], ['finish']], `iteration ${iter}`);
  }
});
