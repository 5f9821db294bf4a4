// decodeLink on hand-built frames: every link type, VLAN tags, IPv4 options and fragments, IPv6
// extension headers, TCP/UDP header edge cases, truncation and garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLink, formatIpv6, isSupportedLinkType, linkTypeName } from '../../src/net/decode.js';
import type { NetPacket, NetResult } from '../../src/net/types.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/net/types.js';

function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const be16 = (v: number) => [v >> 8, v & 0xff];
const be32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const le32 = (v: number) => be32(v).reverse();
const text = (s: string) => new TextEncoder().encode(s);

function tcp(opts: { src?: number; dst?: number; seq?: number; ack?: number; flags?: number; options?: number[]; payload?: Uint8Array } = {}): Uint8Array {
  const options = opts.options ?? [];
  assert.equal(options.length % 4, 0);
  const offset = (20 + options.length) / 4;
  return cat(
    be16(opts.src ?? 49396),
    be16(opts.dst ?? 51413),
    be32(opts.seq ?? 1000),
    be32(opts.ack ?? 2000),
    [offset << 4, opts.flags ?? TCP_ACK | TCP_PSH],
    be16(65535),
    [0, 0, 0, 0],
    options,
    opts.payload ?? new Uint8Array(0),
  );
}

function udp(payload: Uint8Array, length = 8 + payload.length): Uint8Array {
  return cat(be16(6881), be16(6882), be16(length), [0, 0], payload);
}

function ipv4(proto: number, body: Uint8Array, opts: { options?: number[]; fragment?: number; totalLength?: number; src?: number[]; dst?: number[] } = {}): Uint8Array {
  const options = opts.options ?? [];
  const ihl = 5 + options.length / 4;
  const total = opts.totalLength ?? ihl * 4 + body.length;
  return cat([0x40 | ihl, 0], be16(total), [0, 1], be16(opts.fragment ?? 0x4000), [64, proto, 0, 0], opts.src ?? [127, 0, 0, 1], opts.dst ?? [10, 0, 0, 2], options, body);
}

const V6_SRC = Uint8Array.from([0xfd, 0x77, ...new Array(13).fill(0), 0x0a]);
const V6_DST = Uint8Array.from([0xfd, 0x77, ...new Array(13).fill(0), 0x0b]);

function ipv6(next: number, body: Uint8Array, payloadLength = body.length): Uint8Array {
  return cat([0x60, 0, 0, 0], be16(payloadLength), [next, 64], V6_SRC, V6_DST, body);
}

function ethernet(type: number, body: Uint8Array): Uint8Array {
  return cat([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], be16(type), body);
}

/** Pads an Ethernet frame to the 60-byte minimum, as NICs do. */
function padded(frame: Uint8Array): Uint8Array {
  return frame.length >= 60 ? frame : cat(frame, new Array(60 - frame.length).fill(0xee));
}

function ok(r: NetResult): NetPacket {
  assert.ok(r !== null && typeof r !== 'string', `expected a packet, got ${JSON.stringify(r)}`);
  return r;
}

const HELLO = text('hello!');

test('Ethernet IPv4 TCP: fields, and the padding of a short frame is not payload', () => {
  const frame = padded(ethernet(0x0800, ipv4(6, tcp({ seq: 0xfffffff0, ack: 0x80000001, flags: TCP_SYN | TCP_ACK, payload: HELLO }))));
  assert.equal(frame.length, 60);
  const p = ok(decodeLink(1, frame));
  assert.deepEqual(
    { ...p, payload: Array.from(p.payload) },
    {
      ipVersion: 4,
      srcIp: '127.0.0.1',
      dstIp: '10.0.0.2',
      srcPort: 49396,
      dstPort: 51413,
      src: '127.0.0.1:49396',
      dst: '10.0.0.2:51413',
      proto: 'tcp',
      seq: 0xfffffff0,
      ack: 0x80000001,
      flags: TCP_SYN | TCP_ACK,
      payload: Array.from(HELLO),
    },
  );
  assert.equal(p.payload.buffer, frame.buffer, 'the payload is a view, not a copy');
});

test('an Ethernet FCS trailer is not payload either', () => {
  const frame = cat(ethernet(0x0800, ipv4(6, tcp({ payload: new Uint8Array(100).fill(7) }))), [0xde, 0xad, 0xbe, 0xef]);
  assert.equal(ok(decodeLink(1, frame)).payload.length, 100);
});

