import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpReassembler } from '../../src/transport/tcp-reassembler.js';
import type { FlowInfo, StreamHandler } from '../../src/transport/types.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type NetPacket } from '../../src/net/types.js';
import type { Dir } from '../../src/model/record.js';
import { PRESSURE_BRIEF, PRESSURE_FLOWS } from '../../src/transport/idle.js';

const A = { ip: '10.0.0.1', port: 40000 };
const B = { ip: '10.0.0.2', port: 6881 };

function seg(from: 'A' | 'B', seq: number, payload: Uint8Array | string = '', flags = TCP_ACK, ack = 0): NetPacket {
  const [s, d] = from === 'A' ? [A, B] : [B, A];
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return {
    ipVersion: 4,
    srcIp: s.ip,
    dstIp: d.ip,
    srcPort: s.port,
    dstPort: d.port,
    src: `${s.ip}:${s.port}`,
    dst: `${d.ip}:${d.port}`,
    proto: 'tcp',
    seq: seq >>> 0,
    ack: ack >>> 0,
    flags,
    payload: bytes,
  };
}

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

function setup(options?: ConstructorParameters<typeof TcpReassembler>[1]) {
  const flows: Recorder[] = [];
  const r = new TcpReassembler((info) => {
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

test('in order with handshake: SYN sender is the initiator, data per direction, FIN each side', () => {
  const { r, flows, feed } = setup();
  feed(
    seg('A', 100, '', TCP_SYN),
    seg('B', 500, '', TCP_SYN | TCP_ACK, 101),
    seg('A', 101, 'hello', TCP_ACK, 501),
    seg('B', 501, 'world', TCP_ACK, 106),
    seg('A', 106, '!', TCP_ACK | TCP_FIN, 506),
    seg('B', 506, '', TCP_ACK | TCP_FIN, 108),
    seg('A', 108, '', TCP_ACK, 507),
  );
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.info.initiator, '10.0.0.1:40000');
  assert.equal(f.info.responder, '10.0.0.2:6881');
  assert.equal(f.info.startSeen, true);
  assert.deepEqual(f.events, [
    ['data', 0, 'hello'],
    ['data', 1, 'world'],
    ['data', 0, '!'],
    ['end', 0, 'fin'],
    ['end', 1, 'fin'],
    ['finish'],
  ]);
  assert.equal(r.flowCount, 0);
  r.finish(100);
  assert.equal(f.events.filter((e) => e[0] === 'finish').length, 1);
});

test('in-order payload is passed as a view, not a copy', () => {
  const payload = new Uint8Array([1, 2, 3, 4]);
  let seen: Uint8Array | undefined;
  // The handler is made at the first payload: it is told about the bytes as it is made.
  const r = new TcpReassembler((info) => {
    const h = new Recorder(info);
    h.data = (_dir, bytes) => {
      seen = bytes;
    };
    return h;
  });
  r.packet(1, seg('A', 1, '', TCP_SYN));
  r.packet(2, seg('A', 2, payload));
  assert.equal(seen?.buffer, payload.buffer);
});

test('SYN/ACK as first packet: its destination is the initiator and both starts are known', () => {
  const { flows, feed } = setup();
  feed(seg('B', 500, '', TCP_SYN | TCP_ACK, 101), seg('A', 101, 'abc', TCP_ACK, 501), seg('B', 501, 'xy'));
  const f = flows[0]!;
  assert.equal(f.info.initiator, '10.0.0.1:40000');
  assert.equal(f.info.startSeen, true);
  assert.deepEqual(f.events, [
    ['data', 0, 'abc'],
    ['data', 1, 'xy'],
  ]);
});

test('SYN/ACK first: initiator data arriving out of order is held from ack-1', () => {
  const { flows, feed, r } = setup();
  feed(seg('B', 500, '', TCP_SYN | TCP_ACK, 101), seg('A', 104, 'def'), seg('A', 101, 'abc'));
  r.finish(9);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcdef'], ['finish']]);
});

test('mid-stream start: first sender is the initiator, startSeen false', () => {
  const { flows, feed } = setup();
  feed(seg('B', 7000, 'data1'), seg('A', 9000, 'q'), seg('B', 7005, 'data2'));
  const f = flows[0]!;
  assert.equal(f.info.initiator, '10.0.0.2:6881');
  assert.equal(f.info.startSeen, false);
  assert.deepEqual(f.events, [
    ['data', 0, 'data1'],
    ['data', 1, 'q'],
    ['data', 0, 'data2'],
  ]);
});

test('out of order segments are held until the hole fills', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 7, 'ghi'), seg('A', 4, 'def'), seg('A', 1, 'abc'), seg('A', 10, 'j'));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcdefghij']]);
});

