// Test-only: the TCP payloads of a clean capture (loopback, nothing lost), in capture order, with
// retransmissions dropped by sequence number. Lets the BitTorrent decoder be checked on a real capture
// without the pipeline's reassembler.
import { readFileSync } from 'node:fs';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { decodeLink } from '../../src/net/decode.js';
import { TCP_SYN } from '../../src/net/types.js';

export interface Segment {
  ts: number;
  src: string;
  dst: string;
  syn: boolean;
  payload: Uint8Array;
}

export function tcpSegments(path: string): Segment[] {
  const out: Segment[] = [];
  const next = new Map<string, number>();
  const reader = new CaptureReader({
    packet(p: CapturedPacket) {
      const n = decodeLink(p.linkType, p.data);
      if (n === null || typeof n === 'string' || n.proto !== 'tcp') return;
      const key = `${n.src}>${n.dst}`;
      const syn = (n.flags & TCP_SYN) !== 0;
      if (syn) next.set(key, (n.seq + 1) >>> 0);
      if (n.payload.length === 0 && !syn) return;
      if (!syn) {
        const expect = next.get(key);
        if (expect !== undefined && n.seq !== expect) return; // retransmission (or loss: not in clean captures)
        next.set(key, (n.seq + n.payload.length) >>> 0);
      }
      out.push({ ts: p.ts, src: n.src, dst: n.dst, syn, payload: n.payload.slice() });
    },
    warning() {},
    fatal(message: string) {
      throw new Error(message);
    },
  });
  reader.push(readFileSync(path));
  reader.end();
  return out;
}