test('VLAN tags: 802.1Q, QinQ (0x88a8), 0x9100, and a bound on their number', () => {
  const inner = ipv4(6, tcp({ payload: HELLO }));
  const q = ethernet(0x8100, cat([0, 5], be16(0x0800), inner));
  assert.deepEqual(Array.from(ok(decodeLink(1, q)).payload), Array.from(HELLO));
  const qinq = ethernet(0x88a8, cat([0, 5], be16(0x8100), [0, 6], be16(0x0800), inner));
  assert.deepEqual(Array.from(ok(decodeLink(1, qinq)).payload), Array.from(HELLO));
  const old = ethernet(0x9100, cat([0, 5], be16(0x8100), [0, 6], be16(0x86dd), ipv6(6, tcp({ payload: HELLO }))));
  assert.equal(ok(decodeLink(1, old)).src, '[fd77::a]:49396');
  const tags: number[] = [];
  for (let i = 0; i < 20; i++) tags.push(0, i, 0x81, 0x00);
  assert.equal(decodeLink(1, ethernet(0x8100, cat(tags, inner))), 'too many VLAN tags');
  assert.equal(decodeLink(1, ethernet(0x8100, Uint8Array.of(0, 1))), 'truncated VLAN tag');
});

test('Linux cooked v1 (113) and v2 (276)', () => {
  const inner = ipv4(6, tcp({ payload: HELLO }));
  const sll = cat(be16(0), be16(772), be16(6), [0, 0, 0, 0, 0, 0, 0, 0], be16(0x0800), inner);
  assert.deepEqual(Array.from(ok(decodeLink(113, sll)).payload), Array.from(HELLO));
  const sll2 = cat(be16(0x86dd), [0, 0], be32(1), be16(772), [0, 6], [0, 0, 0, 0, 0, 0, 0, 0], ipv6(6, tcp({ payload: HELLO })));
  const p = ok(decodeLink(276, sll2));
  assert.equal(p.srcIp, 'fd77::a');
  assert.deepEqual(Array.from(p.payload), Array.from(HELLO));
  assert.equal(decodeLink(113, new Uint8Array(15)), 'truncated Linux cooked header');
  assert.equal(decodeLink(276, new Uint8Array(19)), 'truncated Linux cooked v2 header');
  assert.equal(decodeLink(276, cat(be16(0x0806), new Uint8Array(18), new Uint8Array(28))), null, 'ARP');
});

test('BSD loopback (0) in either byte order, OpenBSD loopback (108) big-endian', () => {
  const v4 = ipv4(6, tcp({ payload: HELLO }));
  const v6 = ipv6(6, tcp({ payload: HELLO }));
  assert.equal(ok(decodeLink(0, cat(le32(2), v4))).srcIp, '127.0.0.1');
  assert.equal(ok(decodeLink(0, cat(be32(2), v4))).srcIp, '127.0.0.1');
  for (const af of [24, 28, 30]) {
    assert.equal(ok(decodeLink(0, cat(le32(af), v6))).srcIp, 'fd77::a');
    assert.equal(ok(decodeLink(0, cat(be32(af), v6))).srcIp, 'fd77::a');
    assert.equal(ok(decodeLink(108, cat(be32(af), v6))).srcIp, 'fd77::a');
  }
  assert.equal(ok(decodeLink(108, cat(be32(2), v4))).proto, 'tcp');
  assert.equal(decodeLink(108, cat(le32(2), v4)), null, 'LOOP is big-endian only');
  assert.equal(decodeLink(0, cat(le32(7), v4)), null);
  assert.equal(decodeLink(0, Uint8Array.of(2, 0)), 'truncated loopback header');
});

test('raw IP (101, 12, 14 by version nibble; 228 IPv4; 229 IPv6)', () => {
  const v4 = ipv4(17, udp(HELLO));
  const v6 = ipv6(17, udp(HELLO));
  for (const lt of [101, 12, 14]) {
    assert.equal(ok(decodeLink(lt, v4)).ipVersion, 4);
    assert.equal(ok(decodeLink(lt, v6)).ipVersion, 6);
  }
  assert.equal(ok(decodeLink(228, v4)).proto, 'udp');
  assert.equal(ok(decodeLink(229, v6)).dst, '[fd77::b]:6882');
  assert.equal(decodeLink(228, v6), 'IPv4 header with a wrong version');
  assert.equal(decodeLink(229, v4), 'truncated IPv6 header');
  assert.equal(decodeLink(101, Uint8Array.of(0x50, 0, 0, 0)), 'raw IP packet with IP version 5');
  assert.equal(decodeLink(101, new Uint8Array(0)), 'empty raw IP packet');
});

test('IPv4 options are skipped by the header length', () => {
  const frame = ipv4(6, tcp({ payload: HELLO }), { options: [0x94, 0x04, 0, 0, 1, 1, 1, 0] });
  assert.deepEqual(Array.from(ok(decodeLink(228, frame)).payload), Array.from(HELLO));
});

