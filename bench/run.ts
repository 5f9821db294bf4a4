// The benchmark suite (`npm run bench`; not part of `npm test`). On one real large capture (made once
// by bench/make-capture.sh) it times, alternating the contenders round by round: the raw read limit
// (the file read through the same stream and chunk size as ours, and discarded), ltdh-inspect --json
// and text output, and tshark when installed. Each run is timed with GNU time (wall clock and peak
// RSS). Then the proxy case (the same piece traffic direct and through `ltdh-inspect proxy`) and the
// terminal UI's first screen in tmux. Prints medians and ratios against the targets, writes
// bench/results/latest.json and compares with the previous results file when there is one.
//
//   npm run bench [-- --rounds 5 --capture FILE --port 6881 --proxy-mb 500]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RESULTS = join(ROOT, 'bench/results');
const BLOCK = 16384;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Run {
  secs: number;
  rssMB: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** One timed run under GNU time: wall seconds and peak RSS; stdout discarded. */
function timed(argv: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const m = /^([\d.]+) (\d+)$/.exec(last);
  if (r.status !== 0 || m === null) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-300)}`);
  return { secs: Number(m[1]), rssMB: Number(m[2]) / 1024 };
}

function captureFile(): string {
  const given = arg('capture', '');
  if (given !== '') return given;
  const r = spawnSync('bash', [join(ROOT, 'bench/make-capture.sh'), arg('mb', '200')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write('bench: could not make the capture (see above); pass --capture FILE to use your own\n');
    process.exit(1);
  }
  return r.stdout.trim().split('\n').at(-1)!;
}

function countPackets(file: string): number {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { CaptureReader } from ${JSON.stringify(join(ROOT, 'dist/capture/capture-reader.js'))};
    import { createReadStream } from 'node:fs';
    let n = 0;
    const reader = new CaptureReader({ packet() { n++; }, warning() {}, fatal() {} });
    for await (const c of createReadStream(${JSON.stringify(file)}, { highWaterMark: 1 << 20 })) reader.push(c);
    reader.end();
    console.log(n);`], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

const RAW_READ = `const s = require('fs').createReadStream(process.argv[1], { highWaterMark: 256 * 1024 });
let n = 0; s.on('data', (c) => { n += c.length; }); s.on('end', () => { if (n === 0) process.exit(1); });`;

async function decodeBench(file: string, rounds: number, port: string): Promise<Record<string, unknown>> {
  const contenders: [string, string[]][] = [
    ['raw read', [process.execPath, '-e', RAW_READ, file]],
    ['ltdh --json', [process.execPath, CLI, file, '--json']],
    ['ltdh text', [process.execPath, CLI, file, '--no-tui']],
  ];
  if (have('tshark')) {
    const fields = ['frame.number', 'bittorrent.msg.type', 'bittorrent.piece.index', 'bittorrent.extended.id'].flatMap((f) => ['-e', f]);
    contenders.push(['tshark', ['tshark', '-r', file, '-d', `tcp.port==${port},bittorrent`, '-T', 'fields', ...fields]]);
  } else process.stderr.write('bench: tshark is not installed; its row is left out\n');
  const runs = new Map<string, Run[]>(contenders.map(([name]) => [name, []]));
  for (let i = 0; i < rounds; i++) {
    for (const [name, argv] of contenders) {
      const r = timed(argv);
      runs.get(name)!.push(r);
      process.stderr.write(`  round ${i + 1}/${rounds}  ${name.padEnd(12)} ${r.secs.toFixed(2)} s  ${r.rssMB.toFixed(0)} MB\n`);
    }
  }
  const bytes = statSync(file).size;
  const packets = countPackets(file);
  const rows: Record<string, { secs: number; MBps: number; packetsPerSec: number; peakRssMB: number }> = {};
  for (const [name, rs] of runs) {
    const secs = median(rs.map((r) => r.secs));
    rows[name] = { secs, MBps: round(bytes / 1048576 / secs, 0), packetsPerSec: round(packets / secs, 0), peakRssMB: round(Math.max(...rs.map((r) => r.rssMB)), 0) };
  }
  const json = rows['ltdh --json']!;
  const text = rows['ltdh text']!;
  const ts = rows['tshark'];
  return {
    capture: file,
    bytes,
    packets,
    rounds,
    rows,
    ratios: {
      tsharkOverJson: ts ? round(ts.secs / json.secs) : null,
      tsharkOverText: ts ? round(ts.secs / text.secs) : null,
      jsonOverRawRead: round(json.secs / rows['raw read']!.secs),
      textOverRawRead: round(text.secs / rows['raw read']!.secs),
    },
  };
}