test('retransmissions and partial overlaps at both ends deliver only new bytes (first seen wins)', () => {
  const { flows, feed } = setup();
  feed(
    seg('A', 0, '', TCP_SYN),
    seg('A', 1, 'abcd'),
    seg('A', 1, 'abcd'), // duplicate
    seg('A', 3, 'CDef'), // overlaps the front
    seg('A', 10, 'jk'), // held
    seg('A', 9, 'IJKl'), // overlaps held and delivered
    seg('A', 7, 'gh'),
    seg('A', 0, 'Xab'), // keep-alive style probe before the start
  );
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcdefghIjkl']]);
});

test('sequence numbers wrap around 2^32', () => {
  const { flows, feed } = setup();
  const isn = 0xfffffffa;
  feed(
    seg('A', isn, '', TCP_SYN),
    seg('A', isn + 1, 'abc'),
    seg('A', (isn + 7) >>> 0, 'ghij'), // crosses and lands after the wrap
    seg('A', (isn + 4) >>> 0, 'def'),
    seg('A', (isn + 11) >>> 0, 'k', TCP_ACK | TCP_FIN),
  );
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'abcdefghijk'],
    ['end', 0, 'fin'],
  ]);
});

test('FIN before a hole: gap reported at finish, then end', () => {
  const { flows, feed, r } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 1, 'ab'), seg('A', 6, 'fg', TCP_ACK | TCP_FIN));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'ab']]);
  r.finish(99);
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'ab'],
    ['gap', 0, 3],
    ['data', 0, 'fg'],
    ['end', 0, 'fin'],
    ['finish'],
  ]);
});

test('FIN arriving before the retransmission that fills the hole: no gap', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 4, '', TCP_ACK | TCP_FIN), seg('A', 1, 'abc'));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'abc'],
    ['end', 0, 'fin'],
  ]);
});

test('RST flushes held data with a gap and ends the connection', () => {
  const { flows, feed, r } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('B', 50, '', TCP_SYN | TCP_ACK, 1), seg('A', 1, 'ab'), seg('A', 5, 'ef'));
  feed(seg('B', 51, '', TCP_RST | TCP_ACK, 3));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'ab'],
    ['gap', 0, 2],
    ['data', 0, 'ef'],
    ['end', 1, 'rst'],
    ['finish'],
  ]);
  assert.equal(r.flowCount, 0);
  feed(seg('A', 7, 'late')); // late segment of the reset connection: no new flow
  assert.equal(flows.length, 1);
});

test('gap when the held bounds are exceeded', () => {
  const { flows, feed } = setup({ maxHeldBytes: 10, maxHeldSegments: 3 });
  feed(seg('A', 0, '', TCP_SYN), seg('A', 1, 'a'), seg('A', 5, 'efgh'), seg('A', 9, 'ijkl'), seg('A', 13, 'mnop'));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'a'],
    ['gap', 0, 3],
    ['data', 0, 'efghijklmnop'],
  ]);
  const { flows: f2, feed: feed2, r: r2 } = setup({ maxHeldSegments: 2 });
  feed2(seg('A', 0, '', TCP_SYN), seg('A', 3, 'c'), seg('A', 5, 'e'), seg('A', 7, 'g'));
  // only the first hole is given up: two segments may stay held
  assert.deepEqual(f2[0]!.events, [
    ['gap', 0, 2],
    ['data', 0, 'c'],
  ]);
  feed2(seg('A', 4, 'd'));
  r2.finish(9);
  assert.deepEqual(f2[0]!.events, [
    ['gap', 0, 2],
    ['data', 0, 'cde'],
    ['gap', 0, 1],
    ['data', 0, 'g'],
    ['finish'],
  ]);
});

test('ACK from the other side beyond a hole declares the gap at once', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('B', 50, '', TCP_SYN | TCP_ACK, 1), seg('A', 1, 'ab'), seg('A', 6, 'fg'));
  feed(seg('B', 51, '', TCP_ACK, 8));
  assert.deepEqual(flows[0]!.events, [
    ['data', 0, 'ab'],
    ['gap', 0, 3],
    ['data', 0, 'fg'],
  ]);
});

