// The report counts time from the capture's first packet, as the text timeline and --check do:
// lt-mixed.pcap opens with DHT packets before any BitTorrent record, so counting from the first
// record would shift every relative time in the ladder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../support/built-cli.js';

ensureBuilt();

test('--report: relative times in the ladder are the text timeline\'s (from the first packet, DHT included)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-origin-'));
  try {
    const text = spawnSync(process.execPath, ['dist/cli/main.js', 'samples/lt-mixed.pcap', '--no-tui', '--filter', 'lt_donthave'], { encoding: 'utf8' });
    const first = /^\s*(\d+\.\d{6})\s/.exec(text.stdout)?.[1];
    assert.ok(first !== undefined && Number(first) > 0.5, `first lt_donthave time: ${text.stdout.slice(0, 200)}`);
    const out = join(dir, 'r.html');
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'samples/lt-mixed.pcap', '--report', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(out, 'utf8').includes(first), `the report has no arrow at ${first}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
