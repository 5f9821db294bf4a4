// The status line shows a stall while it lasts: the store keeps request-stalled findings until their
// request-stall-ended (matched by connection and `since`), fed here from the real rt-resume capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { RecordStore } from '../../src/model/store.js';
import { inspect } from '../../src/inspect.js';
import { statusText, stallText } from '../../src/ui/status-text.js';

test('rt-resume through the store: STALL in the status line between request-stalled and request-stall-ended', { skip: !existsSync('samples/rt-resume.pcap') && 'capture missing' }, async () => {
  const store = new RecordStore();
  const seen: number[] = [];
  for await (const r of inspect('samples/rt-resume.pcap')) {
    store.add(r);
    if ('event' in r && r.event === 'finding' && r.finding === 'request-stalled') {
      seen.push(store.liveStalls.size);
      const line = statusText({ title: 't', shown: 0, total: 0, filter: undefined, conn: undefined, following: false, state: '', width: 200, stalls: [...store.liveStalls.values()] });
      assert.match(line, /│ STALL conn #1 since \d\d:\d\d:\d\d │/);
    }
  }
  assert.deepEqual(seen, [1]);
  assert.equal(store.liveStalls.size, 0, 'ended when the pieces flowed again');
});

test('stallText: one stall, several (the oldest named)', () => {
  assert.match(stallText([{ conn: 4, since: 1000 }]), /^STALL conn #4 since \d\d:\d\d:\d\d$/);
  assert.match(stallText([{ conn: 4, since: 1000 }, { conn: 2, since: 900 }]), /^2 STALLS, conn #2 since \d\d:\d\d:\d\d$/);
});
