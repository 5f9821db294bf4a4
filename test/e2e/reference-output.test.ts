// Acceptance for issue 14 (one owner per concern, no behaviour change): every capture in samples/
// and samples/cut/ decodes to the --json output it gave before the refactoring
// (test/reference/*.ndjson.gz, written by test/reference/generate.sh), record for record.
//
// A field the reference does not have is ignored: later issues add fields (`frame`, ...) without
// changing the ones there. Every field the reference has must be there with the same value, nested
// objects and arrays included, and the records must come in the same order and number. When an issue
// changes records on purpose, regenerate the references (test/reference/generate.sh) in that commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { decodeCapture } from '../../src/inspect.js';
import { loadTorrent } from '../../src/analysis/torrent.js';
import { StreamOutput } from '../../src/output/stream-output.js';

const REFERENCE = 'test/reference';

/** Where `actual` differs from `expected` in a field `expected` has; undefined when it does not. */
export function subsetDiff(expected: unknown, actual: unknown, path = ''): string | undefined {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(expected, actual) ? undefined : `${path || 'value'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(expected) !== Array.isArray(actual)) {
    return `${path || 'value'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected) && expected.length !== (actual as unknown[]).length) {
    return `${path}: expected ${expected.length} entries, got ${(actual as unknown[]).length}`;
  }
  for (const [key, value] of Object.entries(expected)) {
    const diff = subsetDiff(value, (actual as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

function lines(text: string): unknown[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
}

test('subsetDiff: extra fields are ignored, a changed or missing one is not', () => {
  assert.equal(subsetDiff({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2], d: 5 }, frame: 3 }), undefined);
  assert.match(subsetDiff({ a: 1 }, { a: 2 })!, /^a: expected 1, got 2/);
  assert.match(subsetDiff({ b: { c: [1, 2] } }, { b: { c: [1] } })!, /^b\.c: expected 2 entries/);
  assert.match(subsetDiff({ a: 1 }, {})!, /^a: expected 1, got undefined/);
});

const files = readdirSync(REFERENCE).filter((f) => f.endsWith('.ndjson.gz')).sort();

test('there is a reference for every capture in samples/ and samples/cut/', () => {
  const captures = [...readdirSync('samples').filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)), ...readdirSync('samples/cut').filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => `cut_${f}`)];
  assert.deepEqual(files.map((f) => f.replace(/\.ndjson\.gz$/, '')), captures.sort());
});

for (const file of files) {
  const capture = join('samples', file.replace(/\.ndjson\.gz$/, '').replace(/^cut_/, 'cut/'));
  test(`--json of ${capture} is the reference's, record for record`, async () => {
    const base = capture.split('/').pop()!.split('.')[0]!;
    const torrentFile = join('samples', `${base}.torrent`);
    const torrent = readdirSync('samples').includes(`${base}.torrent`) ? await loadTorrent(torrentFile) : undefined;
    // What `ltdh-inspect CAPTURE --json [--torrent T]` writes to stdout (runStream in capture-command.ts).
    let out = '';
    const stdout = new Writable({ write(chunk: Buffer, _enc, done) { out += chunk.toString('utf8'); done(); } });
    const output = new StreamOutput(stdout, { format: 'json' });
    await decodeCapture(capture, output.record, torrent === undefined ? {} : { torrent });
    await output.end();
    const expected = lines(gunzipSync(readFileSync(join(REFERENCE, file))).toString('utf8'));
    const actual = lines(out);
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
      const diff = subsetDiff(expected[i], actual[i]);
      assert.equal(diff, undefined, `record ${i + 1}: ${diff}\n  expected ${JSON.stringify(expected[i]).slice(0, 400)}\n  got      ${JSON.stringify(actual[i]).slice(0, 400)}`);
    }
    assert.equal(actual.length, expected.length, 'number of records');
  });
}
