// End to end on the real MSE/PE capture (samples/lt-encrypted.pcap, libtorrent's default policy: the
// peers select plaintext after the key exchange). Its truth is what the peers parsed after
// decryption, so it cannot be matched in full: every message decoded must be one the peers parsed,
// the connection is labelled encrypted, nothing is decoded from ciphertext, and everything sent in
// plaintext is recovered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { readTruth, score } from '../support/score.js';
import { inspect } from '../../src/inspect.js';

const SAMPLE = 'samples/lt-encrypted';

test('lt-encrypted.pcap through the pipeline: encrypted label, the plaintext part exactly', async () => {
    const records: AnyRecord[] = [];
  for await (const r of inspect(`${SAMPLE}.pcap`)) records.push(r);
  const truth = readTruth(`${SAMPLE}.truth.ndjson`);
  const encrypted = records.filter((r) => 'event' in r && r.event === 'encrypted');
  assert.equal(encrypted.length, 1, 'one encrypted event');
  const msgs = records.filter((r): r is MessageRecord => 'msg' in r);
  const s = score(truth, records);
  // Only the initiator's handshake (RC4-encrypted IA) is out of reach.
  assert.equal(s.recovered, s.messages - 1, `recovered ${s.recovered} of ${s.messages}`);
  assert.ok(!msgs.some((r) => r.msg === 'handshake' && r.src === truth[0]!.src), 'a handshake decoded from ciphertext');
  assert.equal(s.extra, 0, `${s.extra} messages the peers never parsed`);
  assert.equal(s.extNamedOk, s.extNamed);
  assert.ok(s.donthaveOk);
  assert.ok(msgs.every((r) => r.resync === true && r.conn === (encrypted[0] as { conn: number }).conn));
});
