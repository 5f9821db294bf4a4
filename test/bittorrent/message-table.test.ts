// The message table drives decoding, the length rules and the byte ranges the panes highlight: for
// every fixed message, bytes built from the table decode to the table's fields, and the details
// tree highlights exactly those bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGES } from '../../src/bittorrent/message-table.js';
import { decodeMessage } from '../../src/bittorrent/messages.js';
import { lengthProblem } from '../../src/bittorrent/wire.js';
import { byteRanges } from '../../src/ui/field-tree.js';
import type { MessageRecord } from '../../src/model/record.js';

test('every fixed-layout message: its fields decode from the offsets the table gives, and the panes highlight them', () => {
  for (const spec of MESSAGES.filter((m) => m.length !== undefined || m.fields.length > 0)) {
    const length = spec.length ?? 9 + 16;
    const bytes = new Uint8Array(4 + length);
    new DataView(bytes.buffer).setUint32(0, length);
    bytes[4] = spec.id;
    const expected: Record<string, number> = {};
    spec.fields.forEach((f, i) => {
      const value = 1000 + i * 7;
      if (f.length === 4) new DataView(bytes.buffer).setUint32(f.offset, value);
      else new DataView(bytes.buffer).setUint16(f.offset, value);
      expected[f.name] = value;
    });
    const r = decodeMessage(bytes, bytes.length);
    assert.equal(r.msg, spec.name);
    assert.equal(r.malformed, undefined, spec.name);
    for (const [name, value] of Object.entries(expected)) assert.equal((r as Record<string, unknown>)[name], value, `${spec.name}.${name}`);
    const ranges = byteRanges({ ...r, ts: 0, conn: 1, transport: 'tcp', src: 'a', dst: 'b' } as MessageRecord);
    for (const f of spec.fields) assert.deepEqual(ranges[f.name], [f.offset, f.offset + f.length], `${spec.name}.${f.name} highlighted`);
    if (spec.length !== undefined) assert.match(lengthProblem(spec.id, spec.length + 1) ?? '', new RegExp(`${spec.name} is ${spec.length}`));
  }
});
