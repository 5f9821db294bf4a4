// Test helper: a --save file read back by the capture decoder, compared with the proxy's live records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Pipeline } from '../../src/pipeline.js';
import type { AnyRecord } from '../../src/model/record.js';

/** The records the capture decoder (pipeline) makes of a saved pcap. */
export function replaySaved(path: string): AnyRecord[] {
  const records: AnyRecord[] = [];
  const pipeline = new Pipeline((r) => records.push(r));
  pipeline.push(readFileSync(path));
  pipeline.end();
  assert.equal(pipeline.fatalError, undefined);
  return records;
}

const byConn = (records: readonly AnyRecord[]): Map<number, AnyRecord[]> => {
  const out = new Map<number, AnyRecord[]>();
  for (const r of records) {
    const conn = 'conn' in r ? r.conn : 0;
    out.set(conn, [...(out.get(conn) ?? []), r]);
  }
  return out;
};

/**
 * The same records, each connection's in the same order, with the same times to the microsecond (the
 * pcap's resolution). Connections are compared one by one: where they interleave, a record emitted
 * when a connection closes may come at another place in the replay.
 */
export function assertSameRecords(replayed: readonly AnyRecord[], live: readonly AnyRecord[], what: string): void {
  const a = byConn(replayed);
  const b = byConn(live);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same connections`);
  for (const [conn, want] of b) {
    const got = a.get(conn) ?? [];
    // A late finding judged when its connection ended is judged live when the proxy closes it, and
    // in the replay at the end of the file: the rest of it (its message's frame too) must agree.
    const untimed = (rs: AnyRecord[]): unknown[] =>
      rs.map(({ ts: _ts, ...rest }) => {
        if ('late' in rest && (rest.finding === 'request-unanswered' || rest.finding === 'requests-dropped-by-donthave')) {
          const { judgedTs: _j, judgedFrame: _f, ...kept } = rest;
          return kept;
        }
        return rest;
      });
    assert.deepEqual(untimed(got), untimed(want), `${what}: conn ${conn}`);
    for (const [i, r] of want.entries()) {
      const dt = Math.abs((got[i]!.ts ?? 0) - (r.ts ?? 0));
      assert.ok(dt <= 1e-6, `${what}: conn ${conn} record ${i} is ${dt} s off`);
    }
  }
}