test('ACK into a hole declares the acknowledged part at once, the rest when the ACK passes it', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('B', 50, '', TCP_SYN | TCP_ACK, 1), seg('A', 1, 'ab'), seg('A', 6, 'fg'));
  feed(seg('B', 51, '', TCP_ACK, 5)); // B received 2 bytes the capture never saw; byte 5 may still come
  assert.deepEqual(flows[0]!.events, [['data', 0, 'ab'], ['gap', 0, 2]]);
  feed(seg('B', 51, '', TCP_ACK, 8));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'ab'], ['gap', 0, 2], ['gap', 0, 1], ['data', 0, 'fg']]);
});

test('ACK of bytes never captured, nothing held: the gap comes before the data of the acknowledging packet', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('B', 50, '', TCP_SYN | TCP_ACK, 1), seg('A', 1, 'ab'));
  // A's next 4 bytes (3..6) are not in the capture; B's data packet acknowledges them.
  feed(seg('B', 51, 'xy', TCP_ACK, 7));
  assert.deepEqual(flows[0]!.events, [['data', 0, 'ab'], ['gap', 0, 4], ['data', 1, 'xy']]);
  // A retransmission of bytes B already acknowledged is not data again.
  feed(seg('A', 3, 'cdef'), seg('A', 7, 'gh'));
  assert.deepEqual(flows[0]!.events.slice(3), [['data', 0, 'gh']]);
});

test('ACK beyond a FIN with missing data before it: gap then end', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('B', 50, '', TCP_SYN | TCP_ACK, 1), seg('A', 4, '', TCP_ACK | TCP_FIN));
  feed(seg('B', 51, '', TCP_ACK, 5));
  assert.deepEqual(flows[0]!.events, [
    ['gap', 0, 3],
    ['end', 0, 'fin'],
  ]);
});

test('segments far outside the window are ignored, not reported as a huge gap', () => {
  const { r, flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 1, 'ab'), seg('A', 0x7000_0000, 'evil'), seg('A', 0xc000_0000, 'evil'));
  feed(seg('A', 3, 'cd'));
  r.finish(9);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abcd'], ['finish']]);
  assert.equal(r.outOfWindow, 2);
});

test('a new SYN on the same tuple after close starts a new flow', () => {
  const { flows, feed } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 1, 'one'), seg('B', 9, 'x', TCP_RST));
  feed(seg('A', 1000, '', TCP_SYN), seg('A', 1000, '', TCP_SYN), seg('A', 1001, 'two'));
  assert.equal(flows.length, 2);
  assert.deepEqual(flows[1]!.events, [['data', 0, 'two']]);
  // a new SYN with another ISN while the flow is live (port reuse without a seen close)
  feed(seg('A', 5000, '', TCP_SYN), seg('A', 5001, 'three'));
  assert.equal(flows.length, 3);
  assert.deepEqual(flows[1]!.events.at(-1), ['finish']);
  assert.deepEqual(flows[2]!.events, [['data', 0, 'three']]);
});

test('factory returning null ignores the flow; handler.ignored stops delivery but finish still comes', () => {
  let calls = 0;
  const r = new TcpReassembler(() => {
    calls++;
    return null;
  });
  r.packet(1, seg('A', 0, '', TCP_SYN));
  r.packet(2, seg('A', 1, 'abc'));
  r.packet(3, seg('B', 9, 'abc'));
  assert.equal(calls, 1);
  r.finish(4);

  const { flows, feed, r: r2 } = setup();
  feed(seg('A', 0, '', TCP_SYN), seg('A', 1, 'abc'));
  flows[0]!.ignored = true;
  feed(seg('A', 4, 'def'), seg('A', 7, '', TCP_FIN | TCP_ACK));
  r2.finish(9);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'abc'], ['finish']]);
});

