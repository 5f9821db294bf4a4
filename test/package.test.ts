// The package as a user's script sees it: `import ... from 'ltdh-inspect'` resolves through
// package.json "exports" to the built library (dist/, made by npm install), and the README's
// library example works on a real capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ensureBuilt } from './support/built-cli.js';

test("import from 'ltdh-inspect': inspect, compileFilter, loadTorrent and CaptureError as the README shows", () => {
  ensureBuilt();
  const script = `
    import { inspect, compileFilter, loadTorrent, CaptureError } from 'ltdh-inspect';
    const torrent = await loadTorrent('samples/wt-sample.torrent');
    const filter = compileFilter('lt_donthave');
    if (!filter.ok) throw new Error(filter.error);
    const pieces = [];
    for await (const r of inspect('samples/wt-sample.pcap', { torrent })) if ('msg' in r && filter.test(r)) pieces.push(r.piece);
    let error = '';
    try { for await (const r of inspect('samples/no-such.pcap')) void r; } catch (e) { error = e instanceof CaptureError ? 'CaptureError' : String(e); }
    console.log(JSON.stringify({ pieces, error }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { pieces: number[]; error: string };
  assert.equal(out.pieces.length, 8, `lt_donthave pieces: ${out.pieces.join(',')}`);
  assert.ok(out.pieces.every((p) => Number.isInteger(p)));
  assert.equal(out.error, 'CaptureError');
});
