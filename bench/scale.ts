// The scale cases of the bench (`npm run bench -- --only scale`): synthetic stress captures made once
// by bench/make-stress.ts and bench/million-messages.ts (cached in the OS temp dir), each decoded
// under GNU time (`--json`, or the text timeline), and a real sample with a pcapng block of an absurd
// length inserted. Prints each figure beside its target and the figure measured before the work on it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const CACHE = join(tmpdir(), 'ltdh-bench-stress');

interface Case {
  name: string;
  kind: string;
  count: number;
  /** How it is decoded (default --json). */
  args?: string[];
  target: string;
  /** The figure before the work on this case, and where it was measured. */
  before: string;
  /** `secs`: wall seconds, `user`: user CPU seconds (steadier on a shared machine). */
  ok: (secs: number, rssMB: number, bytes: number, user: number) => boolean;
}

const CASES: Case[] = [
  { name: '200,000 SYN-only connections', kind: 'syn', count: 200_000, target: 'peak RSS <= 150 MB', before: '508 MB peak, 3.9 s user (main before issue 15)', ok: (_s, rss) => rss <= 150 },
  { name: '100,000 handshake-only connections', kind: 'handshake', count: 100_000, target: 'peak RSS <= 150 MB', before: '739 MB peak, 9.6 s user (main before issue 15)', ok: (_s, rss) => rss <= 150 },
  {
    name: '200 extended handshakes of 1 MB, 30,000-key m dicts',
    kind: 'ext',
    count: 200,
    target: '>= 100 MB/s',
    before: '9.65 s user, 12.5 s wall, 15-22 MB/s, 115 MB peak (before canonicalDict)',
    ok: (s, _r, b) => b / 1048576 / s >= 100,
  },
  {
    // The reorder window held every line of a capture shorter than 2 s, in V8's old generation.
    name: '1,000,000 messages on one connection, text timeline',
    kind: 'million',
    count: 1_000_000,
    args: ['--no-tui', '--no-summary'],
    target: 'as 5db1f8e, before the reorder window: 1.53 s user, 105 MB peak',
    before: '5.6-7.2 s user, 225-252 MB peak (the window holding 20,000 lines)',
    ok: (_s, rss, _b, user) => user <= 1.53 * 1.25 && rss <= 105 * 1.15,
  },
];

