// CaptureReader on hand-built pcap/pcapng bytes: every format variant, any chunking, bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import {
  Bytes,
  concat,
  ngBlock,
  ngEpb,
  ngInterface,
  ngOption,
  ngPb,
  ngSection,
  ngSpb,
  pcapFile,
  prng,
  readBytewise,
  readChunks,
  recorder,
} from './capture-bytes.js';

const A = Uint8Array.from({ length: 60 }, (_, i) => i);
const B = Uint8Array.from({ length: 37 }, (_, i) => 200 - i);
const C = new Uint8Array(0);

function smallPcap(le = true, nano = false): Uint8Array {
  return pcapFile({ le, nano, linkType: 1 }, [
    { sec: 1795516776, frac: nano ? 106000123 : 106123, data: A },
    { sec: 1795516777, frac: 5, data: B, origLen: 1500 },
    { sec: 1795516778, frac: 0, data: C },
  ]);
}

for (const le of [true, false]) {
  for (const nano of [false, true]) {
    test(`pcap ${le ? 'little' : 'big'}-endian ${nano ? 'nanosecond' : 'microsecond'}`, () => {
      const bytes = smallPcap(le, nano);
      const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
      assert.equal(magic, { 'true,false': 'd4c3b2a1', 'false,false': 'a1b2c3d4', 'true,true': '4d3cb2a1', 'false,true': 'a1b23c4d' }[`${le},${nano}`]);
      const seen = readChunks(bytes);
      assert.deepEqual(seen.fatals, []);
      assert.deepEqual(seen.warnings, []);
      assert.equal(seen.packets.length, 3);
      const [p1, p2, p3] = seen.packets;
      assert.equal(p1!.ts, 1795516776 + (nano ? 0.106000123 : 0.106123));
      assert.equal(p2!.ts, 1795516777 + (nano ? 5e-9 : 5e-6));
      assert.deepEqual(p1!.data, Array.from(A));
      assert.deepEqual(p2!.data, Array.from(B));
      assert.deepEqual(p3!.data, []);
      assert.equal(p2!.origLen, 1500);
      assert.deepEqual(seen.packets.map((p) => [p.index, p.offset, p.linkType]), [
        [1, 24, 1],
        [2, 24 + 16 + 60, 1],
        [3, 24 + 16 + 60 + 16 + 37, 1],
      ]);
    });
  }
}

test('modified (Kuznetzov) pcap: 24-byte record headers', () => {
  const w = new Bytes(true).u32(0xa1b2cd34).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
  w.u32(100).u32(7).u32(A.length).u32(A.length).u32(3).u16(0x0800).u8(0, 0).bytes(A);
  const seen = readChunks(w.done());
  assert.equal(seen.packets.length, 1);
  assert.deepEqual(seen.packets[0]!.data, Array.from(A));
  assert.equal(seen.packets[0]!.ts, 100.000007);
});

test('the link type comes from the file header, FCS bits masked off', () => {
  const seen = readChunks(pcapFile({ linkType: 0x10000000 | 276 }, [{ sec: 1, frac: 0, data: A }]));
  assert.equal(seen.packets[0]!.linkType, 276);
});

test('packet data is a view into the pushed chunk when the record lies within it', () => {
  const bytes = smallPcap();
  let view: Uint8Array | undefined;
  const reader = new CaptureReader({ packet: (p) => (view ??= p.data), warning() {}, fatal() {} });
  reader.push(bytes);
  assert.equal(view!.buffer, bytes.buffer);
  assert.equal(view!.byteOffset, 24 + 16);
});

function twoSectionNg(): Uint8Array {
  // Section 1, little-endian: microsecond Ethernet + nanosecond raw IPv4 with a tsoffset; SPB, PB,
  // an unknown block and a name resolution block between packets.
  const s1 = concat(
    ngSection(true),
    ngInterface(true, 1),
    ngInterface(true, 228, { tsresol: 9, tsoffset: 1000n }),
    ngEpb(true, 0, 1795516776_106123n, A, 1514),
    ngBlock(true, 0x0bad, new Uint8Array(13)),
    ngBlock(true, 4, new Uint8Array(8)),
    ngEpb(true, 1, 1795516776_000000005n, B),
    ngSpb(true, B),
    ngPb(true, 1, 2_000000000n, A),
  );
  // Section 2, big-endian: a fresh interface table; 2^-10 second units.
  const s2 = concat(ngSection(false), ngInterface(false, 276, { tsresol: 0x80 | 10 }), ngEpb(false, 0, 1024n * 7n + 512n, A));
  return concat(s1, s2);
}

