// End to end on real captures: every message each receiving peer parsed (NAME.truth.ndjson, from the
// peers' own logs) is decoded from the capture, in order per direction, extended ids named through
// the receiver's mapping, every lt_donthave with its piece index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { inspect } from '../../src/inspect.js';
import type { AnyRecord } from '../../src/model/record.js';
import { readTruth, score } from '../support/score.js';

const SAMPLES = 'samples';
// lt-encrypted (MSE/PE): its truth is what the peers parsed after decryption, so part of it cannot be
// in the capture; test/e2e/encrypted.test.ts checks it instead.
const PARTLY_ENCRYPTED = new Set(['lt-encrypted.truth.ndjson']);
// Truth written by one peer only (libtorrent; Transmission's log names no piece of a reject or a
// block): only the directions that peer received are scored, the others were checked against
// tshark when the capture was made (samples/generate/verify.py --logged-directions).
const ONE_SIDED = new Set(['tr-magnet.truth.ndjson', 'tr-utp.truth.ndjson']);
const truths = readdirSync(SAMPLES).filter((f) => f.endsWith('.truth.ndjson') && !PARTLY_ENCRYPTED.has(f)).sort();

async function decode(path: string): Promise<AnyRecord[]> {
  const out: AnyRecord[] = [];
  for await (const r of inspect(path)) out.push(r);
  return out;
}

test('there are real samples with truth to check', () => {
  assert.ok(truths.length >= 4, `only ${truths.length} truth files in samples/`);
});

for (const truthFile of truths) {
  const name = truthFile.replace(/\.truth\.ndjson$/, '');
  const capture = ['pcap', 'pcapng', 'pcap.gz', 'pcapng.gz'].map((e) => `${SAMPLES}/${name}.${e}`).find((p) => existsSync(p));
  test(`${name}: decoded message for message like the receiving peers parsed it`, { skip: capture === undefined && 'no capture file' }, async () => {
    const truth = readTruth(`${SAMPLES}/${truthFile}`);
    let records = await decode(capture!);
    if (ONE_SIDED.has(truthFile)) {
      const logged = new Set(truth.map((t) => `${t.src}>${t.dst}`));
      assert.ok(logged.size > 0, 'the truth has no direction');
      records = records.filter((r) => !('msg' in r) || logged.has(`${r.src}>${r.dst}`));
    }
    const s = score(truth, records);
    assert.equal(s.recovered, s.messages, `recovered ${s.recovered} of ${s.messages} messages`);
    assert.equal(s.extra, 0, `${s.extra} messages the peers never parsed`);
    assert.equal(s.extNamedOk, s.extNamed, `extended names right: ${s.extNamedOk} of ${s.extNamed}`);
    assert.ok(s.donthaveOk, 'lt_donthave sequence differs from the truth');
  });
}
