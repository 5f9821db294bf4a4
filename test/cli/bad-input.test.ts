// `ltdh-inspect FILE` on bad input, through the whole program (in-process; a directory on stdin
// through the built program): unreadable input exits 2 with one line on stderr naming the file and
// the reason; a truncated capture or gzip stream decodes what is there (exit 0) and warns with the
// byte offset; never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { builtCli } from '../support/built-cli.js';
import { runCli } from '../support/run-cli.js';

const original = readFileSync(new URL('../../samples/wt-sample.pcap', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ltdh-bad-input-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built program, spawned with `stdin` as its standard input. */
function spawned(args: string[], stdin: number): Run {
  const r = spawnSync(process.execPath, [...builtCli(), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: [stdin, 'pipe', 'pipe'],
  });
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The program in-process. */
async function cli(args: string[]): Promise<Run> {
  const r = await runCli(args);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('unreadable input: exit 2, one line naming the file and the reason', async () => {
  const corrupt = gzipSync(original);
  corrupt.fill(0x55, 20, 4000);
  const unsupported = Buffer.from(original.subarray(0, 24 + 16 + 60));
  unsupported.writeUInt32LE(105, 20);
  unsupported.writeUInt32LE(60, 24 + 8);
  unsupported.writeUInt32LE(60, 24 + 12);
  const cases: Array<[string, string | RegExp]> = [
    [file('empty.pcap', new Uint8Array(0)), 'empty input'],
    [dir, 'is a directory'],
    [join(dir, 'missing.pcap'), 'no such file'],
    [file('junk.pcap', new TextEncoder().encode('these are not the bytes of a capture\n')), 'not a pcap or pcapng capture (starts with 74 68 65 73)'],
    [file('corrupt.pcap.gz', corrupt), /corrupt gzip data \([^\n]+\)/],
    [file('header.pcap.gz', gzipSync(original).subarray(0, 6)), 'gzip data is truncated before any capture byte'],
    [file('wifi.pcap', unsupported), 'unsupported link type 105 (IEEE 802.11)'],
  ];
  for (const [path, reason] of cases) {
    for (const mode of [['--json'], ['--no-tui']]) {
      const r = await cli([path, ...mode]);
      assert.equal(r.status, 2, `${path}: ${r.stderr}`);
      assert.equal(r.stdout, '', path);
      const why = typeof reason === 'string' ? escape(reason) : reason.source;
      assert.match(r.stderr, new RegExp(`^ltdh-inspect: ${escape(path)}: ${why}\\n$`), path);
    }
  }
});

test("a directory on stdin ('-'): exit 2, one line", () => {
  const fd = openSync(dir, 'r');
  try {
    const r = spawned(['-', '--json'], fd);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'ltdh-inspect: stdin: is a directory\n');
  } finally {
    closeSync(fd);
  }
});

test('a truncated capture: exit 0, the records before the cut, a warning with the byte offset', async () => {
  const r = await cli([file('cut.pcap', original.subarray(0, 300_001)), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^ltdh-inspect: .*cut\.pcap: warning: capture truncated at byte 300001: last packet record \(at byte \d+\) is incomplete\n$/);
  const records = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { msg?: string; event?: string; offset?: number });
  assert.ok(records.filter((x) => x.msg !== undefined).length > 20);
  assert.ok(records.some((x) => x.event === 'warning' && x.offset !== undefined && x.offset < 300_001));
});

test('a truncated gzip stream: exit 0, what it held, a warning where it ends', async () => {
  const gz = gzipSync(original);
  const r = await cli([file('cut.pcap.gz', gz.subarray(0, gz.length >> 1)), '--no-tui', '--no-summary']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0]!, /^ltdh-inspect: .*cut\.pcap\.gz: warning: gzip data is truncated \(at byte \d+\)$/);
  assert.ok(lines.length <= 2, r.stderr);
  assert.ok(r.stdout.split('\n').length > 20);
});