test('pcapng: two sections of different byte order, tsresol (10^-9 and 2^-10), tsoffset, EPB/SPB/PB, unknown blocks skipped', () => {
  const seen = readChunks(twoSectionNg());
  assert.deepEqual(seen.fatals, []);
  assert.deepEqual(seen.warnings, []);
  assert.deepEqual(
    seen.packets.map((p) => [p.index, p.linkType, p.data.length, p.origLen]),
    [
      [1, 1, 60, 1514],
      [2, 228, 37, 37],
      [3, 1, 37, 37],
      [4, 228, 60, 60],
      [5, 276, 60, 60],
    ],
  );
  const [p1, p2, p3, p4, p5] = seen.packets;
  assert.equal(p1!.ts, 1795516776.106123);
  assert.equal(p2!.ts, 1795516776_000000005 / 1e9 + 1000);
  assert.equal(p3!.ts, p2!.ts, 'a simple packet block takes the previous timestamp');
  assert.equal(p4!.ts, 1002);
  assert.equal(p5!.ts, 7.5);
  assert.deepEqual(p3!.data, Array.from(B));
  assert.deepEqual(p4!.data, Array.from(A));
});

test('pcapng: a simple packet block is cut to the interface snaplen', () => {
  const seen = readChunks(concat(ngSection(true), ngInterface(true, 1, { snaplen: 10 }), ngSpb(true, A.subarray(0, 10), 60)));
  assert.deepEqual(seen.packets[0]!.data, Array.from(A.subarray(0, 10)));
  assert.equal(seen.packets[0]!.origLen, 60);
});

test('pcapng: a packet on an undefined interface is a warning, reading goes on', () => {
  const seen = readChunks(concat(ngSection(true), ngInterface(true, 1), ngEpb(true, 5, 0n, A), ngEpb(true, 0, 0n, B)));
  assert.equal(seen.packets.length, 1);
  assert.match(seen.warnings[0]!.message, /undefined interface 5/);
});

test('pcapng: a huge unknown block is skipped without buffering it', () => {
  const skipLength = 64 * 1024 * 1024;
  const head = concat(ngSection(true), ngInterface(true, 1), new Bytes(true).u32(0x7777).u32(skipLength).done());
  const tail = concat(new Bytes(true).u32(skipLength).done(), ngEpb(true, 0, 0n, A));
  const { handler, seen } = recorder();
  const reader = new CaptureReader(handler);
  reader.push(head);
  const zeros = new Uint8Array(1 << 20);
  let left = skipLength - 12;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    reader.push(zeros.subarray(0, n));
    left -= n;
  }
  reader.push(tail);
  reader.end();
  assert.deepEqual(seen.warnings, []);
  assert.equal(seen.packets.length, 1);
  assert.equal(seen.packets[0]!.offset, head.length - 8 + skipLength);
});

test('pcapng: a bad block length is a warning; reading resumes at the next good block', () => {
  const good = concat(ngSection(true), ngInterface(true, 1), ngEpb(true, 0, 0n, A));
  for (const length of [13, 8, 0]) {
    const seen = readChunks(concat(good, new Bytes(true).u32(6).u32(length).done(), ngEpb(true, 0, 0n, B)));
    assert.deepEqual(
      seen.packets.map((p) => p.data.length),
      [60, 37],
    );
    assert.deepEqual(seen.warnings, [
      { message: `pcapng block at byte ${good.length} has an invalid length ${length}; looking for the next block`, offset: good.length },
      { message: `resynchronized at byte ${good.length + 8} after skipping 8 bytes`, offset: good.length + 8 },
    ]);
  }
});

