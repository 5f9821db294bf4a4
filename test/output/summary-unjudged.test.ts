// The per-connection summary carries the findings not judged (issue 18): JSON summary records and
// the text summary line, from the analyzer's `unjudged` record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SummaryCollector } from '../../src/output/summary.js';
import { formatSummary } from '../../src/output/text-format.js';
import type { EventRecord, MessageRecord } from '../../src/model/record.js';

const base = { ts: 1, conn: 3, transport: 'tcp' as const, src: '10.0.0.1:1', dst: '10.0.0.2:2' };

test('the summary counts findings not judged, by code and reason', () => {
  const c = new SummaryCollector();
  const hs: MessageRecord = { ...base, msg: 'handshake', size: 68 };
  c.record(hs);
  c.record({ ...base, event: 'gap', bytes: 89 });
  const counts = { 'ext-before-handshake': { 'receiver-lost-bytes': 4 }, 'request-unanswered': { 'lost-bytes-after': 1 } };
  c.record({ ...base, event: 'unjudged', unjudged: counts, message: '5 finding(s) not judged' });
  const [s] = c.summaries() as [EventRecord];
  assert.deepEqual(s.summary?.unjudged, counts);
  const text = formatSummary(s).join('\n');
  assert.match(text, /gaps: 1; not judged \(the capture lacks what they need\): ext-before-handshake 4 \(receiver-lost-bytes\), request-unanswered 1 \(lost-bytes-after\)/);
});

test('a connection with every finding judged has no unjudged field', () => {
  const c = new SummaryCollector();
  c.record({ ...base, msg: 'handshake', size: 68 });
  const [s] = c.summaries() as [EventRecord];
  assert.equal(s.summary?.unjudged, undefined);
  assert.doesNotMatch(formatSummary(s).join('\n'), /not judged/);
});
