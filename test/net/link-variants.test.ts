// Real packets on every supported link type: a real Linux cooked v1 capture, and the IP packets
// of real Ethernet captures re-framed as loopback, raw IP, SLL/SLL2, VLAN-tagged and padded
// Ethernet (this container lacks the kernel modules for real VLAN/tunnel captures). Also the
// same captures rewritten in every pcap magic and as big-endian pcapng.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeLink } from '../../src/net/decode.js';
import { concat, ngEpb, ngInterface, ngSection, pcapFile, readChunks } from '../capture/capture-bytes.js';

const samples = new URL('../../samples/', import.meta.url);

interface Frame {
  linkType: number;
  data: Uint8Array;
}

function framesOf(bytes: Uint8Array): Frame[] {
  const seen = readChunks(bytes);
  assert.deepEqual(seen.warnings, []);
  return seen.packets.map((p) => ({ linkType: p.linkType, data: Uint8Array.from(p.data) }));
}

/** One line per TCP/UDP packet, as in test/capture/real-samples.test.ts. */
function lines(frames: Frame[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    const n = decodeLink(f.linkType, f.data);
    assert.ok(typeof n !== 'string', `${n}`);
    if (n !== null) out.push(`${n.proto} ${n.src} ${n.dst} ${n.seq} ${n.ack} ${n.flags} ${n.payload.length}\n`);
  }
  return out;
}

const digest = (l: string[]) => createHash('sha256').update(l.join('')).digest('hex').slice(0, 16);

test('a real Linux cooked v1 capture (tcpdump -i any -y LINUX_SLL), IPv4 and IPv6, decodes as tshark does', () => {
  const frames = framesOf(readFileSync(new URL('fixtures/sll1.pcap', import.meta.url)));
  assert.ok(frames.every((f) => f.linkType === 113));
  const l = lines(frames);
  // tshark: 22 frames, all TCP; same line format and digest as real-samples.test.ts.
  assert.equal(frames.length, 22);
  assert.equal(l.length, 22);
  assert.ok(l.some((x) => x.includes('[::1]:8765')) && l.some((x) => x.includes('127.0.0.1:8765')));
  assert.equal(digest(l), '17eb5fda0fc5a038');
});

const be16 = (v: number) => [v >> 8, v & 0xff];
const be32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const le32 = (v: number) => be32(v).reverse();
const MACS = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];

type Reframe = (ip: Uint8Array, v6: boolean) => Frame;

const VARIANTS: Record<string, Reframe> = {
  'NULL little-endian': (ip, v6) => ({ linkType: 0, data: concat(Uint8Array.from(le32(v6 ? 30 : 2)), ip) }),
  'NULL big-endian': (ip, v6) => ({ linkType: 0, data: concat(Uint8Array.from(be32(v6 ? 24 : 2)), ip) }),
  'LOOP (108)': (ip, v6) => ({ linkType: 108, data: concat(Uint8Array.from(be32(v6 ? 28 : 2)), ip) }),
  'RAW 101': (ip) => ({ linkType: 101, data: ip }),
  'RAW 12': (ip) => ({ linkType: 12, data: ip }),
  'RAW 14': (ip) => ({ linkType: 14, data: ip }),
  'IPv4 228 / IPv6 229': (ip, v6) => ({ linkType: v6 ? 229 : 228, data: ip }),
  'SLL (113)': (ip, v6) => ({ linkType: 113, data: concat(Uint8Array.from([0, 0, 3, 4, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...be16(v6 ? 0x86dd : 0x0800)]), ip) }),
  'SLL2 (276)': (ip, v6) => ({ linkType: 276, data: concat(Uint8Array.from([...be16(v6 ? 0x86dd : 0x0800), 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0]), ip) }),
  'Ethernet 802.1Q': (ip, v6) => ({ linkType: 1, data: concat(Uint8Array.from([...MACS, 0x81, 0, 0, 5, ...be16(v6 ? 0x86dd : 0x0800)]), ip) }),
  'Ethernet QinQ 802.1ad': (ip, v6) => ({
    linkType: 1,
    data: concat(Uint8Array.from([...MACS, 0x88, 0xa8, 0, 100, 0x81, 0, 0, 7, ...be16(v6 ? 0x86dd : 0x0800)]), ip),
  }),
  'Ethernet padded, with FCS': (ip, v6) => {
    const frame = concat(Uint8Array.from([...MACS, ...be16(v6 ? 0x86dd : 0x0800)]), ip);
    const padding = new Uint8Array(Math.max(0, 60 - frame.length)).fill(0xaa);
    return { linkType: 1, data: concat(frame, padding, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)) };
  },
};

for (const name of ['wt-sample.pcap', 'lossy-sample.pcap', 'lt-mixed.pcap']) {
  test(`${name}: its IP packets re-framed on every link type decode the same`, () => {
    const frames = framesOf(readFileSync(new URL(name, samples)));
    assert.ok(frames.every((f) => f.linkType === 1));
    const expected = lines(frames);
    assert.ok(expected.length > 50);
    for (const [variant, reframe] of Object.entries(VARIANTS)) {
      const reframed = frames.map((f) => {
        const ip = f.data.subarray(14);
        return reframe(ip, ip[0]! >> 4 === 6);
      });
      assert.deepEqual(lines(reframed), expected, variant);
    }
  });
}

test('a real capture rewritten in all four pcap magics and as big-endian pcapng reads the same', () => {
  const original = readChunks(readFileSync(new URL('wt-sll2.pcap', samples)));
  const records = original.packets.map((p) => {
    const sec = Math.floor(p.ts);
    const usec = Math.round((p.ts - sec) * 1e6);
    return { sec, usec, data: Uint8Array.from(p.data), origLen: p.origLen };
  });
  const key = (s: ReturnType<typeof readChunks>) => s.packets.map((p) => [Math.round(p.ts * 1e6), p.linkType, p.data, p.origLen]);
  const expected = key(original);
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      const bytes = pcapFile(
        { le, nano, linkType: 276 },
        records.map((r) => ({ sec: r.sec, frac: nano ? r.usec * 1000 : r.usec, data: r.data, origLen: r.origLen })),
      );
      assert.deepEqual(key(readChunks(bytes)), expected, `le=${le} nano=${nano}`);
    }
  }
  for (const le of [true, false]) {
    const ng = concat(
      ngSection(le),
      ngInterface(le, 276, { tsresol: 9 }),
      ...records.map((r) => ngEpb(le, 0, BigInt(r.sec) * 1_000_000_000n + BigInt(r.usec) * 1000n, r.data, r.origLen)),
    );
    assert.deepEqual(key(readChunks(ng, [12345, 99999])), expected, `pcapng le=${le}`);
  }
});