test('pcapng: junk between blocks is skipped for any chunking; junk to the end is reported', () => {
  const head = concat(ngSection(false), ngInterface(false, 1), ngEpb(false, 0, 1n, A));
  const tail = concat(ngEpb(false, 0, 2n, B), ngSpb(false, A));
  const junk = new Uint8Array(2000).fill(0x77);
  const bytes = concat(head, junk, tail);
  const whole = readChunks(bytes);
  assert.deepEqual(
    whole.packets.map((p) => [p.data.length, p.offset]),
    [
      [60, head.length - 92],
      [37, head.length + 2000],
      [60, head.length + 2000 + ngEpb(false, 0, 2n, B).length],
    ],
  );
  assert.equal(whole.warnings.length, 2);
  for (const size of [1, 3, 4, 5, 64, 1000]) {
    const splits: number[] = [];
    for (let at = size; at < bytes.length; at += size) splits.push(at);
    assert.deepEqual(readChunks(bytes, splits), whole, `chunks of ${size}`);
  }
  const lost = readChunks(concat(head, junk));
  assert.equal(lost.packets.length, 1);
  assert.match(lost.warnings.at(-1)!.message, new RegExp(`^no valid pcapng block found after byte ${head.length}; 2000 bytes skipped$`));
});

test('pcapng: an unsupported version and a bad byte-order magic are fatal', () => {
  const v2 = ngSection(true);
  v2[12] = 2;
  assert.match(readChunks(v2).fatals[0]!.message, /unsupported pcapng version 2\.0/);
  const bom = ngSection(true);
  bom[8] = 0x99;
  assert.match(readChunks(bom).fatals[0]!.message, /byte-order magic/);
});

test('every split point, and byte-by-byte, gives the same packets and warnings', () => {
  const fixtures = [smallPcap(true), smallPcap(false, true), twoSectionNg()];
  for (const bytes of fixtures) {
    const whole = readChunks(bytes);
    assert.ok(whole.packets.length > 0);
    for (let at = 0; at <= bytes.length; at++) assert.deepEqual(readChunks(bytes, [at]), whole, `split at ${at}`);
    assert.deepEqual(readBytewise(bytes), whole);
  }
});

test('every three-way split of a small pcapng gives the same packets', () => {
  const bytes = concat(ngSection(false), ngInterface(false, 1), ngEpb(false, 0, 5n, B), ngSpb(false, A.subarray(0, 9)));
  const whole = readChunks(bytes);
  for (let i = 0; i <= bytes.length; i += 3) {
    for (let j = i; j <= bytes.length; j += 5) assert.deepEqual(readChunks(bytes, [i, j]), whole, `split at ${i}, ${j}`);
  }
});

test('empty input, junk, gzip and an unsupported version are fatal, in one line', () => {
  assert.deepEqual(readChunks(new Uint8Array(0)).fatals, [{ message: 'empty input', offset: 0 }]);
  assert.deepEqual(readChunks(new TextEncoder().encode('hello world\n')).fatals, [
    { message: 'not a pcap or pcapng capture (starts with 68 65 6c 6c)', offset: 0 },
  ]);
  assert.match(readChunks(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0)).fatals[0]!.message, /gzip/);
  assert.match(readChunks(Uint8Array.of(1, 2)).fatals[0]!.message, /not a pcap or pcapng capture \(only 2 bytes\)/);
  assert.match(readChunks(pcapFile({ version: [3, 0] }, [])).fatals[0]!.message, /unsupported pcap version 3\.0/);
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode('junk junk'), Uint8Array.of(0x1f, 0x8b, 8, 0)]) {
    const seen = readChunks(bytes);
    assert.equal(seen.fatals.length, 1);
    assert.doesNotMatch(seen.fatals[0]!.message, /\n/);
    assert.equal(seen.packets.length, 0);
  }
});

test('a pcap with only its file header decodes to nothing, silently', () => {
  const seen = readChunks(pcapFile({}, []));
  assert.deepEqual(seen, { packets: [], warnings: [], fatals: [] });
});

/** Offsets where a record or block starts or the file ends (a cut there loses nothing mid-record). */
function boundaries(bytes: Uint8Array): Set<number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Set<number>([bytes.length]);
  if (view.getUint32(0) !== 0x0a0d0d0a) {
    for (let p = 24; p < bytes.length; p += 16 + view.getUint32(p + 8, true)) out.add(p);
    out.add(24);
    return out;
  }
  let le = true;
  for (let p = 0; p < bytes.length; p += view.getUint32(p + 4, le)) {
    if (view.getUint32(p) === 0x0a0d0d0a) le = view.getUint32(p + 8, true) === 0x1a2b3c4d;
    out.add(p);
  }
  return out;
}

