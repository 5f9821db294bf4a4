// The misbehaving-peer capture (samples/generate/misbehave.ts, real bittorrent-protocol wires on
// loopback): every planted fault is named by its code at the right message, and nothing else is
// reported. samples/misbehave.findings.json says which fault is where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from '../../src/inspect.js';
import { loadTorrent } from '../../src/analysis/torrent.js';
import type { AnyRecord, EventRecord, MessageRecord } from '../../src/model/record.js';

interface Expected {
  conn: number;
  code: string;
  severity: string;
  deferred?: boolean;
  at: { from: 'misbehaver' | 'peer'; msg: string; extId?: number; piece?: number; msg_type?: number; nth?: number };
}

const spec = JSON.parse(readFileSync('samples/misbehave.findings.json', 'utf8')) as { peer: string; findings: Expected[] };

async function decode(): Promise<AnyRecord[]> {
  const torrent = await loadTorrent('samples/misbehave.torrent');
  const out: AnyRecord[] = [];
  for await (const r of inspect('samples/misbehave.pcap', { torrent })) out.push(r);
  return out;
}

const isFinding = (r: AnyRecord): r is EventRecord => 'event' in r && r.event === 'finding';

/** Index in `records` of the message `at` designates. */
function locate(records: AnyRecord[], e: Expected): number {
  let seen = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (!('msg' in r) || r.conn !== e.conn) continue;
    const m: MessageRecord = r;
    if ((m.src === spec.peer) !== (e.at.from === 'peer')) continue;
    if (m.msg !== e.at.msg) continue;
    if (e.at.extId !== undefined && m.extId !== e.at.extId) continue;
    if (e.at.piece !== undefined && m.piece !== e.at.piece) continue;
    if (e.at.msg_type !== undefined && m.msg_type !== e.at.msg_type) continue;
    if (++seen === (e.at.nth ?? 1)) return i;
  }
  return -1;
}

test('misbehave.pcap: each planted fault is named by its code at the right message, and nothing else', async () => {
  const records = await decode();
  const findings = records.filter(isFinding);
  const used = new Set<EventRecord>();
  for (const e of spec.findings) {
    const i = locate(records, e);
    assert.ok(i >= 0, `message for ${e.code} not decoded: ${JSON.stringify(e.at)}`);
    const m = records[i] as MessageRecord;
    const match = (f: EventRecord) => !used.has(f) && f.finding === e.code && f.conn === e.conn && f.ts === m.ts && f.src === m.src && f.dst === m.dst;
    let f: EventRecord | undefined;
    if (e.deferred) {
      f = findings.find(match);
    } else {
      // right after its message (possibly after other findings on the same message)
      for (let j = i + 1; j < records.length && isFinding(records[j]!); j++) if (match(records[j] as EventRecord)) f = records[j] as EventRecord;
    }
    assert.ok(f !== undefined, `${e.code} not reported at conn ${e.conn} ${JSON.stringify(e.at)}; findings there: ${JSON.stringify(findings.filter((x) => x.conn === e.conn).map((x) => [x.finding, x.ts]))}`);
    assert.equal(f.severity, e.severity, e.code);
    assert.ok((f.message ?? '').length > 20, `${e.code}: no explanation`);
    used.add(f);
  }
  const extra = findings.filter((f) => !used.has(f));
  assert.deepEqual(extra.map((f) => `${f.conn} ${f.finding}: ${f.message}`), [], 'findings nobody planted');
});

test('misbehave.pcap: ext-id-own-mapping names both mappings', async () => {
  const f = (await decode()).filter(isFinding).find((x) => x.finding === 'ext-id-own-mapping');
  assert.match(f?.message ?? '', /id 1 is ut_pex in the receiver's mapping \(ut_pex 1, ut_metadata 2, lt_donthave 3\) but lt_donthave in the sender's own \(lt_donthave 1, ut_metadata 2\): the sender used its own id/);
});
