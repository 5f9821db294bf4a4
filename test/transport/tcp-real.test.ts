// Real lossy captures (packets dropped at random in a network namespace, so full of retransmissions
// and out-of-order segments): every direction must reassemble byte-exactly like tshark's
// `follow,tcp,raw` (hashes precomputed with tshark 4, see the report of issue 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { decodeLink } from '../../src/net/decode.js';
import { TcpReassembler } from '../../src/transport/tcp-reassembler.js';
import type { FlowInfo } from '../../src/transport/types.js';
import type { NetPacket } from '../../src/net/types.js';
import { TCP_FIN } from '../../src/net/types.js';

interface Stream {
  initiator: string;
  responder: string;
  lengths: [number, number];
  sha256: [string, string];
  gaps: number;
}

function readPackets(file: string, onTcp: (ts: number, net: NetPacket, index: number) => void): number {
  let lastTs = 0;
  const reader = new CaptureReader({
    packet(p: CapturedPacket) {
      lastTs = p.ts;
      const net = decodeLink(p.linkType, p.data);
      if (net !== null && typeof net !== 'string' && net.proto === 'tcp') onTcp(p.ts, net, p.index);
    },
    warning() {},
    fatal(message: string) {
      throw new Error(message);
    },
  });
  reader.push(readFileSync(new URL(`../../samples/${file}`, import.meta.url)));
  reader.end();
  return lastTs;
}

function reassemble(file: string): Stream[] {
  const out: { info: FlowInfo; hashes: [Hash, Hash]; lengths: [number, number]; gaps: number }[] = [];
  const tcp = new TcpReassembler((info) => {
    const flow = { info, hashes: [createHash('sha256'), createHash('sha256')] as [Hash, Hash], lengths: [0, 0] as [number, number], gaps: 0 };
    out.push(flow);
    return {
      data: (dir, bytes) => {
        flow.hashes[dir].update(bytes);
        flow.lengths[dir] += bytes.length;
      },
      gap: () => {
        flow.gaps++;
      },
      end: () => {},
      finish: () => {},
    };
  });
  tcp.finish(readPackets(file, (ts, net) => tcp.packet(ts, net)));
  return out.map((f) => ({
    initiator: f.info.initiator,
    responder: f.info.responder,
    lengths: f.lengths,
    sha256: [f.hashes[0].digest('hex'), f.hashes[1].digest('hex')],
    gaps: f.gaps,
  }));
}

test('wt-lossy6.pcap (IPv6, lossy): both connections reassemble like tshark', () => {
  assert.deepEqual(reassemble('wt-lossy6.pcap'), [
    {
      initiator: '[fd77::a]:55016',
      responder: '[fd77::b]:6889',
      lengths: [881, 394498],
      sha256: [
        '9d5b383954f30361e6f9f277c8f4697babf4cc45f198d401c06a60dbc7bd39ac',
        '161040a6c9f9e6841797d473b30164cfca924241201dada4cd21fa8d1fa717d0',
      ],
      gaps: 0,
    },
    {
      initiator: '[fd77::a]:55020',
      responder: '[fd77::b]:6889',
      lengths: [870, 394398],
      sha256: [
        'e8f89acdd8f43b8c84c46732df3877eb298ccba657d8f9380a9686bb68a26edf',
        'a731ac80fb4fc54560129d2acf983d63bc3081ca762b174bdacff599172170c3',
      ],
      gaps: 0,
    },
  ]);
});

test('lt-lossy4.pcap (libtorrent, lossy): reassembles like tshark', () => {
  assert.deepEqual(reassemble('lt-lossy4.pcap'), [
    {
      initiator: '10.77.0.1:59467',
      responder: '10.77.0.2:48881',
      lengths: [1046, 265087],
      sha256: [
        'd1e1c8e5633a7d187f6c2434d8e56363c106e06ed6d80f2d7c1fe75ba10238ca',
        '749840fb8129d8c87fd5d30e15dada945d94fe09d2a0f8328991013a899d78bd',
      ],
      gaps: 0,
    },
  ]);
});

test('capture loss (every 37th data packet removed): gaps of the exact size, every other byte in place', () => {
  const file = 'wt-lossy6.pcap';
  const full: Buffer[][] = [];
  const complete = new TcpReassembler(() => {
    const streams: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)];
    full.push(streams);
    return {
      data: (dir, bytes) => {
        streams[dir] = Buffer.concat([streams[dir]!, bytes]);
      },
      gap: () => assert.fail('no gap in the complete capture'),
      end: () => {},
      finish: () => {},
    };
  });
  complete.finish(readPackets(file, (ts, net) => complete.packet(ts, net)));

  let gaps = 0;
  let flow = -1;
  let finishing = false;
  const lossy = new TcpReassembler(() => {
    const f = ++flow;
    const pos = [0, 0];
    return {
      data: (dir, bytes) => {
        const expected = full[f]![dir]!.subarray(pos[dir], pos[dir]! + bytes.length);
        assert.ok(Buffer.from(bytes).equals(expected), `flow ${f} dir ${dir} bytes at ${pos[dir]}`);
        pos[dir]! += bytes.length;
      },
      gap: (dir, n) => {
        assert.ok(n > 0 && n < 100_000);
        assert.ok(!finishing, 'the peer ACKed past the hole: the gap is declared at once, not at the end');
        gaps++;
        pos[dir]! += n;
      },
      end: (dir) => assert.equal(pos[dir], full[f]![dir]!.length),
      finish: () => {
        assert.equal(pos[0], full[f]![0]!.length);
        assert.equal(pos[1], full[f]![1]!.length);
      },
    };
  });
  let dataPackets = 0;
  const ts = readPackets(file, (t, net) => {
    const drop = net.payload.length > 0 && (net.flags & TCP_FIN) === 0 && ++dataPackets % 37 === 0;
    if (!drop) lossy.packet(t, net);
  });
  finishing = true;
  lossy.finish(ts);
  assert.equal(flow, 1);
  assert.ok(gaps >= 5, `gaps ${gaps}`);
});
