// The report counts time from the capture's first packet, as the text timeline and --check do:
// lt-mixed.pcap opens with DHT packets before any BitTorrent record, so counting from the first
// record would shift every relative time in the ladder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/run-cli.js';

test('--report: relative times in the ladder are the text timeline\'s (from the first packet, DHT included)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-origin-'));
  try {
    const text = await runCli(['samples/lt-mixed.pcap', '--no-tui', '--filter', 'lt_donthave']);
    assert.equal(text.code, 0, text.stderr);
    const first = /^\s*(\d+\.\d{6})\s/.exec(text.stdout)?.[1];
    assert.ok(first !== undefined && Number(first) > 0.5, `first lt_donthave time: ${text.stdout.slice(0, 200)}`);
    const out = join(dir, 'r.html');
    const r = await runCli(['samples/lt-mixed.pcap', '--report', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^ltdh-inspect: wrote .*r\.html: \d+ bytes\n$/);
    const html = readFileSync(out, 'utf8');
    assert.ok(html.includes(first), `the report has no arrow at ${first}`);
    // The command line in the report is the program's arguments (Io.argv), not the test runner's.
    assert.ok(html.includes(`ltdh-inspect samples/lt-mixed.pcap --report ${out}`), 'the command line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