test('IPv4 fragments: the first one is reported, later ones are silently skipped', () => {
  assert.equal(decodeLink(228, ipv4(6, tcp({ payload: HELLO }), { fragment: 0x2000 })), 'IPv4 fragment not reassembled');
  assert.equal(decodeLink(228, ipv4(6, HELLO, { fragment: 0x2000 | 100 })), null);
  assert.equal(decodeLink(228, ipv4(6, HELLO, { fragment: 100 })), null);
  assert.equal(ok(decodeLink(228, ipv4(6, tcp({ payload: HELLO }), { fragment: 0x4000 }))).proto, 'tcp', 'DF is fine');
});

test('IPv4 total length: trims, a short capture keeps what it has, 0 means offloaded', () => {
  const frame = ipv4(6, tcp({ payload: new Uint8Array(100) }));
  assert.equal(ok(decodeLink(228, frame.subarray(0, frame.length - 30))).payload.length, 70, 'snaplen cut: the captured part');
  assert.equal(ok(decodeLink(228, ipv4(6, tcp({ payload: new Uint8Array(100) }), { totalLength: 0 }))).payload.length, 100);
  assert.equal(decodeLink(228, ipv4(6, tcp(), { totalLength: 10 })), 'bad IPv4 total length');
  const badIhl = ipv4(6, tcp());
  badIhl[0] = 0x44;
  assert.equal(decodeLink(228, badIhl), 'bad IPv4 header length');
  const longIhl = ipv4(6, new Uint8Array(0));
  longIhl[0] = 0x4f;
  assert.equal(decodeLink(228, longIhl), 'truncated IPv4 header');
});

test('IPv6 extension headers: hop-by-hop, routing, destination options, AH, atomic fragment', () => {
  const body = tcp({ payload: HELLO });
  // hop-by-hop (0) -> routing (43) -> fragment (44, atomic) -> AH (51) -> destination options (60) -> TCP
  const hop = [43, 0, 1, 4, 0, 0, 0, 0];
  const routing = [44, 1, 0, 0, 0, 0, 0, 0, ...new Array(8).fill(0)];
  const fragment = [51, 0, 0, 0, 0, 0, 0, 9];
  const ah = [60, 4, 0, 0, ...new Array(20).fill(0)];
  const dest = [6, 0, 1, 4, 0, 0, 0, 0];
  const frame = ipv6(0, cat(hop, routing, fragment, ah, dest, body));
  assert.deepEqual(Array.from(ok(decodeLink(229, frame)).payload), Array.from(HELLO));
});

test('IPv6 fragments, no-next-header, ICMPv6, too many extension headers, truncation', () => {
  const body = tcp({ payload: HELLO });
  assert.equal(decodeLink(229, ipv6(44, cat([6, 0, 0, 1, 0, 0, 0, 9], body))), 'IPv6 fragment not reassembled');
  assert.equal(decodeLink(229, ipv6(44, cat([6, 0, 0, 8, 0, 0, 0, 9], body))), null);
  assert.equal(decodeLink(229, ipv6(59, body)), null);
  assert.equal(decodeLink(229, ipv6(58, body)), null);
  const chain: number[] = [];
  for (let i = 0; i < 20; i++) chain.push(60, 0, 0, 0, 0, 0, 0, 0);
  assert.equal(decodeLink(229, ipv6(60, cat(chain, body))), 'too many IPv6 extension headers');
  assert.equal(decodeLink(229, ipv6(0, Uint8Array.of(6, 3, 0, 0, 0, 0, 0, 0))), 'truncated TCP header');
  assert.equal(decodeLink(229, ipv6(0, Uint8Array.of(6, 0, 0))), 'truncated IPv6 extension header');
});

test('IPv6 payload length trims trailing bytes', () => {
  const frame = cat(ipv6(6, tcp({ payload: HELLO })), [1, 2, 3, 4]);
  assert.equal(ok(decodeLink(229, frame)).payload.length, HELLO.length);
});

test('TCP options are skipped by the data offset; a bad offset is reported', () => {
  const withOptions = tcp({ options: [2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 1, 1, 0], payload: HELLO });
  assert.deepEqual(Array.from(ok(decodeLink(228, ipv4(6, withOptions))).payload), Array.from(HELLO));
  const bad = tcp({ payload: HELLO });
  bad[12] = 0x40;
  assert.equal(decodeLink(228, ipv4(6, bad)), 'bad TCP data offset');
  const long = tcp();
  long[12] = 0xf0;
  assert.equal(decodeLink(228, ipv4(6, long)), 'truncated TCP header');
});

