// The terminal UI's timeline rows on a real capture: time since the capture's first packet (not the
// first record), the frame column, and the details pane's frame fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCapture } from '../../src/inspect.js';
import { RecordStore } from '../../src/model/store.js';
import { firstTimestamp, formatRow } from '../../src/ui/row-format.js';
import { fieldTree } from '../../src/ui/field-tree.js';
import { compileFilter } from '../../src/model/filter.js';
import type { MessageRecord } from '../../src/model/record.js';
import { recordsOf } from './fixtures.js';

test('lt-mixed in the UI: rows count time from frame 1 (a DHT packet) and show each record\'s frame', async () => {
  const store = new RecordStore();
  const f = compileFilter('lt_donthave');
  assert.ok(f.ok);
  store.setFilter(f.test);
  await decodeCapture('samples/lt-mixed.pcap', store.add, { onFirstPacket: (ts) => store.setOrigin(ts) });
  const first = firstTimestamp(store);
  assert.equal((store.record(0)!.ts! - first).toFixed(6), '1.024857');
  const r = store.record(store.view[0]!)!;
  const row = formatRow(r, first, 'conn' in r ? store.connectionInfo(r.conn) : undefined, 160, store.framed);
  assert.match(row.text, /^ +\+1\.026813 +43 #1 .*lt_donthave +piece=28/);
  // A message in two packets: frame and firstFrame in the details pane.
  const spanning = recordsOf(store).find((x): x is MessageRecord => 'msg' in x && x.firstFrame !== undefined)!;
  const fields = fieldTree(spanning).map((n) => `${n.label}: ${n.value}`);
  assert.ok(fields.includes(`frame: ${spanning.frame}`) && fields.includes(`firstFrame: ${spanning.firstFrame}`), fields.join('\n'));
  // Without frames (the proxy without --save) there is no frame column.
  const bare = formatRow({ ...r, frame: undefined }, first, undefined, 160, false);
  assert.match(bare.text, /^ +\+1\.026813 #1 /);
});
