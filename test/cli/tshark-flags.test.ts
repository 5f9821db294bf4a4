// tshark's habits on the command line: -r FILE, -Y EXPR, -c N.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReader } from '../../src/capture/capture-reader.js';
import { runCli } from '../support/run-cli.js';

/** The program, in-process. */
async function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

test('-r FILE -Y EXPR prints what FILE --filter EXPR prints', async () => {
  const a = await cli('-r', 'samples/wt-swarm.pcap', '-Y', 'lt_donthave', '--no-tui');
  const b = await cli('samples/wt-swarm.pcap', '--filter', 'lt_donthave', '--no-tui');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  assert.ok((a.stdout.match(/lt_donthave piece=/g) ?? []).length >= 12);
});

test('-c N decodes the first N packets only, with no truncation warning', async () => {
  const times: number[] = [];
  const reader = new CaptureReader({ packet: (p) => void times.push(p.ts), warning() {}, fatal() {} });
  reader.push(new Uint8Array(readFileSync('samples/wt-swarm.pcap')));
  reader.end();
  const n = 40;
  assert.ok(times.length > 2 * n);
  const r = await cli('-r', 'samples/wt-swarm.pcap', '-c', String(n), '--json', '--no-summary');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const ts = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { ts?: number }).ts ?? 0);
  assert.ok(ts.length > 5);
  assert.ok(Math.max(...ts) <= times[n - 1]!, 'nothing after packet N');
  const all = await cli('-r', 'samples/wt-swarm.pcap', '--json', '--no-summary');
  assert.ok(all.stdout.length > 2 * r.stdout.length);
});

test('bad uses of the tshark flags: one line, exit 2', async () => {
  for (const [args, why] of [
    [['-c', '0', 'samples/wt-swarm.pcap'], /at least 1/],
    [['-r', 'samples/wt-swarm.pcap', 'samples/wt-sample.pcap'], /give one input/],
    [['-f', 'tcp', 'samples/wt-swarm.pcap'], /-f is a capture filter for -i/],
  ] as const) {
    const r = await cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  }
});

test('-w FILE is --export FILE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-w-'));
  const a = await cli('-r', 'samples/wt-swarm.pcap', '-Y', 'lt_donthave and piece == 5', '-w', join(dir, 'a.pcap'));
  const b = await cli('samples/wt-swarm.pcap', '--filter', 'lt_donthave and piece == 5', '--export', join(dir, 'b.pcap'));
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const bytes = readFileSync(join(dir, 'a.pcap'));
  assert.ok(bytes.length > 1000);
  assert.ok(bytes.equals(readFileSync(join(dir, 'b.pcap'))));
});
