// Telling the capture formats apart by their first bytes, and saying what an input is when it is
// none of them (gzip is decompressed before the reader: see source.ts).

/** The pcapng section header block type, also its first four bytes in either byte order. */
export const PCAPNG_SHB = 0x0a0d0d0a;

const MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0xa1b2cd34, 0x34cdb2a1, PCAPNG_SHB].map((m) =>
  Uint8Array.of(m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff),
);

/** The first bytes of a capture cut shorter than its magic number. */
export function startsLikeCapture(head: Uint8Array): boolean {
  return MAGICS.some((m) => head.every((b, i) => m[i] === b));
}

export function notACapture(b: Uint8Array, p: number): string {
  if (b[p] === 0x1f && b[p + 1] === 0x8b) return 'gzip-compressed data reached the capture reader (decompress it first)';
  // "d8:announce", "d4:info", "d13:creation date": a bencoded dictionary, most likely a .torrent.
  if (/^d\d{1,2}:/.test(String.fromCharCode(...b.subarray(p, p + 4)))) {
    return 'a bencoded dictionary (a .torrent file?), not a pcap or pcapng capture: give a .torrent with --torrent FILE, beside the capture';
  }
  const hex = Array.from(b.subarray(p, p + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return `not a pcap or pcapng capture (starts with ${hex})`;
}