test('truncated at every byte: no throw, every whole packet before the cut, then a warning with the offset', () => {
  for (const bytes of [smallPcap(), twoSectionNg()]) {
    const whole = readChunks(bytes);
    const clean = boundaries(bytes);
    for (let cut = 1; cut < bytes.length; cut++) {
      const seen = readChunks(bytes.subarray(0, cut));
      if (seen.fatals.length > 0) {
        // Only inside the file header or the first section header: nothing could be decoded.
        assert.ok(cut < 28, `cut at ${cut}: ${seen.fatals[0]!.message}`);
        assert.match(seen.fatals[0]!.message, /^capture truncated at byte \d+: incomplete (file|pcapng section) header$/);
        continue;
      }
      const expected = whole.packets.filter((p) => [...clean].some((b) => b > p.offset && b <= cut));
      assert.deepEqual(seen.packets, expected, `cut at ${cut}`);
      if (clean.has(cut)) {
        assert.deepEqual(seen.warnings, [], `cut at ${cut}`);
      } else {
        assert.equal(seen.warnings.length, 1, `cut at ${cut}`);
        assert.match(seen.warnings[0]!.message, new RegExp(`^capture truncated at byte ${cut}: `));
      }
    }
  }
});

test('an absurd captured length is a warning and allocates nothing; reading resynchronizes', () => {
  const bytes = pcapFile({}, [
    { sec: 1000, frac: 0, data: A },
    { sec: 1000, frac: 1, data: B, caplen: 0xffffffff },
    { sec: 1001, frac: 2, data: A },
    { sec: 1002, frac: 3, data: B },
  ]);
  for (const seen of [readChunks(bytes), readBytewise(bytes)]) {
    assert.deepEqual(seen.fatals, []);
    assert.match(seen.warnings[0]!.message, /impossible length 4294967295/);
    assert.equal(seen.warnings[0]!.offset, 24 + 16 + 60);
    assert.match(seen.warnings[1]!.message, /resynchronized at byte 153 after skipping 53 bytes/);
    assert.deepEqual(
      seen.packets.map((p) => p.data.length),
      [60, 60, 37],
    );
  }
  const before = process.memoryUsage().arrayBuffers;
  readChunks(pcapFile({}, [{ sec: 1, frac: 0, data: A, caplen: 0x7fffffff }]));
  assert.ok(process.memoryUsage().arrayBuffers - before < 16 << 20);
});

test('pcapng: an absurd captured length inside a sane block is a warning; the next block is read', () => {
  const bad = ngEpb(true, 0, 0n, A);
  new DataView(bad.buffer).setUint32(20, 0xffffffff, true);
  const seen = readChunks(concat(ngSection(true), ngInterface(true, 1), bad, ngEpb(true, 0, 0n, B)));
  assert.equal(seen.packets.length, 1);
  assert.match(seen.warnings[0]!.message, /impossible captured length 4294967295/);
});

test('bit-flipped captures never throw, and never report a packet larger than the limit', () => {
  const random = prng(54);
  const fixtures = [smallPcap(), smallPcap(false, true), twoSectionNg()];
  for (let round = 0; round < 3000; round++) {
    const bytes = fixtures[round % fixtures.length]!.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) {
      const i = Math.floor(random() * bytes.length);
      bytes[i] = bytes[i]! ^ (1 << Math.floor(random() * 8));
    }
    const seen = round % 2 ? readChunks(bytes, [Math.floor(random() * bytes.length)]) : readChunks(bytes);
    assert.ok(seen.fatals.length <= 1);
    for (const p of seen.packets) assert.ok(p.data.length <= bytes.length);
    assert.ok(seen.warnings.length <= 51);
  }
});

test('random junk after a valid header never throws', () => {
  const random = prng(7);
  for (let round = 0; round < 300; round++) {
    const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 2000) }, () => Math.floor(random() * 256));
    const header = round % 2 ? pcapFile({}, []) : concat(ngSection(true), ngInterface(true, 1));
    readChunks(concat(header, junk), [Math.floor(random() * 100)]);
  }
});

