// A uTP connection from a peer's socket to itself (samples/tr-utp.pcap, connection 3: Transmission
// 3.00 dialled its own address, which libtorrent's ut_pex told it) has the same address at both
// ends. Its one message, the initiator's handshake (uTP connection id SYN+1), must count for the
// initiator in the summary and the statistics alike (they once gave it to the responder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { inspect } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';
import { StatisticsCollector } from '../../src/model/statistics.js';
import { SummaryCollector } from '../../src/output/summary.js';

const CAP = 'samples/tr-utp.pcap';

test('tr-utp: the self-connection\'s handshake is the initiator\'s in the summary and the statistics', { skip: !existsSync(CAP) && 'capture missing' }, async () => {
  const rs: AnyRecord[] = [];
  for await (const r of inspect(CAP)) rs.push(r);
  const self = rs.find((r) => 'msg' in r && r.msg === 'handshake' && r.src === r.dst);
  assert.ok(self !== undefined && 'conn' in self, 'a handshake from an address to itself');
  const conn = self.conn;
  const summaries = new SummaryCollector();
  for (const r of rs) summaries.record(r);
  const summary = summaries.summaries().find((r) => 'conn' in r && r.conn === conn);
  assert.ok(summary !== undefined && 'summary' in summary && summary.summary !== undefined);
  assert.equal(summary.summary.initiator.messages, 1);
  assert.equal(summary.summary.initiator.client, 'Transmission 3.00');
  assert.equal(summary.summary.responder.messages, 0);
  const stats = new StatisticsCollector();
  for (const r of rs) stats.record(r);
  const c = stats.result(40).conversations.find((x) => x.conn === conn)!;
  assert.equal(c.a.messages, 1);
  assert.equal(c.b.messages, 0);
});