test('maxFlows releases the least recently active flows (a handler without release() is finished)', () => {
  const { r, flows } = setup({ maxFlows: 10 });
  const from = (i: number, p: NetPacket): NetPacket => ({ ...p, srcPort: 1000 + i, src: `10.0.0.1:${1000 + i}` });
  for (let i = 0; i < 25; i++) {
    r.packet(2 * i, from(i, seg('A', 0, '', TCP_SYN)));
    r.packet(2 * i + 1, from(i, seg('A', 1, 'x')));
  }
  assert.ok(r.flowCount <= 10);
  assert.equal(flows.length, 25);
  assert.deepEqual(flows[0]!.events, [['data', 0, 'x'], ['finish']]);
  assert.ok(r.released >= 15);
  // Released, not closed: the connection's next packet opens a new flow, first seen mid-stream.
  r.packet(60, from(0, seg('A', 2, 'y')));
  assert.equal(flows.length, 26);
  assert.equal(flows[25]!.info.startSeen, false);
  assert.deepEqual(flows[25]!.events, [['data', 0, 'y']]);
  r.finish(99);
  for (const f of flows) assert.equal(f.events.filter((e) => e[0] === 'finish').length, 1);
});

/** Records release() calls beside the rest. */
class Releasable extends Recorder {
  established = false;
  released: [number, string, string][] = [];
  release(ts: number, why: string, held: string): void {
    this.released.push([ts, why, held]);
  }
}

function idleSetup(idle = { established: 600, brief: 30 }) {
  const flows: Releasable[] = [];
  const r = new TcpReassembler((info) => {
    const h = new Releasable(info);
    flows.push(h);
    return h;
  }, { idle });
  const from = (i: number, p: NetPacket): NetPacket => ({ ...p, srcPort: 1000 + i, src: `10.0.0.1:${1000 + i}` });
  return { r, flows, from };
}

test('idle: a SYN-only flow gets no handler; it is released after the brief limit of capture time', () => {
  const { r, flows, from } = idleSetup();
  for (let i = 0; i < 1000; i++) r.packet(i * 0.1, from(i, seg('A', 0, '', TCP_SYN)));
  assert.equal(flows.length, 0, 'no decoder for a flow that carried nothing');
  // 100 s of SYNs, 10 a second, released after 30 s; a sweep waits for 1/16 of that (1.9 s) of capture
  // time and for a sixteenth as many packets as flows: about 320 flows at most, never all 1000.
  assert.ok(r.flowCount <= 320, `${r.flowCount} flows tracked`);
  assert.equal(r.released + r.flowCount, 1000);
  assert.ok(r.released >= 600);
});

test('idle: a silent established flow is released with what was held; its next packets open a new flow mid-stream', () => {
  const { r, flows, from } = idleSetup();
  r.packet(0, from(0, seg('A', 0, '', TCP_SYN)));
  r.packet(0.1, from(0, seg('A', 1, 'hello')));
  r.packet(0.2, from(0, seg('A', 10, 'later')));
  flows[0]!.established = true;
  // Other traffic moves capture time on: 100 s is under the 600 s limit of an established flow...
  for (let t = 1; t <= 100; t++) r.packet(t, from(t, seg('A', 0, '', TCP_SYN)));
  assert.equal(flows[0]!.released.length, 0);
  // ...700 s is not.
  for (let t = 101; t <= 700; t += 1) r.packet(t, from(t, seg('A', 0, '', TCP_SYN)));
  assert.equal(flows[0]!.released.length, 1);
  const [ts, why, held] = flows[0]!.released[0]!;
  assert.ok(ts > 600 && ts <= 700);
  assert.match(why, /^silent for 6\d\d s \(limit 600 s\)$/);
  assert.equal(held, '1 out-of-order segment (5 bytes)');
  assert.deepEqual(flows[0]!.events, [['data', 0, 'hello']], 'nothing held is delivered, finish() is not called');
  r.packet(701, from(0, seg('A', 15, 'more')));
  const again = flows.at(-1)!;
  assert.notEqual(again, flows[0]);
  assert.equal(again.info.startSeen, false);
  assert.equal(again.info.initiator, '10.0.0.1:1000');
  assert.deepEqual(again.events, [['data', 0, 'more']]);
});

test('idle: a flow that is not established (handshakes only) goes after the brief limit', () => {
  const { r, flows, from } = idleSetup();
  r.packet(0, from(0, seg('A', 0, '', TCP_SYN)));
  r.packet(0.1, from(0, seg('A', 1, 'hello')));
  for (let t = 1; t <= 60; t++) r.packet(t, from(t, seg('A', 0, '', TCP_SYN)));
  assert.equal(flows[0]!.released.length, 1);
  assert.match(flows[0]!.released[0]![1], /\(limit 30 s\)$/);
  assert.equal(flows[0]!.released[0]![2], '');
});

