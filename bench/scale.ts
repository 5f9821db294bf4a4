// The scale cases of the bench (`npm run bench -- --only scale`): synthetic stress captures made once
// by bench/make-stress.ts (cached in the OS temp dir), each decoded with `--json` under GNU time, and
// a real sample with a pcapng block of an absurd length inserted. Prints each figure beside its target.
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
  target: string;
  ok: (secs: number, rssMB: number, bytes: number) => boolean;
}

const CASES: Case[] = [
  { name: '200,000 SYN-only connections', kind: 'syn', count: 200_000, target: 'peak RSS <= 150 MB', ok: (_s, rss) => rss <= 150 },
  { name: '100,000 handshake-only connections', kind: 'handshake', count: 100_000, target: 'peak RSS <= 150 MB', ok: (_s, rss) => rss <= 150 },
  { name: '200 extended handshakes of 1 MB, 30,000-key m dicts', kind: 'ext', count: 200, target: '>= 100 MB/s', ok: (s, _r, b) => b / 1048576 / s >= 100 },
];

function stressFile(kind: string, count: number): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${kind}-${count}.pcap`);
  if (!existsSync(file)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/make-stress.ts'), kind, file, String(count)], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`make-stress ${kind} failed`);
  }
  return file;
}

/** Wall seconds, user seconds and peak RSS (MB) of one --json run, stdout discarded. */
function timedJson(file: string): { secs: number; user: number; rssMB: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %M', process.execPath, CLI, file, '--json'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const m = /^([\d.]+) ([\d.]+) (\d+)$/.exec(r.stderr.trim().split('\n').at(-1) ?? '');
  if (r.status !== 0 || m === null) throw new Error(`${file}: ${r.stderr.slice(-300)}`);
  return { secs: Number(m[1]), user: Number(m[2]), rssMB: Math.round(Number(m[3]) / 1024) };
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

export async function scaleBench(): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown>[] = [];
  for (const c of CASES) {
    const file = stressFile(c.kind, c.count);
    const bytes = readFileSync(file).length;
    const run = timedJson(file);
    const row = { case: c.name, MB: Math.round(bytes / 1048576), ...run, MBps: Math.round(bytes / 1048576 / run.secs), target: c.target, met: c.ok(run.secs, run.rssMB, bytes) };
    process.stderr.write(`  ${c.name}: ${run.secs} s (${run.user} s user), peak RSS ${run.rssMB} MB\n`);
    rows.push(row);
  }
  // 50,000 connections each: a SYN apiece, and five packets apiece (three-way and both handshakes).
  const perConnection = { syn: connCost(stressFile('syn', 200_000), 50_000), handshake: connCost(stressFile('handshake', 100_000), 250_000) };
  return { rows, perConnection, absurdBlock: absurdBlock() };
}

export function reportScale(s: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const r of s.rows as { case: string; MB: number; secs: number; user: number; rssMB: number; MBps: number; target: string; met: boolean }[]) {
    out.push(`${r.case} (${r.MB} MB) --json: ${r.secs} s (${r.user} s user, ${r.MBps} MB/s), peak RSS ${r.rssMB} MB  (target ${r.target}: ${r.met ? 'met' : 'MISSED'})`);
  }
  const per = s.perConnection as { syn: { bytesPerFlow: number }; handshake: { bytesPerFlow: number } } | undefined;
  if (per !== undefined) {
    out.push(`retained heap per live connection that carried no data (SYN only): ${per.syn.bytesPerFlow} bytes  (target a few hundred, <= 500: ${per.syn.bytesPerFlow <= 500 ? 'met' : 'MISSED'})`);
    out.push(`retained heap per live handshake-only connection: ${per.handshake.bytesPerFlow} bytes (reassembler, decoder, analyzer, summary tally); a released one keeps only a count`);
  }
  const a = s.absurdBlock as { messages: number; afterAbsurdBlock: number; ok: boolean };
  out.push(`wt-dumpcap.pcapng with a block claiming 0xFFFFFFF0 bytes: ${a.afterAbsurdBlock} of ${a.messages} messages  (target: all, reading resumes at the next block: ${a.ok ? 'met' : 'MISSED'})`);
  return out;
}