test('UDP length fields', () => {
  const trailing = ipv4(17, cat(udp(HELLO), [9, 9, 9]));
  // The UDP length (8 + 6) trims the 3 trailing bytes inside the IP datagram.
  assert.deepEqual(Array.from(ok(decodeLink(228, trailing)).payload), Array.from(HELLO));
  assert.equal(ok(decodeLink(228, ipv4(17, udp(HELLO, 0)))).payload.length, HELLO.length);
  assert.equal(ok(decodeLink(228, ipv4(17, udp(HELLO, 500)))).payload.length, HELLO.length, 'cut short: what is there');
  assert.equal(decodeLink(228, ipv4(17, udp(HELLO, 5))), 'bad UDP length');
  assert.equal(decodeLink(228, ipv4(17, Uint8Array.of(1, 2, 3))), 'truncated UDP header');
  const p = ok(decodeLink(228, ipv4(17, udp(HELLO))));
  assert.deepEqual([p.seq, p.ack, p.flags, p.srcPort, p.dstPort], [0, 0, 0, 6881, 6882]);
});

test('non-IP and non-TCP/UDP are null', () => {
  assert.equal(decodeLink(1, padded(ethernet(0x0806, new Uint8Array(28)))), null, 'ARP');
  assert.equal(decodeLink(1, padded(ethernet(0x0026, new Uint8Array(40)))), null, '802.3 length field');
  assert.equal(decodeLink(228, ipv4(1, new Uint8Array(8))), null, 'ICMP');
  assert.equal(decodeLink(1, new Uint8Array(13)), 'truncated Ethernet header');
});

test('every prefix of a frame decodes to a packet or a reason, never throws', () => {
  const frames: [number, Uint8Array][] = [
    [1, ethernet(0x8100, cat([0, 1], be16(0x0800), ipv4(6, tcp({ options: [1, 1, 1, 1], payload: HELLO }), { options: [1, 1, 1, 1] })))],
    [276, cat(be16(0x86dd), new Uint8Array(18), ipv6(0, cat([17, 0, 1, 4, 0, 0, 0, 0], udp(HELLO))))],
  ];
  for (const [lt, frame] of frames) {
    for (let cut = 0; cut <= frame.length; cut++) {
      const r = decodeLink(lt, frame.subarray(0, cut));
      assert.ok(r !== null, `cut ${cut}`);
      if (typeof r !== 'string') assert.ok(r.payload.length <= HELLO.length);
    }
  }
});

test('random bytes on every supported link type never throw', () => {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (const lt of [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]) {
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 120) }, () => Math.floor(random() * 256));
      if (i % 2) bytes[0] = lt === 228 || lt === 229 ? (lt === 228 ? 0x45 : 0x60) : bytes[0]!;
      const r = decodeLink(lt, bytes);
      assert.ok(r === null || typeof r === 'string' || r.payload.length <= bytes.length);
    }
  }
});

test('IPv6 text is RFC 5952', () => {
  const cases: [number[], string][] = [
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'],
    [[0xfe80, 0, 0, 0, 0xabcd, 0xef, 0x1234, 0], 'fe80::abcd:ef:1234:0'],
    [[0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0, 0], '2001:db8:aaaa:bbbb:cccc:dddd::'],
    [[0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304], '::ffff:1.2.3.4'],
  ];
  for (const [groups, expected] of cases) {
    assert.equal(formatIpv6(Uint8Array.from(groups.flatMap(be16)), 0), expected);
  }
});

test('addresses and endpoints stay right across many distinct values (caches)', () => {
  for (let i = 0; i < 10000; i += 7) {
    const src = [10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
    const p = ok(decodeLink(228, ipv4(6, tcp({ src: i % 65536, payload: HELLO }), { src })));
    assert.equal(p.src, `${src.join('.')}:${i % 65536}`);
  }
  for (let i = 0; i < 100; i++) {
    const frame = ipv6(6, tcp({ src: 1000 + i }));
    frame[8 + 15] = i;
    const p = ok(decodeLink(229, frame));
    assert.equal(p.srcIp, `fd77::${i.toString(16)}`.replace(/^fd77::0$/, 'fd77::'));
    assert.equal(p.src, `[${p.srcIp}]:${1000 + i}`);
  }
});

test('link type names and support', () => {
  assert.equal(linkTypeName(1), 'Ethernet');
  assert.equal(linkTypeName(113), 'Linux cooked (SLL)');
  assert.equal(linkTypeName(276), 'Linux cooked v2 (SLL2)');
  assert.equal(linkTypeName(0), 'BSD loopback (NULL)');
  assert.equal(linkTypeName(108), 'OpenBSD loopback');
  assert.equal(linkTypeName(228), 'raw IPv4');
  assert.equal(linkTypeName(229), 'raw IPv6');
  assert.equal(linkTypeName(105), 'IEEE 802.11');
  assert.equal(linkTypeName(127), 'radiotap');
  assert.equal(linkTypeName(4242), 'LINKTYPE_4242');
  for (const lt of [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]) assert.ok(isSupportedLinkType(lt), String(lt));
  for (const lt of [105, 127, 9, 4242]) assert.ok(!isSupportedLinkType(lt), String(lt));
});