function stressFile(kind: string, count: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${kind}-${count}.pcap`);
  if (!existsSync(file)) {
    // million-messages.ts writes the capture the regression was found on (one busy connection).
    const args = kind === 'million' ? [join(ROOT, 'bench/million-messages.ts'), file, String(count)] : [join(ROOT, 'bench/make-stress.ts'), kind, file, String(count)];
    const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`making the ${kind} capture failed`);
  }
  return file;
}

/**
 * Wall, user and system seconds and peak RSS (MB) of one run, stdout discarded. System time is what
 * tells a wall clock slowed by the machine's load (wall far above user + sys) from one the process
 * spends itself (page faults for fresh memory: wall close to user + sys).
 */
function timedRun(file: string, args: string[]): { secs: number; user: number; sys: number; rssMB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, CLI, file, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(r.stderr.trim().split('\n').at(-1) ?? '');
  if (r.status !== 0 || m === null) throw new Error(`${file}: ${r.stderr.slice(-300)}`);
  return { secs: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), rssMB: Math.round(Number(m[4]) / 1024) };
}

/** wt-dumpcap.pcapng with an unknown block claiming 0xFFFFFFF0 bytes inserted before its first packet. */
function absurdBlock(): Record<string, unknown> {
  const original = readFileSync(join(ROOT, 'samples/wt-dumpcap.pcapng'));
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x7777, 0);
  header.writeUInt32LE(0xfffffff0, 4);
  const file = join(CACHE, 'absurd-block.pcapng');
  writeFileSync(file, Buffer.concat([original.subarray(0, 264), header, original.subarray(264)]));
  const count = (f: string): number => {
    const r = spawnSync(process.execPath, [CLI, f, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return r.stdout.split('\n').filter((l) => l.includes('"msg"')).length;
  };
  const before = count(join(ROOT, 'samples/wt-dumpcap.pcapng'));
  const after = count(file);
  return { messages: before, afterAbsurdBlock: after, ok: after === before };
}

/** Retained heap per live connection of a stress capture's first `packets` packets (bench/conn-cost.ts). */
function connCost(file: string, packets: number): { flows: number; bytesPerFlow: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/conn-cost.ts'), file, String(packets)], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`conn-cost ${file}: ${r.stderr.slice(-300)}`);
  return JSON.parse(r.stdout) as { flows: number; bytesPerFlow: number };
}


/** `kinds`: only these cases (syn, handshake, ext, million), e.g. from `--scale-cases ext,million`. */
export async function scaleBench(kinds?: readonly string[]): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown>[] = [];
  for (const c of CASES.filter((x) => kinds === undefined || kinds.includes(x.kind))) {
    const file = stressFile(c.kind, c.count);
    const bytes = readFileSync(file).length;
    const args = c.args ?? ['--json'];
    const run = timedRun(file, args);
    const row = { case: c.name, how: args.join(' '), MB: Math.round(bytes / 1048576), ...run, MBps: Math.round(bytes / 1048576 / run.secs), userMBps: Math.round(bytes / 1048576 / run.user), cpuMBps: Math.round(bytes / 1048576 / (run.user + run.sys)), target: c.target, before: c.before, met: c.ok(run.secs, run.rssMB, bytes, run.user) };
    process.stderr.write(`  ${c.name}: ${run.secs} s (${run.user} s user, ${run.sys} s sys), peak RSS ${run.rssMB} MB\n`);
    rows.push(row);
  }
  // 50,000 connections each: a SYN apiece, and five packets apiece (three-way and both handshakes).
  const perConnection =
    kinds === undefined || (kinds.includes('syn') && kinds.includes('handshake')) ? { syn: connCost(stressFile('syn', 200_000), 50_000), handshake: connCost(stressFile('handshake', 100_000), 250_000) } : undefined;
  return { rows, perConnection, absurdBlock: absurdBlock() };
}

export function reportScale(s: Record<string, unknown>): string[] {
  const out: string[] = [];
  type Row = { case: string; how?: string; MB: number; secs: number; user: number; sys?: number; rssMB: number; MBps: number; userMBps?: number; cpuMBps?: number; target: string; before?: string; met: boolean };
  for (const r of s.rows as Row[]) {
    const cpu = r.cpuMBps !== undefined ? `, ${r.cpuMBps} MB/s of user + sys` : '';
    const rate = `${r.MBps} MB/s${r.userMBps !== undefined ? `, ${r.userMBps} MB/s of user CPU` : ''}${cpu}`;
    const sys = r.sys !== undefined ? `, ${r.sys} s sys` : '';
    out.push(`${r.case} (${r.MB} MB) ${r.how ?? '--json'}: ${r.secs} s (${r.user} s user${sys}, ${rate}), peak RSS ${r.rssMB} MB  (target ${r.target}: ${r.met ? 'met' : 'MISSED'}; before: ${r.before ?? '?'})`);
  }
  const per = s.perConnection as { syn: { bytesPerFlow: number }; handshake: { bytesPerFlow: number } } | undefined;
  if (per !== undefined) {
    out.push(`retained heap per live connection that carried no data (SYN only): ${per.syn.bytesPerFlow} bytes  (target a few hundred, <= 500: ${per.syn.bytesPerFlow <= 500 ? 'met' : 'MISSED'})`);
    out.push(`retained heap per live handshake-only connection: ${per.handshake.bytesPerFlow} bytes (reassembler, decoder, analyzer, summary tally; 1,733 before the packed state, test/e2e/connection-cost.test.ts bound 1,580); a released one keeps only a count`);
  }
  const a = s.absurdBlock as { messages: number; afterAbsurdBlock: number; ok: boolean };
  out.push(`wt-dumpcap.pcapng with a block claiming 0xFFFFFFF0 bytes: ${a.afterAbsurdBlock} of ${a.messages} messages  (target: all, reading resumes at the next block: ${a.ok ? 'met' : 'MISSED'})`);
  return out;
}
