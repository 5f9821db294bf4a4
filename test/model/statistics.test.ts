// Statistics (Conversations, message types per direction, IO graph) on real captures, checked
// against the records themselves and the receivers' truth files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from '../../src/inspect.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { sparkline, StatisticsCollector } from '../../src/model/statistics.js';
import { readTruth } from '../support/score.js';
import { runCli } from '../support/run-cli.js';

async function records(path: string): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(path)) out.push(r);
  return out;
}

test('wt-swarm: a conversation per connection, per-direction counts equal the records, lt_donthave equals the truth', async () => {
  const rs = await records('samples/wt-swarm.pcap');
  const stats = new StatisticsCollector();
  for (const r of rs) stats.record(r);
  const s = stats.result(40);
  const msgs = rs.filter((r): r is MessageRecord => 'msg' in r);
  assert.equal(s.conversations.length, 3);
  assert.equal(s.messages, msgs.length);
  const truth = readTruth('samples/wt-swarm.truth.ndjson');
  for (const c of s.conversations) {
    for (const [side, other] of [[c.a, c.b], [c.b, c.a]] as const) {
      const sent = msgs.filter((r) => r.conn === c.conn && r.src === side.addr);
      assert.equal(side.messages, sent.length);
      assert.equal(side.bytes, sent.reduce((n, r) => n + r.size, 0));
      assert.equal(side.donthave, truth.filter((t) => t.src === side.addr && t.dst === other.addr && t.ext === 'lt_donthave').length);
      assert.match(side.client ?? '', /WebTorrent/);
    }
    const findings = rs.filter((r) => 'event' in r && r.event === 'finding' && 'conn' in r && r.conn === c.conn).length;
    assert.equal(c.findings.error + c.findings.warning + c.findings.info, findings);
    assert.ok(c.end > c.start);
  }
  // The hierarchy's top rows add up to every message, both directions; its extensions to "extended".
  const top = s.hierarchy.filter((h) => h.depth === 0);
  assert.equal(top.reduce((n, h) => n + h.messages[0] + h.messages[1], 0), msgs.length);
  const ext = s.hierarchy.find((h) => h.name === 'extended')!;
  const children = s.hierarchy.filter((h) => h.depth === 1);
  assert.equal(children.reduce((n, h) => n + h.messages[0] + h.messages[1], 0), ext.messages[0] + ext.messages[1]);
  assert.deepEqual(s.hierarchy.find((h) => h.name === 'extended/lt_donthave')!.messages, [6, 6]);
  assert.equal(s.hierarchy[0]!.name, 'piece', 'largest first');
  // The IO graph holds every byte, in at most the bins asked for.
  assert.ok(s.io.rates[0].length <= 40 && s.io.rates[0].length > 10);
  const total = (v: number[]): number => Math.round(v.reduce((n, x) => n + x * s.io.binSeconds, 0));
  assert.equal(total(s.io.rates[0]) + total(s.io.rates[1]), s.bytes);
});

test('a display filter counts only what it keeps, and still knows who initiated', async () => {
  const rs = await records('samples/lt-sample.pcap');
  const stats = new StatisticsCollector();
  for (const r of rs) stats.record(r, 'msg' in r && r.ext === 'lt_donthave');
  const [c] = stats.result().conversations;
  assert.equal(c!.a.addr, '127.0.0.1:39827');
  assert.deepEqual([c!.a.messages, c!.b.messages, c!.b.donthave], [0, 32, 32]);
  assert.deepEqual(stats.result().hierarchy.map((h) => h.name), ['extended', 'extended/lt_donthave']);
});

test('sparkline: scaled to the peak, empty bins blank', () => {
  assert.equal(sparkline([0, 1, 2, 4, 8]), ' ▂▃▅█');
  assert.equal(sparkline([0, 0]), '  ');
  assert.equal(sparkline([1, 1], 4), '▃▃');
});

test('--stats prints the three tables; --stats --json one object (the program, in-process)', async () => {
  const text = await runCli(['samples/wt-swarm.pcap', '--stats']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Conversations: 3 connections\n/);
  assert.match(text.stdout, /\n  #1 +127\.0\.0\.1:40526 <-> 127\.0\.0\.1:52880 tcp .* 2\/2 +1 warning\n +clients: A WebTorrent/);
  assert.match(text.stdout, /\n    lt_donthave +6 +60 B +6 +60 B/);
  assert.match(text.stdout, /\nIO graph: bytes\/s, [\d.]+ s per column.*\n  A->B \|[ ▁-█]+\|\n  B->A \|[ ▁-█]+\|\n$/);
  const json = await runCli(['samples/wt-swarm.pcap', '--stats', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { conversations: unknown[]; hierarchy: unknown[] };
  assert.equal(parsed.conversations.length, 3);
});
