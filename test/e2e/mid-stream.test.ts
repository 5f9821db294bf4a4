// A connection that was open before the capture began, on a real capture: wt-swarm with the first
// packets of its last connection (up to and including both extended handshakes) cut out. The
// decoder must find the message stream again, and name no id it cannot know, but say what an id
// toward the seeder probably is from what the seeder advertised on its earlier connections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from '../../src/inspect.js';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { decodeLink } from '../../src/net/decode.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { readTruth } from '../support/score.js';
import { concat } from '../support/bt-bytes.js';

const SAMPLE = 'samples/wt-swarm.pcap';

async function decode(bytes: Uint8Array): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(bytes)) out.push(r);
  return out;
}

/** The classic pcap without the records of flow `a`<->`b` up to time `until`. */
function cutFlowStart(file: Uint8Array, a: string, b: string, until: number): { bytes: Uint8Array; dropped: number } {
  const kept: Uint8Array[] = [file.subarray(0, 24)];
  let dropped = 0;
  const reader = new CaptureReader({
    packet(p) {
      const net = decodeLink(p.linkType, p.data);
      const inFlow = net !== null && typeof net !== 'string' && ((net.src === a && net.dst === b) || (net.src === b && net.dst === a));
      if (inFlow && p.ts <= until) dropped++;
      else kept.push(file.subarray(p.offset, p.dataOffset + p.data.length));
    },
    warning() {},
    fatal(message) {
      throw new Error(message);
    },
  });
  reader.push(file);
  reader.end();
  return { bytes: concat(...kept), dropped };
}

test('wt-swarm, its last connection captured from the middle: resync, unresolved ids, "probably lt_donthave" toward the seeder with the right pieces', async () => {
  const file = new Uint8Array(readFileSync(SAMPLE));
  const whole = await decode(file);
  const messages = (rs: AnyRecord[]) => rs.filter((r): r is MessageRecord => 'msg' in r);
  const last = Math.max(...messages(whole).map((r) => r.conn));
  const handshakes = messages(whole).filter((r) => r.conn === last && r.ext === 'handshake');
  assert.equal(handshakes.length, 2);
  const seeder = handshakes.map((r) => r.src).find((src) => messages(whole).some((r) => r.conn !== last && (r.src === src || r.dst === src)))!;
  const leecher = handshakes.map((r) => r.src).find((src) => src !== seeder)!;
  const { bytes, dropped } = cutFlowStart(file, seeder, leecher, Math.max(...handshakes.map((r) => r.ts)));
  assert.ok(dropped >= 8, `${dropped} packets cut`);

  const cut = messages(await decode(bytes)).filter((r) => r.src === leecher || r.dst === leecher);
  assert.ok(cut.length > 20 && cut.every((r) => r.resync === true), 'the rest of the connection is decoded, marked as after a resync');
  assert.ok(!cut.some((r) => r.msg === 'handshake' || r.ext === 'handshake'));
  const extended = cut.filter((r) => r.msg === 'extended');
  assert.ok(extended.every((r) => r.ext === null), 'no id is named without the receiver\'s mapping');
  // Toward the seeder: what it advertised on the other connections. Toward the leecher (an
  // ephemeral port never seen elsewhere): nothing.
  const truth = readTruth('samples/wt-swarm.truth.ndjson').filter((t) => t.src === leecher && t.ext === 'lt_donthave');
  assert.ok(truth.length > 0);
  const probable = extended.filter((r) => r.probably === 'lt_donthave');
  assert.deepEqual(probable.map((r) => [r.src, r.piece]), truth.map((t) => [leecher, t.piece]));
  assert.ok(probable.every((r) => r.probablyWhy!.startsWith(`${seeder} gave id ${r.extId} to lt_donthave`)));
  assert.ok(extended.filter((r) => r.src === seeder).every((r) => r.probably === undefined));
});