/** Handshake, then piece messages of one reused buffer. */
function pieceTraffic(): { handshake: Buffer; chunk: Buffer } {
  const handshake = Buffer.alloc(68);
  handshake[0] = 19;
  handshake.write('BitTorrent protocol', 1, 'latin1');
  handshake[25] = 0x10;
  const messages = 64;
  const chunk = Buffer.alloc(messages * (13 + BLOCK));
  for (let i = 0; i < messages; i++) {
    const at = i * (13 + BLOCK);
    chunk.writeUInt32BE(9 + BLOCK, at);
    chunk[at + 4] = 7;
    chunk.writeUInt32BE(i, at + 5);
  }
  return { handshake, chunk };
}

/** Sends `mb` MB to port and waits for the receiver's FIN to come back; MB/s. */
async function transfer(port: number, mb: number): Promise<number> {
  const { handshake, chunk } = pieceTraffic();
  const total = mb * 1048576;
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  const t0 = process.hrtime.bigint();
  s.write(handshake);
  for (let sent = 0; sent < total; sent += chunk.length) if (!s.write(chunk)) await once(s, 'drain');
  s.end();
  s.resume();
  await once(s, 'end');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return total / 1048576 / secs;
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

async function proxyBench(mb: number, rounds: number): Promise<Record<string, unknown>> {
  const sink = createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  }).listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const target = (sink.address() as { port: number }).port;
  const listen = await freePort();
  const proxy = spawn(process.execPath, [CLI, 'proxy', `127.0.0.1:${listen}`, `127.0.0.1:${target}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let records = 0;
  proxy.stdout.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) records++;
  });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: listen }, () => resolve(true));
      s.on('error', () => resolve(false));
      s.on('connect', () => s.destroy());
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < rounds; i++) {
    direct.push(await transfer(target, mb));
    proxied.push(await transfer(listen, mb));
    process.stderr.write(`  round ${i + 1}/${rounds}  direct ${direct.at(-1)!.toFixed(0)} MB/s  proxy ${proxied.at(-1)!.toFixed(0)} MB/s\n`);
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proxy.pid}/status`, 'utf8'));
  proxy.kill('SIGTERM');
  await once(proxy, 'exit');
  sink.close();
  return {
    mb,
    rounds,
    directMBps: round(median(direct), 0),
    proxyMBps: round(median(proxied), 0),
    ratio: round(median(proxied) / median(direct)),
    proxyPeakRssMB: hwm ? round(Number(hwm[1]) / 1024, 0) : null,
    proxyRecords: records,
  };
}

