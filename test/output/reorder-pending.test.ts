// The text timeline holds lines only while a flow seen but not yet shown to be BitTorrent could still
// make an open event dated at its first packet (PendingStarts); the order is the one the whole window
// gives. Holding every line for the whole window made a million-message capture 3.5x slower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PendingStarts, ReorderWindow } from '../../src/output/reorder.js';
import { decodeCapture } from '../../src/inspect.js';
import { formatRecord, judgedAt } from '../../src/output/text-format.js';
import type { AnyRecord } from '../../src/model/record.js';
import { writeSyntheticCapture } from '../support/synthetic-capture.js';

/** A flow as the reassemblers report it: settled once found BitTorrent or not, or gone. */
const flow = (): { settled: boolean } => ({ settled: false });

test('pending flow: lines after its start wait for its open event, which goes in its place; then nothing waits', () => {
  const out: string[] = [];
  const pending = new PendingStarts();
  const w = new ReorderWindow<string>((s) => out.push(s), { pending });
  w.push({ frame: 1, ts: 10 }, 'frame 1: no flow pending');
  assert.deepEqual(out, ['frame 1: no flow pending']);
  assert.equal(w.size, 0);
  const b = flow();
  pending.opened(2, 10.1, b); // B's SYN
  w.push({ frame: 3, ts: 10.2 }, 'frame 3: another connection');
  w.push({ frame: 4, ts: 10.3 }, 'frame 4: another connection');
  assert.equal(w.size, 2, 'held while B could still turn out to be BitTorrent');
  b.settled = true; // B's handshake: its open event is made, dated at its SYN
  w.push({ frame: 2, ts: 10.1 }, 'frame 2: B opened');
  assert.deepEqual(out.slice(1), ['frame 2: B opened', 'frame 3: another connection', 'frame 4: another connection']);
  w.push({ frame: 5, ts: 10.4 }, 'frame 5');
  assert.equal(w.size, 0);
  assert.equal(out.at(-1), 'frame 5');
});

test('pending flow: only lines dated after the earliest pending start wait; a flow that is not BitTorrent settles too', () => {
  const out: string[] = [];
  const pending = new PendingStarts();
  const w = new ReorderWindow<string>((s) => out.push(s), { pending });
  const a = flow();
  const b = flow();
  pending.opened(10, 1, a);
  pending.opened(20, 2, b);
  w.push({ frame: 9, ts: 0.9 }, 'before both');
  w.push({ frame: 15, ts: 1.5 }, 'between');
  w.push({ frame: 25, ts: 2.5 }, 'after both');
  assert.deepEqual(out, ['before both']);
  a.settled = true; // not BitTorrent (ignored): no open event will come
  w.push({ frame: 26, ts: 2.6 }, 'later');
  assert.deepEqual(out, ['before both', 'between']);
  assert.equal(pending.size, 1);
  b.settled = true;
  w.flush();
  assert.deepEqual(out, ['before both', 'between', 'after both', 'later']);
  assert.equal(pending.size, 0);
});

test('pending starts are forgotten past the window: a flow that never settles holds lines no longer than without them', () => {
  const out: string[] = [];
  const pending = new PendingStarts({ seconds: 1, maxTracked: 3 });
  const w = new ReorderWindow<string>((s) => out.push(s), { seconds: 1, pending });
  pending.opened(1, 0, flow()); // a SYN scan's flow: never settles
  w.push({ frame: 2, ts: 0.5 }, 'a');
  assert.equal(w.size, 1);
  w.push({ frame: 3, ts: 1.6 }, 'b'); // the window's own time bound releases 'a'
  assert.deepEqual(out, ['a']);
  pending.opened(4, 2, flow()); // the start at 0 is over a second older: forgotten
  assert.equal(pending.size, 1);
  for (let i = 0; i < 5; i++) pending.opened(5 + i, 2, flow());
  assert.equal(pending.size, 3, 'at most maxTracked starts');
});

/** Lines of a capture through a window: the most it held at once, and the lines in order. */
async function timeline(path: string, pending: PendingStarts | undefined): Promise<{ lines: string[]; maxHeld: number }> {
  const lines: string[] = [];
  const w = new ReorderWindow<string>((s) => lines.push(s), { pending });
  let t0: number | undefined;
  let maxHeld = 0;
  const sink = (r: AnyRecord): void => {
    const at = judgedAt(r);
    w.push({ frame: at.frame ?? 0, ts: at.ts ?? t0 ?? 0 }, formatRecord(r, t0 ?? 0));
    maxHeld = Math.max(maxHeld, w.size);
  };
  await decodeCapture(path, sink, { flowStarts: pending, onFirstPacket: (ts) => (t0 ??= ts) });
  w.flush();
  return { lines, maxHeld };
}

test('real captures: the same lines in the same order as the whole window gives, holding far fewer', async () => {
  // wt-sample and lossy-sample have an open event that comes after lines of later frames.
  for (const name of ['wt-sample.pcap', 'lossy-sample.pcap', 'lt-mixed.pcap', 'utp-sample.pcap', 'lt-encrypted.pcap']) {
    const whole = await timeline(`samples/${name}`, undefined);
    const pending = new PendingStarts();
    const watched = await timeline(`samples/${name}`, pending);
    assert.deepEqual(watched.lines, whole.lines, name);
    assert.ok(watched.maxHeld < whole.maxHeld, `${name}: held ${watched.maxHeld} lines at most, the whole window ${whole.maxHeld}`);
  }
});

test('one busy connection: once it is known to be BitTorrent, no line waits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-reorder-'));
  try {
    const path = join(dir, 'busy.pcap');
    await writeSyntheticCapture(path, 3000);
    const whole = await timeline(path, undefined);
    const watched = await timeline(path, new PendingStarts());
    assert.deepEqual(watched.lines, whole.lines);
    // The whole window held every line (the capture spans well under 2 s); now only the ones
    // between the SYN and the handshakes wait.
    assert.ok(whole.maxHeld > 2900, `whole window held ${whole.maxHeld}`);
    assert.ok(watched.maxHeld <= 2, `held ${watched.maxHeld}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
