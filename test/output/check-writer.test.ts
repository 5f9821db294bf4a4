// --check output: one line per finding (escaped), the verdict line, exit status 0/1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { CheckWriter, verdictLine } from '../../src/output/check-writer.js';
import type { EventRecord, MessageRecord } from '../../src/model/record.js';

const base = { ts: 1795516776.106, transport: 'tcp' as const, src: '127.0.0.1:1', dst: '127.0.0.1:2' };
const msg = (conn: number): MessageRecord => ({ ...base, conn, msg: 'have', size: 9, piece: 1 });
const finding = (conn: number, severity: 'error' | 'warning' | 'info', message = 'why'): EventRecord => ({ ...base, conn, event: 'finding', finding: 'donthave-malformed', severity, message, piece: 3 });

async function run(records: (MessageRecord | EventRecord)[], filter?: (r: unknown) => boolean): Promise<{ out: string; status: number }> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const w = new CheckWriter(stream, { filter });
  for (const r of records) w.record(r);
  const status = await w.end();
  return { out, status };
}

test('errors fail the check; the verdict counts severities and connections', async () => {
  const { out, status } = await run([msg(1), finding(1, 'error'), msg(2), finding(2, 'warning'), finding(2, 'info'), msg(3)]);
  assert.equal(status, 1);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  // Times since the first record (no origin given), the absolute time beside them.
  assert.equal(lines[0], 'error   donthave-malformed conn 1 127.0.0.1:1 -> 127.0.0.1:2 at 0.000000 (2026-11-24T10:39:36.106000Z) piece 3: why');
  assert.equal(lines[3], 'verdict: FAIL - 1 error, 1 warning, 1 info in 3 connections');
});

test('warnings and info alone pass', async () => {
  const { out, status } = await run([msg(1), finding(1, 'warning'), finding(1, 'info')]);
  assert.equal(status, 0);
  assert.match(out, /verdict: PASS - 0 errors, 1 warning, 1 info in 1 connection\n$/);
  assert.equal(verdictLine({ error: 2, warning: 0, info: 5 }, 3), 'verdict: FAIL - 2 errors, 0 warnings, 5 info in 3 connections');
});

test('peer-controlled text is escaped: no control byte reaches the terminal', async () => {
  const { out } = await run([finding(1, 'warning', 'client \x1b[2J\x07evil\nline')]);
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(out), JSON.stringify(out));
  assert.equal(out.split('\n').length, 3);
});

test('filtered-out findings are neither printed nor counted', async () => {
  const { out, status } = await run([msg(1), finding(1, 'error')], () => false);
  assert.equal(status, 0);
  assert.equal(out, 'verdict: PASS - 0 errors, 0 warnings, 0 info in 1 connection\n');
});

test('--json: finding records as --json prints them, then the verdict record', async () => {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const w = new CheckWriter(stream, { json: true });
  const f = finding(2, 'error');
  for (const r of [msg(1), f, msg(2), finding(2, 'info')]) w.record(r);
  assert.equal(await w.end(), 1);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], JSON.stringify(f));
  assert.deepEqual(JSON.parse(lines[2]!), { event: 'verdict', verdict: 'FAIL', errors: 1, warnings: 0, info: 1, connections: 2 });
});

test('a stdout that fails (its reader left) stops the writing, not the verdict', async () => {
  const stream = new PassThrough();
  const w = new CheckWriter(stream);
  w.record(finding(1, 'warning'));
  stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  await new Promise((r) => setImmediate(r));
  assert.ok(w.isClosed);
  w.record(finding(1, 'error'));
  assert.equal(await w.end(), 1);
});

test('findings not judged: a line per connection and the total in the verdict; they never fail the check', async () => {
  const unjudged: EventRecord = { ...base, conn: 8, event: 'unjudged', unjudged: { 'ext-before-handshake': { 'receiver-lost-bytes': 4 } }, message: '4 finding(s) not judged, the capture lacks what they need: ext-before-handshake 4 (x)' };
  const { out, status } = await run([msg(8), finding(8, 'info'), unjudged]);
  assert.equal(status, 0);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[1], 'not judged conn 8 127.0.0.1:1 -> 127.0.0.1:2: 4 finding(s) not judged, the capture lacks what they need: ext-before-handshake 4 (x)');
  assert.equal(lines[2], 'verdict: PASS - 0 errors, 0 warnings, 1 info in 1 connection; 4 not judged (the capture lost what they need)');
  // --check --json: the record as --json prints it, and the count in the verdict record.
  const stream = new PassThrough();
  let json = '';
  stream.on('data', (d: Buffer) => (json += d.toString()));
  const w = new CheckWriter(stream, { json: true });
  w.record(msg(8));
  w.record(unjudged);
  await w.end();
  const records = json.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(records[0], unjudged);
  assert.equal(records[1].unjudged, 4);
});