test('resynchronizing across junk gives the same result for any chunking', () => {
  const head = pcapFile({}, [{ sec: 5000, frac: 1, data: A }]);
  const tail = pcapFile({}, [
    { sec: 5001, frac: 2, data: B },
    { sec: 5002, frac: 3, data: A },
  ]).subarray(24);
  const bytes = concat(head, new Uint8Array(3001).fill(0xff), tail);
  const whole = readChunks(bytes);
  assert.deepEqual(
    whole.packets.map((p) => [p.ts, p.data.length, p.offset]),
    [
      [5000.000001, 60, 24],
      [5001.000002, 37, 100 + 3001],
      [5002.000003, 60, 100 + 3001 + 53],
    ],
  );
  assert.equal(whole.warnings.length, 2);
  for (const size of [1, 2, 3, 7, 16, 17, 100, 255, 256, 257, 1000]) {
    const splits: number[] = [];
    for (let at = size; at < bytes.length; at += size) splits.push(at);
    assert.deepEqual(readChunks(bytes, splits), whole, `chunks of ${size}`);
  }
});

test('time: a real jump of days reads on silently; a header read out of step is caught at once', () => {
  const records = [0, 1, 2, 3, 4].map((i) => ({ sec: 1_700_000_000 + i, frac: i, data: i % 2 ? A : B }));
  const jump = pcapFile({}, records.map((r, i) => (i >= 2 ? { ...r, sec: r.sec + 10 * 86400 } : r)));
  const seen = readChunks(jump);
  assert.deepEqual(seen.warnings, []);
  assert.equal(seen.packets.length, 5);
  const oneOdd = pcapFile({}, records.map((r, i) => (i === 2 ? { ...r, sec: r.sec ^ 0x40000000 } : r)));
  assert.deepEqual(readChunks(oneOdd).warnings, [], 'one damaged timestamp: the record is kept');
  assert.equal(readChunks(oneOdd).packets.length, 5);
  // caplen one too large: the next "header" starts a byte late, its length field is absurd.
  const late = pcapFile({}, records.map((r, i) => (i === 1 ? { ...r, caplen: r.data.length + 1, origLen: 1500 } : r)));
  for (const s of [readChunks(late), readBytewise(late)]) {
    assert.deepEqual(
      s.packets.map((p) => [p.ts, p.data.length]),
      [
        [1_700_000_000, 37],
        [1_700_000_001.000001, 61],
        [1_700_000_003.000003, 60],
        [1_700_000_004.000004, 37],
      ],
    );
    assert.match(s.warnings[0]!.message, /^packet record at byte 154 has an impossible length 620756992; looking for the next record$/);
    assert.equal(s.warnings[1]!.message, 'resynchronized at byte 206 after skipping 52 bytes');
  }
  // Four bytes too many: the next "header" is consistent in itself ([usec, caplen, len, data]); its time is not.
  const shifted = [0, 1, 2, 3, 4].map((i) => ({ sec: 1_700_000_000 + i, frac: (i * 234567) % 1e6, data: A, origLen: i === 1 ? 1500 : 60, caplen: i === 1 ? 64 : 60 }));
  for (const s of [readChunks(pcapFile({}, shifted)), readBytewise(pcapFile({}, shifted))]) {
    assert.match(s.warnings[0]!.message, /^packet record at byte 180 is out of step \(time jumps -1699530867 s\); looking for the next record$/);
    assert.equal(s.warnings[1]!.message, 'resynchronized at byte 252 after skipping 72 bytes');
    assert.deepEqual(
      s.packets.map((p) => Math.floor(p.ts)),
      [1_700_000_000, 1_700_000_001, 1_700_000_003, 1_700_000_004],
    );
  }
});

test('a record running past the end of input after a damaged length: the records inside are rescued', () => {
  const records = [0, 1, 2, 3].map((i) => ({ sec: 1000 + i, frac: i, data: A }));
  const bytes = pcapFile({}, records.map((r, i) => (i === 1 ? { ...r, caplen: 1000, origLen: 1500 } : r)));
  const seen = readChunks(bytes);
  assert.deepEqual(
    seen.packets.map((p) => [p.ts, p.data.length]),
    [
      [1000, 60],
      [1002.000002, 60],
      [1003.000003, 60],
    ],
  );
  assert.match(seen.warnings[0]!.message, /^packet record at byte 100 runs past the end of the capture; resynchronized at byte 176/);
  assert.deepEqual(readBytewise(bytes), seen);
});

