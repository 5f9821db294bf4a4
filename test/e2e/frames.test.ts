// Frame numbers on real captures: every record carries the number of the capture packet that
// completed it, counted as Wireshark counts (every packet of the file), and a message in several
// packets the earliest of them. Checked two ways: against the packets our own reader sees (the
// message's bytes lie in packets firstFrame..frame, its first and last in those very packets), and
// against tshark (the frame's time is the record's time) where tshark is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { decodeCapture } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';

/** Lossy TCP, lossy uTP, an MSE connection, pcapng, Linux cooked v2, a mixed TCP/uTP/DHT capture. */
const SAMPLES = ['lossy-sample.pcap', 'wt-lossy6.pcap', 'lt-utp-lossy.pcap', 'lt-encrypted.pcap', 'wt-dumpcap.pcapng', 'wt-sll2.pcap', 'lt-mixed.pcap', 'misbehave.pcap'];

interface Packet {
  start: number;
  end: number;
}

/** Each packet's data range in the capture stream, by frame number. */
function packets(bytes: Uint8Array): Packet[] {
  const out: Packet[] = [];
  const reader = new CaptureReader({
    packet: (p) => void (out[p.index] = { start: p.dataOffset, end: p.dataOffset + p.data.length }),
    warning() {},
    fatal: (m) => assert.fail(m),
  });
  reader.push(bytes);
  reader.end();
  return out;
}

/** The frame whose data holds byte `offset` of the capture stream. */
function frameAt(list: Packet[], offset: number): number {
  let lo = 1;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (list[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  assert.ok(offset < list[lo]!.end, `offset ${offset} is in no packet's data`);
  return lo;
}

async function decodeLocated(path: string): Promise<Array<{ r: AnyRecord; where?: number[] }>> {
  const out: Array<{ r: AnyRecord; where?: number[] }> = [];
  await decodeCapture(path, (r, _raw, where) => void out.push({ r, where: where?.slice() }), { locate: true });
  return out;
}

for (const name of SAMPLES) {
  test(`${name}: frame and firstFrame are the packets that carried each message`, async () => {
    const path = `samples/${name}`;
    const list = packets(readFileSync(path));
    const frames = list.length - 1;
    const records = await decodeLocated(path);
    let located = 0;
    let spanning = 0;
    for (const { r, where } of records) {
      if (!('conn' in r)) continue;
      assert.ok(r.frame !== undefined && r.frame >= 1 && r.frame <= frames, `${JSON.stringify(r)}: frame out of 1..${frames}`);
      if (!('msg' in r) || where === undefined) continue;
      located++;
      const first = r.firstFrame ?? r.frame;
      assert.ok(first < r.frame || r.firstFrame === undefined, 'firstFrame only when earlier than frame');
      const touched: number[] = [];
      for (let i = 0; i < where.length; i += 2) touched.push(frameAt(list, where[i]!), frameAt(list, where[i]! + where[i + 1]! - 1));
      // The earliest packet carrying its bytes is firstFrame; none is later than the one that completed it.
      assert.equal(Math.min(...touched), first, `${r.msg} at frame ${r.frame}: first byte's packet`);
      assert.ok(Math.max(...touched) <= r.frame, `${r.msg} at frame ${r.frame}: bytes in a later packet`);
      if (r.firstFrame !== undefined) spanning++;
    }
    assert.ok(located > 50, `${located} located messages`);
    if (name !== 'lt-utp-lossy.pcap' && name !== 'lt-encrypted.pcap') assert.ok(spanning > 0, 'some message spans packets');
  });
}

const tshark = spawnSync('tshark', ['-v'], { encoding: 'utf8' });
const noTshark = tshark.error !== undefined || tshark.status !== 0 ? 'tshark is not installed' : false;

/** tshark's time of each frame of `path` (frame.time_epoch), one tshark run. */
async function tsharkTimes(path: string): Promise<number[]> {
  const child = spawn('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `${path}: ${stderr}`);
  return stdout.trimEnd().split('\n').map(Number);
}

test("frames are Wireshark's: the frame's time in tshark is the record's time", { skip: noTshark }, async () => {
  // tshark spends most of its start-up (seconds on a busy machine) waiting: all samples at once.
  const allTimes = await Promise.all(SAMPLES.map((name) => tsharkTimes(`samples/${name}`)));
  for (const [i, name] of SAMPLES.entries()) {
    const path = `samples/${name}`;
    const times = allTimes[i]!;
    const records: AnyRecord[] = [];
    await decodeCapture(path, (rec) => void records.push(rec));
    let checked = 0;
    for (const rec of records) {
      if (!('conn' in rec) || rec.frame === undefined) continue;
      const at = times[rec.frame - 1];
      assert.ok(at !== undefined && Math.abs(at - rec.ts) < 1e-6, `${name}: ${JSON.stringify(rec)} at frame ${rec.frame}, tshark's time ${at}`);
      if ('late' in rec && rec.judgedFrame !== undefined) assert.ok(Math.abs(times[rec.judgedFrame - 1]! - rec.judgedTs!) < 1e-6, `${name}: judged frame`);
      checked++;
    }
    assert.ok(checked > 50, name);
  }
});
