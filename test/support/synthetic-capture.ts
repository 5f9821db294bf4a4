// A synthetic capture of many peer-wire messages on one TCP connection, for measuring and testing
// --report on a large conversation: handshakes, extended handshakes, bitfields, then rounds of
// request / piece (16-byte blocks, to keep the file small) / have, with an lt_donthave and a
// request for the withdrawn piece every 10,000 messages (findings). Written with PcapWriter.
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { donthave, extHandshake, handshake, have, msg, piece, request } from './bt-bytes.js';

const PIECES = 4096;
const BATCH = 200;

/** Writes about `total` messages to `out`; returns how many. */
export async function writeSyntheticCapture(out: string, total: number): Promise<number> {
  const w = new PcapWriter(out);
  await w.opened();
  let ts = 1_800_000_000;
  const f = w.flow({ ip: '10.0.0.1', port: 50000 }, { ip: '10.0.0.2', port: 6881 }, ts);
  f.established((ts += 0.0001));
  const send = async (dir: 0 | 1, parts: Uint8Array[]): Promise<void> => {
    if (!f.data(dir, Buffer.concat(parts), (ts += 0.0001))) await w.drained();
  };
  await send(0, [handshake({ peerId: '-LT2080-bench0000000' })]);
  await send(1, [handshake({ peerId: '-WW0100-bench0000000' })]);
  await send(0, [extHandshake({ m: { lt_donthave: 3, ut_metadata: 2 }, v: 'bench leecher' })]);
  await send(1, [extHandshake({ m: { lt_donthave: 7, ut_pex: 1 }, v: 'bench seeder' })]);
  await send(1, [msg(5, new Uint8Array(PIECES / 8).fill(0xff))]);
  await send(0, [msg(5, new Uint8Array(PIECES / 8))]);
  await send(1, [msg(1)]);
  await send(0, [msg(2)]);
  const block = new Uint8Array(16);
  let messages = 8;
  let p = 0;
  while (messages < total) {
    const reqs: Uint8Array[] = [];
    const pieces: Uint8Array[] = [];
    const haves: Uint8Array[] = [];
    for (let i = 0; i < BATCH; i++, p = (p + 1) % PIECES) {
      reqs.push(request(p, 0, 16));
      pieces.push(piece(p, 0, block));
      haves.push(have(p));
    }
    await send(0, reqs);
    await send(1, pieces);
    await send(0, haves);
    messages += 3 * BATCH;
    if (messages % 10_000 < 3 * BATCH) {
      // The seeder withdraws a piece and the leecher asks for it again: request-after-donthave.
      await send(1, [donthave(3, p)]);
      await send(0, [request(p, 0, 16)]);
      await send(1, [piece(p, 0, block)]);
      messages += 3;
    }
  }
  f.fin(0, (ts += 0.0001));
  f.fin(1, (ts += 0.0001));
  await w.close();
  return messages;
}