// ---- damaged pcapng lengths, and the cost of resynchronizing (regressions) ----

/** A section with options (so its length is more than the 28-byte minimum), an interface, packets. */
function optionedNg(le = true): { bytes: Uint8Array; shbLength: number; idbAt: number } {
  const shb = ngSection(le, [ngOption(le, 4, new TextEncoder().encode('ltdh-inspect test'))]);
  const idb = ngInterface(le, 1, { tsresol: 6 });
  const packets = [A, B, A, B].map((d, i) => ngEpb(le, 0, BigInt(1000 + i), d));
  return { bytes: concat(shb, idb, ...packets), shbLength: shb.length, idbAt: shb.length };
}

test('pcapng: a damaged section header length does not take the section with it', () => {
  const { bytes, shbLength } = optionedNg();
  const whole = readChunks(bytes).packets.map((p) => p.data.length);
  assert.deepEqual(whole, [60, 37, 60, 37]);
  for (const length of [shbLength + 0x10000, 0x7ffffffc, shbLength + 1, 0x80000]) {
    const damaged = bytes.slice();
    new DataView(damaged.buffer).setUint32(4, length, true);
    for (const seen of [readChunks(damaged), readBytewise(damaged)]) {
      assert.deepEqual(seen.fatals, [], `length ${length}`);
      assert.deepEqual(seen.packets.map((p) => p.data.length), whole, `length ${length}`);
      assert.equal(seen.warnings[0]?.message, `pcapng section header at byte 0 has a damaged length ${length}; looking for the next block`);
      assert.equal(seen.warnings[0]?.offset, 0);
    }
  }
});

test('pcapng: a capture cut inside its section header options is truncated there, not damaged', () => {
  const { bytes, shbLength } = optionedNg();
  const seen = readChunks(bytes.subarray(0, shbLength - 8));
  assert.deepEqual(seen.fatals, []);
  assert.deepEqual(seen.warnings, [
    { message: `capture truncated at byte ${shbLength - 8}: last pcapng block (at byte 0) is incomplete`, offset: 0 },
  ]);
});

test('pcapng: an interface block with damaged lengths still defines its interface', () => {
  const { bytes, idbAt } = optionedNg();
  const idbLength = ngInterface(true, 1, { tsresol: 6 }).length;
  const cases: Array<[string, number, number]> = [
    ['leading length not a multiple of 4', idbAt + 4, idbLength + 1],
    ['leading length huge', idbAt + 4, 0x7ffffff0],
    ['trailing length differs', idbAt + idbLength - 4, idbLength + 8],
    ['leading length beyond the end of the capture', idbAt + 4, 0x80000],
  ];
  for (const [what, at, value] of cases) {
    const damaged = bytes.slice();
    new DataView(damaged.buffer).setUint32(at, value, true);
    const seen = readChunks(damaged);
    assert.deepEqual(seen.fatals, [], what);
    assert.deepEqual(seen.packets.map((p) => [p.linkType, p.data.length]), [[1, 60], [1, 37], [1, 60], [1, 37]], what);
    assert.deepEqual(seen.packets.map((p) => p.ts), [0.001, 0.001001, 0.001002, 0.001003], what);
    assert.ok(seen.warnings.some((w) => w.message === `pcapng interface block at byte ${idbAt} read despite its damaged length (interface 0)`), `${what}: ${JSON.stringify(seen.warnings)}`);
  }
});

test('pcapng: a packet block whose damaged length runs past the end: the blocks after it are rescued', () => {
  const { bytes } = optionedNg();
  const secondAt = readChunks(bytes).packets[1]!.offset;
  const damaged = bytes.slice();
  new DataView(damaged.buffer).setUint32(secondAt + 4, 0x40000, true);
  for (const seen of [readChunks(damaged), readBytewise(damaged)]) {
    assert.deepEqual(seen.packets.map((p) => p.data.length), [60, 60, 37]);
    assert.match(seen.warnings[0]!.message, new RegExp(`^pcapng block at byte ${secondAt} runs past the end of the capture; resynchronized at byte`));
  }
});

