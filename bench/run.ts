// The benchmark suite (`npm run bench`; not part of `npm test`). On two real large captures (made once
// by bench/make-capture.sh: the magnet one, whose every piece is hash-checked, and the plain one) it
// times, alternating the contenders round by round, the raw read limit, ltdh-inspect --json and text
// output, and tshark (bench/decode.ts). Then the proxy case (the same piece traffic direct and through `ltdh-inspect proxy`) and the
// terminal UI's first screen in tmux. Prints medians and ratios against the targets, writes
// bench/results/latest.json and compares with the previous results file when there is one.
//
//   npm run bench [-- --rounds 5 --capture FILE --plain-capture FILE --cases magnet,plain --port 6881 --proxy-mb 500 --only decode,proxy,ui,keys,store,scale
//                    --ui-captures A,B --scale-cases syn,handshake,ext,million --records 1000000]
//
// `ui` (bench/first-screen.ts) times the first screen of a sample, a million tiny messages and the plain capture
// (or the --ui-captures files) against a node process printing one line.
//
// `keys` (bench/ui-keys.tsx) times the store and the UI's keys over 1,000,000 synthetic records (--records N).
// `store` (bench/ui-store.ts): the UI store's bytes per record, the UI's peak RSS over 1M and 10M messages.
import { reportScale, scaleBench } from './scale.js';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { firstScreenCompare, uiBench, uiReport } from './first-screen.js';
import { keysBench, keysReport } from './ui-keys.js';
import { storeBench, storeReport } from './ui-store.js';
import { decodeBench, decodeReport, makeCapture, median, round, type DecodeCase } from './decode.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RESULTS = join(ROOT, 'bench/results');
const BLOCK = 16384;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The capture of `kind`: `--capture FILE` for the magnet case, else made once by make-capture.sh (root). */
function captureFile(kind: 'magnet' | 'plain'): string {
  const given = kind === 'magnet' ? arg('capture', '') : arg('plain-capture', '');
  if (given !== '') return given;
  const made = makeCapture(ROOT, arg('mb', '200'), kind);
  if (made === undefined) {
    process.stderr.write(`bench: could not make the ${kind} capture (see above); pass --${kind === 'magnet' ? 'capture' : 'plain-capture'} FILE to use your own\n`);
    process.exit(1);
  }
  return made;
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

/** Sends `mb` MB of piece messages to port as fast as it takes them, until the receiver's FIN; MB/s. */
async function blast(port: number, mb: number): Promise<number> {
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

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** A relay that only copies bytes (node streams, no decoding, no output): what any Node relay costs. */
const PLAIN_RELAY = `const net = require('net'); const [lp, tp] = process.argv.slice(1).map(Number);
net.createServer({ allowHalfOpen: true }, (c) => { const u = net.connect(tp, '127.0.0.1'); c.setNoDelay(true); u.setNoDelay(true);
  c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(lp, '127.0.0.1');`;

interface Relays {
  /** Name -> port to connect to; 'direct' is the target itself. */
  ports: Map<string, number>;
  proxyPid: number;
  proxyOut: string;
  stop(): Promise<void>;
}

/** `argv` run on CPU `cpu` when one is given (taskset), as it is otherwise. */
function onCpu(cpu: number | undefined, argv: string[]): [string, string[]] {
  return cpu === undefined ? [argv[0]!, argv.slice(1)] : ['taskset', ['-c', String(cpu), ...argv]];
}

/** ltdh-inspect proxy --json (stdout to a file, counted afterwards), the plain relay, socat if installed; on `cpu` if given. */
async function startRelays(target: number, tag: string, cpu?: number): Promise<Relays> {
  const children: ReturnType<typeof spawn>[] = [];
  const ports = new Map<string, number>([['direct', target]]);
  mkdirSync(RESULTS, { recursive: true });
  const proxyOut = join(RESULTS, `proxy-${tag}.ndjson`);
  const out = openSync(proxyOut, 'w');
  const proxyPort = await freePort();
  const proxy = spawn(...onCpu(cpu, [process.execPath, CLI, 'proxy', `127.0.0.1:${proxyPort}`, `127.0.0.1:${target}`, '--json']), { stdio: ['ignore', out, 'ignore'] });
  children.push(proxy);
  ports.set('ltdh proxy', proxyPort);
  const plainPort = await freePort();
  children.push(spawn(...onCpu(cpu, [process.execPath, '-e', PLAIN_RELAY, String(plainPort), String(target)]), { stdio: 'ignore' }));
  ports.set('plain node relay', plainPort);
  if (have('socat')) {
    const socatPort = await freePort();
    children.push(spawn(...onCpu(cpu, ['socat', '-b', '262144', `TCP-LISTEN:${socatPort},bind=127.0.0.1,fork,reuseaddr,nodelay`, `TCP:127.0.0.1:${target},nodelay`]), { stdio: 'ignore' }));
    ports.set('socat', socatPort);
  }
  for (const [name, port] of ports) if (name !== 'direct') await waitForPort(port);
  return {
    ports,
    proxyPid: proxy.pid!,
    proxyOut,
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
      closeSync(out);
    },
  };
}

function peakRssMB(pid: number): number | null {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return hwm ? round(Number(hwm[1]) / 1024, 0) : null;
}

function countLines(file: string): number {
  let n = 0;
  for (const b of readFileSync(file)) if (b === 10) n++;
  return n;
}

const PEERS = [process.execPath, '--import', 'tsx', join(ROOT, 'bench/transfer-peers.ts')];

/** One real webtorrent transfer of `mb` MB, the leecher connecting to `port`, the seeder on `seedPort` (both on `cpu` if given); MB/s. */
async function peerTransfer(seedPort: number, port: number, mb: number, inFlight: number, cpu?: number): Promise<number> {
  const seed = spawn(...onCpu(cpu, [...PEERS, 'seed', '--port', String(seedPort), '--mb', String(mb)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let ready = '';
  seed.stdout!.on('data', (d: Buffer) => (ready += d.toString()));
  while (!ready.includes('ready')) {
    if (seed.exitCode !== null) throw new Error('the seeder exited');
    await new Promise((r) => setTimeout(r, 20));
  }
  const leech = spawnSync(...onCpu(cpu, [...PEERS, 'leech', '--port', String(port), '--mb', String(mb), '--in-flight', String(inFlight)]), { encoding: 'utf8', timeout: 600_000 });
  if (seed.exitCode === null) await Promise.race([once(seed, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
  seed.kill();
  const m = / MB in ([\d.]+) s/.exec(leech.stdout);
  if (leech.status !== 0 || m === null) throw new Error(`leecher failed (${leech.status}): ${leech.stdout}${leech.stderr}`);
  return mb / Number(m[1]);
}

/** Per round, each contender's MB/s, by case label (rounds alternate, so a busy spell hits a round, not a contender). */
const perRound = new Map<string, number[][]>();

async function rounds(names: string[], count: number, run: (name: string) => Promise<number>, label: string): Promise<Record<string, number>> {
  const got = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let i = 0; i < count; i++) {
    const line: string[] = [];
    for (const name of names) {
      const v = await run(name);
      got.get(name)!.push(v);
      line.push(`${name} ${v.toFixed(0)}`);
    }
    process.stderr.write(`  ${label} round ${i + 1}/${count}  ${line.join(', ')} MB/s\n`);
  }
  perRound.set(label, [...got.values()]);
  return Object.fromEntries([...got].map(([n, v]) => [n, round(median(v), 0)]));
}

/**
 * The proxy case, three ways. Real peers: the bench's webtorrent seeder and leecher (64 requests in
 * flight, as a fast webtorrent pipeline keeps) transfer `mb` MB directly, through ltdh-inspect proxy,
 * and through relays that decode nothing (a plain Node pipe, and socat when installed), so the cost of
 * the extra hop and the cost of decoding can be told apart. Pinned (taskset, two CPUs or more): the
 * same with both peers on CPU 0 and the relays on CPU 1, so that a relay's work does not come out of
 * the peers' CPU time; on a two-CPU machine the unpinned case measures mostly that contention. Raw
 * stream: piece messages sent as fast as the receiver takes them, the worst case for a relay.
 */
async function proxyBench(mb: number, count: number): Promise<Record<string, unknown>> {
  const seedPort = await freePort();
  const peerCase = async (label: string, cpus?: [number, number]): Promise<ProxyCase> => {
    const relays = await startRelays(seedPort, label, cpus?.[1]);
    process.stderr.write(`  real webtorrent peers${cpus ? `, peers on CPU ${cpus[0]}, relays on CPU ${cpus[1]}` : ''}, ${mb} MB, 64 requests in flight:\n`);
    const MBps = await rounds([...relays.ports.keys()], count, (name) => peerTransfer(seedPort, relays.ports.get(name)!, mb, 64, cpus?.[0]), label);
    const proxyPeakRssMB = peakRssMB(relays.proxyPid);
    await relays.stop();
    return { MBps, overDirect: ratios(MBps), roundRatios: roundRatios([...relays.ports.keys()], label), proxyPeakRssMB, proxyRecords: countLines(relays.proxyOut) };
  };
  const ratios = (r: Record<string, number>) => Object.fromEntries(Object.keys(r).filter((n) => n !== 'direct').map((n) => [n, round(r[n]! / r['direct']!)]));
  const peers = await peerCase('peers');
  const pinned = have('taskset') && cpus().length >= 2 ? await peerCase('pinned', [0, 1]) : null;

  const sink = createServer((s) => {
    s.resume();
    s.on('end', () => s.end());
  }).listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const raw = await startRelays((sink.address() as { port: number }).port, 'stream');
  process.stderr.write(`  raw piece stream, ${mb} MB:\n`);
  const stream = await rounds([...raw.ports.keys()], count, (name) => blast(raw.ports.get(name)!, mb), 'stream');
  const streamRss = peakRssMB(raw.proxyPid);
  await raw.stop();
  sink.close();
  const streamRecords = countLines(raw.proxyOut);

  return {
    mb,
    rounds: count,
    peers,
    pinned,
    stream: { MBps: stream, overDirect: ratios(stream), roundRatios: roundRatios([...raw.ports.keys()], 'stream'), proxyPeakRssMB: streamRss, proxyRecords: streamRecords },
    ratio: peers.overDirect['ltdh proxy']!,
    pinnedRatio: pinned?.overDirect['ltdh proxy'] ?? null,
  };
}

/** The proxy over direct and over the plain relay of the same round: median, lowest and highest. */
function roundRatios(names: string[], label: string): Record<string, { median: number; min: number; max: number }> {
  const values = perRound.get(label) ?? [];
  const proxy = values[names.indexOf('ltdh proxy')] ?? [];
  const out: Record<string, { median: number; min: number; max: number }> = {};
  for (const other of ['direct', 'plain node relay']) {
    const base = names.indexOf(other) >= 0 ? values[names.indexOf(other)] : undefined;
    if (base === undefined || proxy.length === 0) continue;
    const r = proxy.map((v, i) => v / base[i]!);
    out[other] = { median: round(median(r)), min: round(Math.min(...r)), max: round(Math.max(...r)) };
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) {
    process.stderr.write('bench: build first (npm run build)\n');
    process.exit(1);
  }
  const count = Number(arg('rounds', '5'));
  const only = new Set(arg('only', 'decode,proxy,ui,keys,store,scale').split(','));
  // The UI cases read the plain capture, as they did before the magnet one existed.
  const cases = new Set(arg('cases', 'magnet,plain').split(','));
  let decode: Decode | null = null;
  let proxy: Proxy | null = null;
  let ui: Ui = null;
  if (only.has('decode')) {
    decode = [];
    for (const kind of ['magnet', 'plain'] as const) {
      if (!cases.has(kind)) continue;
      const file = captureFile(kind);
      process.stderr.write(`bench: ${file}\ndecoding the ${kind} capture, ${count} rounds, contenders alternating:\n`);
      decode.push(await decodeBench(ROOT, kind, file, count, arg('port', '6881')));
    }
  }
  if (only.has('proxy')) {
    process.stderr.write('proxy throughput:\n');
    proxy = await proxyBench(Number(arg('proxy-mb', '500')), Math.max(3, Math.min(count, 5)));
  }
  if (only.has('ui')) {
    process.stderr.write('terminal UI first screen:\n');
    const given = arg('ui-captures', '').split(',').filter((f) => f !== '');
    ui = await uiBench(count, given.length > 0 ? given : undefined, () => captureFile('plain'));
  }
  let keys: Record<string, unknown> | null = null;
  if (only.has('keys')) {
    process.stderr.write(`terminal UI keys over ${arg('records', '1000000')} records:\n`);
    keys = await keysBench(Number(arg('records', '1000000')));
  }
  let store: Record<string, unknown> | null = null;
  if (only.has('store')) {
    process.stderr.write('terminal UI store (bench/ui-store.ts):\n');
    store = await storeBench();
  }
  let scale: Record<string, unknown> | null = null;
  if (only.has('scale')) {
    process.stderr.write('scale (synthetic stress captures, bench/make-stress.ts):\n');
    const cases = arg('scale-cases', '');
    scale = await scaleBench(cases === '' ? undefined : cases.split(','));
  }
  const result: Result = {
    scale,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memGB: round(totalmem() / 2 ** 30, 1), node: process.version },
    decode,
    proxy,
    ui,
    keys,
    store,
  };
  report(result);
  if (scale !== null) process.stdout.write(reportScale(scale).join('\n') + '\n');
  mkdirSync(RESULTS, { recursive: true });
  const latest = join(RESULTS, 'latest.json');
  if (existsSync(latest)) {
    const previous = JSON.parse(readFileSync(latest, 'utf8')) as Result;
    compare(previous, result);
    renameSync(latest, join(RESULTS, 'previous.json'));
  }
  writeFileSync(latest, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nwritten to ${latest}\n`);
}

type Decode = DecodeCase[];
type Proxy = Awaited<ReturnType<typeof proxyBench>>;
type Ui = Awaited<ReturnType<typeof uiBench>>;
interface Result {
  scale?: Record<string, unknown> | null;
  date: string;
  machine: Record<string, unknown>;
  decode: Decode | null;
  proxy: Proxy | null;
  ui: Ui;
  keys?: Record<string, unknown> | null;
  store?: Record<string, unknown> | null;
}
type Rows = DecodeCase['rows'];
type ProxyCase = { MBps: Record<string, number>; overDirect: Record<string, number>; roundRatios?: Record<string, { median: number; min: number; max: number }>; proxyPeakRssMB: number | null; proxyRecords: number };

const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');

function report(r: Result): void {
  const out: string[] = [];
  // Results files from before the magnet case hold one decode object.
  for (const d of Array.isArray(r.decode) ? r.decode : []) out.push(...decodeReport(d));
  if (r.proxy) {
    const p = r.proxy as { mb: number; peers: ProxyCase; pinned: ProxyCase | null; stream: ProxyCase; ratio: number; pinnedRatio: number | null };
    const cases: [string, ProxyCase | null][] = [['real webtorrent peers', p.peers], ['real peers, pinned', p.pinned], ['raw piece stream', p.stream]];
    for (const [label, c] of cases) {
      if (c === null) continue;
      const cells = Object.entries(c.MBps).map(([n, v]) => `${n} ${v} MB/s${n === 'direct' ? '' : ` (${c.overDirect[n]})`}`);
      out.push(`proxy, ${label}, ${p.mb} MB: ${cells.join(', ')}; proxy peak RSS ${c.proxyPeakRssMB} MB, ${c.proxyRecords} records`);
      for (const [other, q] of Object.entries(c.roundRatios ?? {})) {
        const target = other === 'direct' ? 0.8 : 0.95;
        const judged = label === 'raw piece stream' ? 'no target for this case' : `target >= ${target}: ${verdict(q.median >= target)}`;
        out.push(`  proxy / ${other}, round by round: median ${q.median} (${q.min}-${q.max}) (${judged})`);
      }
    }
    out.push(`proxy / direct with real peers: ${p.ratio} sharing the CPUs with the peers (target >= 0.8: ${verdict(p.ratio >= 0.8)})`);
    // The second target: against a relay that decodes nothing, measured in the same rounds.
    const overPlain = (c: ProxyCase): number | null => (c.MBps['plain node relay'] ? round(c.MBps['ltdh proxy']! / c.MBps['plain node relay']) : null);
    const vsPlain = overPlain(p.peers);
    if (vsPlain !== null) out.push(`proxy / plain Node relay with real peers: ${vsPlain} sharing the CPUs (target >= 0.95: ${verdict(vsPlain >= 0.95)})`);
    if (p.pinnedRatio !== null) out.push(`proxy / direct with real peers, the proxy on a CPU of its own: ${p.pinnedRatio} (target >= 0.8: ${verdict(p.pinnedRatio >= 0.8)})`);
  }
  if (r.ui) out.push(...uiReport(r.ui));
  if (r.keys) out.push(...keysReport(r.keys));
  if (r.store) out.push(...storeReport(r.store));
  process.stdout.write(out.join('\n') + '\n');
}

function compare(prev: Result, cur: Result): void {
  const lines = ['\ncompared with the previous run:'];
  const rows = (r: Result, kind: string): Rows | undefined => (Array.isArray(r.decode) ? r.decode : []).find((d) => d.kind === kind)?.rows;
  for (const kind of ['magnet', 'plain']) {
    for (const [name, row] of Object.entries(rows(cur, kind) ?? {})) {
      const before = rows(prev, kind)?.[name];
      if (before) lines.push(`  ${kind.padEnd(7)} ${name.padEnd(14)} ${before.secs.toFixed(2)} s -> ${row.secs.toFixed(2)} s (${((row.secs / before.secs - 1) * 100).toFixed(0)}%)`);
    }
  }
  const pr = (r: Result): number | undefined => (r.proxy as { ratio?: number } | null)?.ratio;
  if (pr(prev) !== undefined && pr(cur) !== undefined) lines.push(`  proxy ratio    ${pr(prev)} -> ${pr(cur)}`);
  lines.push(...firstScreenCompare(prev.ui, cur.ui));
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