test('idle: past PRESSURE_FLOWS flows tracked, flows not established go after PRESSURE_BRIEF; established ones keep their limit', () => {
  const { r, flows, from } = idleSetup();
  // One established connection, then a flood: 1,000 connections a second for 40 s, each a SYN and
  // some payload (a handshake), then silence.
  r.packet(0, from(0, seg('A', 0, '', TCP_SYN)));
  r.packet(0.001, from(0, seg('A', 1, 'hello')));
  flows[0]!.established = true;
  for (let i = 1; i <= 40_000; i++) {
    r.packet(i / 1000, from(i, seg('A', 0, '', TCP_SYN)));
    r.packet(i / 1000 + 0.0005, from(i, seg('A', 1, 'hs')));
  }
  // Without the pressure, 30 s of them (30,000) would be tracked; with it, about 16,384.
  assert.ok(r.flowCount <= PRESSURE_FLOWS + 1000, `${r.flowCount} flows tracked`);
  const released = flows.filter((f) => f.released.length > 0);
  assert.ok(released.length >= 40_000 - PRESSURE_FLOWS - 1000);
  const why = released[0]!.released[0]![1];
  assert.match(why, new RegExp(`^silent for \\d+ s \\(limit ${PRESSURE_BRIEF} s while over ${PRESSURE_FLOWS} flows are tracked; 30 s otherwise\\)$`));
  // Each went after PRESSURE_BRIEF of silence at the least, never before.
  for (const f of released) assert.ok(f.released[0]![0] - f.info.startTs > PRESSURE_BRIEF);
  // The established connection, silent all along, stays (600 s).
  assert.equal(flows[0]!.released.length, 0);
});

test('idle: the default policy (NEVER_IDLE) keeps every flow', () => {
  const { r } = setup();
  for (let t = 0; t < 1000; t++) r.packet(t * 10, { ...seg('A', 0, '', TCP_SYN), srcPort: 1000 + t, src: `10.0.0.1:${1000 + t}` });
  assert.equal(r.flowCount, 1000);
  assert.equal(r.released, 0);
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

test('every split, shuffled with duplicates and overlaps: the exact original bytes', () => {
  const rand = rng(12345);
  const stream = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  for (let iter = 0; iter < 3000; iter++) {
    const isn = iter % 3 === 0 ? 0xffffffe0 + (iter % 40) : Math.floor(rand() * 2 ** 32);
    // cut points
    const cuts = [0];
    for (let i = 1; i < stream.length; i++) if (rand() < 0.2) cuts.push(i);
    cuts.push(stream.length);
    const segs: NetPacket[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const a = cuts[i]!;
      const b = cuts[i + 1]!;
      segs.push(seg('A', isn + 1 + a, stream.slice(a, b)));
      if (rand() < 0.3) segs.push(seg('A', isn + 1 + a, stream.slice(a, b))); // duplicate
      if (rand() < 0.2) {
        // overlapping retransmission spanning random range
        const x = Math.floor(rand() * stream.length);
        const y = Math.min(stream.length, x + 1 + Math.floor(rand() * 20));
        segs.push(seg('A', isn + 1 + x, stream.slice(x, y)));
      }
    }
    for (let i = segs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [segs[i], segs[j]] = [segs[j]!, segs[i]!];
    }
    const { r, flows, feed } = setup();
    feed(seg('A', isn, '', TCP_SYN), ...segs);
    r.finish(1e9);
    const f = flows[0]!;
    assert.deepEqual(
      f.events.filter((e) => e[0] === 'gap'),
      [],
      `iteration ${iter}`,
    );
    assert.deepEqual(Uint8Array.from(f.streams[0]), stream, `iteration ${iter}`);
  }
});

test('every byte boundary split of a two-segment stream, both orders', () => {
  const text = 'the quick brown fox';
  for (let cut = 1; cut < text.length; cut++) {
    for (const order of [0, 1]) {
      const { r, flows, feed } = setup();
      const first = seg('A', 1, text.slice(0, cut));
      const second = seg('A', 1 + cut, text.slice(cut));
      feed(seg('A', 0, '', TCP_SYN), ...(order === 0 ? [first, second] : [second, first]));
      r.finish(1);
      assert.deepEqual(flows[0]!.events, [['data', 0, text], ['finish']]);
    }
  }
});