test('pcapng: a block of the reserved type 0 means reading is out of step: no skip by its length', () => {
  const { bytes } = optionedNg();
  const zeros = new Uint8Array(64);
  new DataView(zeros.buffer).setUint32(4, 0x01000000, true);
  const at = readChunks(bytes).packets[2]!.offset;
  const seen = readChunks(concat(bytes.subarray(0, at), zeros, bytes.subarray(at)));
  assert.deepEqual(seen.packets.map((p) => p.data.length), [60, 37, 60, 37]);
  assert.equal(seen.warnings[0]!.message, `pcapng block at byte ${at} has the reserved type 0; looking for the next block`);
});

test('pcapng: a skipped block cut short is reported at its start, not where reading stopped', () => {
  const { bytes } = optionedNg();
  const unknown = new Bytes(true).u32(0x7777).u32(1 << 20).done();
  const seen = readChunks(concat(bytes, unknown, new Uint8Array(5000)));
  assert.deepEqual(seen.warnings, [
    { message: `capture truncated at byte ${bytes.length + 5008}: last pcapng block (at byte ${bytes.length}) is incomplete`, offset: bytes.length },
  ]);
});

test('pcapng: resynchronizing over blocks that each claim 1 MiB moves each byte a few times, not once per candidate', () => {
  // Every 8 bytes a packet-block candidate of 1 MiB whose trailing length matches but names an
  // undefined interface: each is buffered in full, then rejected. Compacting the buffer for every
  // few bytes appended once moved 1 MiB per candidate (seconds per MiB).
  const head = concat(ngSection(true), ngInterface(true, 1), ngEpb(true, 0, 0n, A), new Bytes(true).u32(6).u32(13).done());
  const pattern = new Uint8Array(2 << 20);
  const view = new DataView(pattern.buffer);
  for (let i = 0; i < pattern.length; i += 8) {
    view.setUint32(i, 6, true);
    view.setUint32(i + 4, 1 << 20, true);
  }
  const copyWithin = Uint8Array.prototype.copyWithin;
  let moved = 0;
  Uint8Array.prototype.copyWithin = function (this: Uint8Array, target: number, start: number, end?: number) {
    moved += (end ?? this.length) - start;
    return copyWithin.call(this, target, start, end);
  };
  try {
    const { handler, seen } = recorder();
    const reader = new CaptureReader(handler);
    reader.push(head);
    for (let i = 0; i < pattern.length; i += 65536) reader.push(pattern.subarray(i, i + 65536));
    reader.end();
    assert.equal(seen.packets.length, 1);
    assert.match(seen.warnings.at(-1)!.message, /^no valid pcapng block found after byte/);
  } finally {
    Uint8Array.prototype.copyWithin = copyWithin;
  }
  assert.ok(moved < 4 * pattern.length, `${moved} bytes moved for ${pattern.length} scanned`);
});

test('a resync through junk does not pass the input through the buffer a few bytes at a time', () => {
  // After the first chunk boundary a resync took exactly what its next position needed, so every
  // later byte of junk was appended on its own (10 MB/s). Counted here as appends to the buffer.
  const random = prng(11);
  const junk = Uint8Array.from({ length: 1 << 20 }, () => Math.floor(random() * 256));
  const captures = [
    concat(pcapFile({}, [{ sec: 1, frac: 0, data: A }]), junk),
    concat(ngSection(true), ngInterface(true, 1), ngEpb(true, 0, 0n, A), new Bytes(true).u32(6).u32(13).done(), junk),
  ];
  for (const bytes of captures) {
    const set = Uint8Array.prototype.set;
    let appends = 0;
    Uint8Array.prototype.set = function (this: Uint8Array, ...args: Parameters<typeof set>) {
      appends++;
      return set.apply(this, args);
    };
    const { handler, seen } = recorder();
    try {
      const reader = new CaptureReader(handler);
      for (let i = 0; i < bytes.length; i += 65536) reader.push(bytes.subarray(i, i + 65536));
      reader.end();
    } finally {
      Uint8Array.prototype.set = set;
    }
    assert.equal(seen.packets.length, 1);
    assert.match(seen.warnings.at(-1)!.message, /^no valid (packet record|pcapng block) found after byte/);
    assert.ok(appends < 200, `${appends} appends for ${bytes.length} bytes`);
  }
});