/** Spawn in a 160x45 tmux pane and poll until the first timeline row (a "#1" connection) shows. */
async function firstScreen(file: string, rounds: number): Promise<Record<string, unknown> | null> {
  if (!have('tmux')) {
    process.stderr.write('bench: tmux is not installed; the first-screen case is left out\n');
    return null;
  }
  const socket = `ltdh-bench-${process.pid}`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    tmux('new-session', '-d', '-x', '160', '-y', '45', `${process.execPath} ${CLI} ${file}`);
    let ms = NaN;
    while (performance.now() - t0 < 10_000) {
      if (/#1\b/.test(tmux('capture-pane', '-p').stdout ?? '')) {
        ms = performance.now() - t0;
        break;
      }
    }
    tmux('kill-server');
    times.push(ms);
    process.stderr.write(`  round ${i + 1}/${rounds}  first screen ${ms.toFixed(0)} ms\n`);
  }
  return { rounds, medianMs: round(median(times), 0), note: 'spawn to first timeline row on the screen, polled with tmux capture-pane (includes node start-up)' };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) {
    process.stderr.write('bench: build first (npm run build)\n');
    process.exit(1);
  }
  const rounds = Number(arg('rounds', '5'));
  const file = captureFile();
  process.stderr.write(`bench: ${file}\ndecoding, ${rounds} rounds, contenders alternating:\n`);
  const decode = await decodeBench(file, rounds, arg('port', '6881'));
  process.stderr.write('proxy throughput:\n');
  const proxy = await proxyBench(Number(arg('proxy-mb', '500')), Math.max(3, Math.min(rounds, 5)));
  process.stderr.write('terminal UI first screen:\n');
  const ui = await firstScreen(file, rounds);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGB: round(totalmem() / 2 ** 30, 1), node: process.version },
    decode,
    proxy,
    ui,
  };
  report(result);
  mkdirSync(RESULTS, { recursive: true });
  const latest = join(RESULTS, 'latest.json');
  if (existsSync(latest)) {
    const previous = JSON.parse(readFileSync(latest, 'utf8')) as typeof result;
    compare(previous, result);
    renameSync(latest, join(RESULTS, 'previous.json'));
  }
  writeFileSync(latest, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${latest}\n`);
}

type Result = { decode: Awaited<ReturnType<typeof decodeBench>>; proxy: Awaited<ReturnType<typeof proxyBench>>; ui: Awaited<ReturnType<typeof firstScreen>> };

function report(r: Result): void {
  const d = r.decode as { bytes: number; packets: number; rows: Record<string, { secs: number; MBps: number; packetsPerSec: number; peakRssMB: number }>; ratios: Record<string, number | null> };
  const out: string[] = [];
  out.push(`\ncapture: ${(d.bytes / 1048576).toFixed(0)} MB, ${d.packets} packets (medians)`);
  out.push(`${'contender'.padEnd(14)}${'secs'.padStart(8)}${'MB/s'.padStart(8)}${'packets/s'.padStart(12)}${'peak RSS'.padStart(11)}`);
  for (const [name, row] of Object.entries(d.rows)) {
    out.push(`${name.padEnd(14)}${row.secs.toFixed(2).padStart(8)}${String(row.MBps).padStart(8)}${String(row.packetsPerSec).padStart(12)}${(row.peakRssMB + ' MB').padStart(11)}`);
  }
  const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');
  const t = d.ratios;
  const rss = Math.max(d.rows['ltdh --json']!.peakRssMB, d.rows['ltdh text']!.peakRssMB);
  out.push(`tshark / ltdh --json: ${t.tsharkOverJson ?? 'n/a'}x, tshark / ltdh text: ${t.tsharkOverText ?? 'n/a'}x  (target >= 5x: ${verdict(t.tsharkOverJson === null ? null : Math.min(t.tsharkOverJson!, t.tsharkOverText!) >= 5)})`);
  out.push(`ltdh --json / raw read: ${t.jsonOverRawRead}x, text / raw read: ${t.textOverRawRead}x  (target <= 4x: ${verdict(Math.max(t.jsonOverRawRead!, t.textOverRawRead!) <= 4)})`);
  out.push(`peak RSS ltdh: ${rss} MB  (target < 150 MB: ${verdict(rss < 150)})`);
  const p = r.proxy as { directMBps: number; proxyMBps: number; ratio: number; proxyPeakRssMB: number | null };
  out.push(`proxy: direct ${p.directMBps} MB/s, through the proxy ${p.proxyMBps} MB/s, ratio ${p.ratio}  (target >= 0.8: ${verdict(p.ratio >= 0.8)}), proxy peak RSS ${p.proxyPeakRssMB} MB`);
  if (r.ui) out.push(`terminal UI first screen: ${(r.ui as { medianMs: number }).medianMs} ms  (target < 300 ms: ${verdict((r.ui as { medianMs: number }).medianMs < 300)})`);
  process.stdout.write(out.join('\n') + '\n');
}

function compare(prev: Result, cur: Result): void {
  const rows = (r: Result) => (r.decode as { rows: Record<string, { secs: number }> }).rows;
  const lines = ['\ncompared with the previous run:'];
  for (const [name, row] of Object.entries(rows(cur))) {
    const before = rows(prev)[name];
    if (before) lines.push(`  ${name.padEnd(14)} ${before.secs.toFixed(2)} s -> ${row.secs.toFixed(2)} s (${((row.secs / before.secs - 1) * 100).toFixed(0)}%)`);
  }
  const pr = (r: Result) => (r.proxy as { ratio: number }).ratio;
  lines.push(`  proxy ratio    ${pr(prev)} -> ${pr(cur)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
