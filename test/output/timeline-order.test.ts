// The text timeline and --check on real captures: times count from the capture's first packet
// whatever the filter; lines are in capture order across connections (an open event at its SYN); a
// finding judged later is printed when judged and names its message's time and frame; --check
// gives relative and ISO 8601 UTC times with the frame. Runs the whole program in-process
// (test/support/run-cli.ts); each command line is run once and its output shared by the tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReorderWindow } from '../../src/output/reorder.js';
import { runCli } from '../support/run-cli.js';

const outputs = new Map<string, Promise<string>>();

/** The program's stdout for these arguments, run once (in-process) and shared. */
function cli(...args: string[]): Promise<string> {
  const key = JSON.stringify(args);
  let out = outputs.get(key);
  if (out === undefined) {
    out = runCli(args).then((r) => {
      assert.ok(r.code === 0 || (args.includes('--check') && r.code === 1), `${args.join(' ')}: ${r.code} ${r.stderr}`);
      return r.stdout;
    });
    outputs.set(key, out);
  }
  return out;
}

interface Line {
  time: number;
  frame: number;
  text: string;
}

const LINE = /^ *(-?\d+\.\d{6}) {2}frame (\d+) +#(\d+)/;

async function timeline(...args: string[]): Promise<Line[]> {
  return (await cli(...args, '--no-tui', '--no-summary'))
    .trimEnd()
    .split('\n')
    .map((text) => {
      const m = LINE.exec(text);
      assert.ok(m, `not a timeline line: ${text}`);
      return { time: Number(m[1]), frame: Number(m[2]), text };
    });
}

interface Json {
  ts: number;
  frame: number;
  conn?: number;
  event?: string;
  msg?: string;
  ext?: string;
  piece?: number;
  finding?: string;
  late?: boolean;
  judgedTs?: number;
  judgedFrame?: number;
}

async function records(...args: string[]): Promise<Json[]> {
  return (await cli(...args, '--json', '--no-summary')).trimEnd().split('\n').map((l) => JSON.parse(l) as Json);
}

const MULTI = ['lt-mixed.pcap', 'utp-sample.pcap', 'lt-utp-lossy.pcap', 'misbehave.pcap', 'wt-sample.pcap', 'lossy-sample.pcap', 'lt-encrypted.pcap'];

test('capture order across connections: times and frames never go backwards (open events at their SYN)', async () => {
  for (const name of MULTI) {
    const lines = await timeline(`samples/${name}`);
    assert.ok(lines.length > 50, name);
    for (let i = 1; i < lines.length; i++) {
      assert.ok(lines[i]!.frame >= lines[i - 1]!.frame, `${name}: frame goes back at\n${lines[i - 1]!.text}\n${lines[i]!.text}`);
      assert.ok(lines[i]!.time >= lines[i - 1]!.time, `${name}: time goes back at\n${lines[i - 1]!.text}\n${lines[i]!.text}`);
    }
    // Every record is there, once: the same count as --json.
    assert.equal(lines.length, (await records(`samples/${name}`)).length, name);
    assert.ok(lines.some((l) => / connection opened$/.test(l.text)), name);
  }
});

test('times count from the capture\'s first packet, whatever the filter (lt-mixed starts with 10 DHT packets)', async () => {
  const all = await timeline('samples/lt-mixed.pcap');
  // Frame 1 is a DHT packet at 0; the first BitTorrent connection's SYN is frame 11, 1.024857 s later.
  assert.match(all[0]!.text, /^ +1\.024857 {2}frame 11 +#1 .* connection opened$/);
  const donthave = await timeline('samples/lt-mixed.pcap', '--filter', 'lt_donthave');
  assert.ok(donthave.length > 4);
  const same = all.filter((l) => />> lt_donthave/.test(l.text));
  assert.deepEqual(donthave.map((l) => l.text), same.map((l) => l.text));
  assert.ok(donthave[0]!.time > 1, `${donthave[0]!.text}`);
});

test('a late finding is printed when judged and names its message: time and frame', async () => {
  const lines = await timeline('samples/misbehave.pcap');
  const late = (await records('samples/misbehave.pcap')).filter((r) => r.late === true);
  assert.ok(late.length >= 3, `${late.length} late findings`);
  // Its first packet is the first connection's SYN: the first record's time.
  assert.equal(lines[0]!.time, 0);
  const t0 = (await records('samples/misbehave.pcap'))[0]!.ts;
  for (const f of late) {
    const line = lines.find((l) => l.text.includes(` ${f.finding} (late: judged after its message at ${(f.ts - t0).toFixed(6)}, frame ${f.frame})`));
    assert.ok(line, `no line for ${JSON.stringify(f)}`);
    assert.equal(line.frame, f.judgedFrame);
    assert.equal(line.time.toFixed(6), (f.judgedTs! - t0).toFixed(6));
    assert.ok(f.judgedFrame! > f.frame);
  }
  // One judged at the end of the capture: at its last packet (misbehave.pcap has 174).
  assert.ok(late.some((f) => f.judgedFrame === 174 && f.finding === 'request-unanswered'));
});

test('--check: time since the first packet, the absolute time in ISO 8601 UTC, the frame', async () => {
  const out = (await cli('samples/lt-mixed.pcap', '--check', '--torrent', 'samples/lt-mixed.torrent')).trimEnd().split('\n');
  const json = await records('samples/lt-mixed.pcap', '--filter', 'finding', '--torrent', 'samples/lt-mixed.torrent');
  assert.equal(out.length - 1, json.length);
  const first = (await records('samples/lt-mixed.pcap'))[0]!.ts - 1.024857;
  for (const [i, f] of json.entries()) {
    const m = / at (\d+\.\d{6}) \((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)\) frame (\d+)/.exec(out[i]!);
    assert.ok(m, out[i]);
    assert.equal(m[1], (f.ts - first).toFixed(6));
    assert.equal(Date.parse(m[2]!) / 1000, Math.floor(f.ts * 1000) / 1000);
    assert.equal(m[2]!.slice(20, 26), String(Math.round((f.ts % 1) * 1e6)).padStart(6, '0'));
    assert.equal(Number(m[3]), f.frame);
  }
});

test('reorder window: a record that comes late goes in its place; the window is bounded', () => {
  const out: string[] = [];
  const w = new ReorderWindow<string>((s) => out.push(s), { seconds: 1, maxHeld: 3 });
  w.push({ frame: 5, ts: 10.5 }, 'handshake #1');
  w.push({ frame: 7, ts: 10.6 }, 'handshake #2');
  w.push({ frame: 6, ts: 10.55 }, 'open #2 at its SYN');
  assert.deepEqual(out, []);
  w.push({ frame: 9, ts: 12 }, 'later');
  assert.deepEqual(out, ['handshake #1', 'open #2 at its SYN', 'handshake #2']);
  for (let i = 0; i < 5; i++) w.push({ frame: 10 + i, ts: 12 }, `same time ${i}`);
  assert.equal(w.size, 3);
  w.flush();
  assert.equal(out.at(-1), 'same time 4');
  assert.equal(w.size, 0);
  // Without frames (the proxy without --save), time orders; equal keys keep their arrival order.
  const byTime: string[] = [];
  const t = new ReorderWindow<string>((s) => byTime.push(s));
  t.push({ frame: 0, ts: 2 }, 'b');
  t.push({ frame: 0, ts: 1 }, 'a');
  t.push({ frame: 0, ts: 2 }, 'c');
  t.flush();
  assert.deepEqual(byTime, ['a', 'b', 'c']);
});
