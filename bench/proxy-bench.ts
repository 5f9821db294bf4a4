// The proxy case of `npm run bench` (issue 15 item 7): the same piece traffic directly, through
// `ltdh-inspect proxy --json`, through relays that decode nothing (a plain Node pipe relay, socat),
// and optionally through a second build of the proxy (`--proxy-base DIST`, for A/B runs). The
// contenders alternate round by round, so a busy spell on the shared machine hits a round, not a
// contender; every ratio is taken within a round and the figure judged against a target is the
// median of those per-round ratios. Each relay's CPU (utime + stime from /proc) is read around each
// of its transfers and given per GB relayed.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { median, round } from './decode.js';

const BLOCK = 16384;
const PROXY = 'ltdh proxy';
const BASE = 'ltdh proxy (base)';
const PLAIN = 'plain node relay';
/** The targets, as the issue states them: the proxy over direct, and over the plain relay. */
const TARGETS: Record<string, number> = { direct: 0.8, [PLAIN]: 0.95 };

export interface ProxyBenchOptions {
  root: string;
  /** dist/cli/main.js of the build under test. */
  cli: string;
  /** Another build's dist directory, run as a further contender (A/B). */
  baseDist?: string;
  mb: number;
  rounds: number;
  /** Which cases: peers (sharing the CPUs), pinned (relays on a CPU of their own), stream (raw pieces). */
  cases: Set<string>;
}

/** A per-round ratio: the median of the rounds (the figure judged), lowest and highest. */
export interface RoundRatio {
  median: number;
  min: number;
  max: number;
}

export interface ProxyCase {
  /** Median MB/s of each contender over the rounds (shown; ratios are not taken from these). */
  MBps: Record<string, number>;
  /** Each contender's MB/s round by round. */
  perRound: Record<string, number[]>;
  /** The proxy over each other contender, within each round. */
  roundRatios: Record<string, RoundRatio>;
  /** The base build over direct and the plain relay, within each round (with --proxy-base). */
  baseRatios?: Record<string, RoundRatio>;
  /** CPU seconds per GB relayed, each relay's median over the rounds (min-max). */
  cpuSecsPerGB: Record<string, RoundRatio>;
  proxyPeakRssMB: number | null;
  proxyRecords: number;
}

export interface ProxyResult {
  mb: number;
  rounds: number;
  peers: ProxyCase | null;
  pinned: ProxyCase | null;
  stream: ProxyCase | null;
  /** The judged figure: median over rounds of the proxy over direct, real peers sharing the CPUs. */
  ratio: number | null;
  /** The same over the plain relay. */
  overPlain: number | null;
  pinnedRatio: number | null;
}

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

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
  /** Name -> the relay's process (its CPU is read from /proc). */
  pids: Map<string, number>;
  proxyOut: string;
  stop(): Promise<void>;
}

/** `argv` run on CPU `cpu` when one is given (taskset execs it: same pid), as it is otherwise. */
function onCpu(cpu: number | undefined, argv: string[]): [string, string[]] {
  return cpu === undefined ? [argv[0]!, argv.slice(1)] : ['taskset', ['-c', String(cpu), ...argv]];
}

/** ltdh-inspect proxy --json (stdout to a file, counted afterwards), the base build, the plain relay, socat if installed. */
async function startRelays(o: ProxyBenchOptions, target: number, tag: string, cpu?: number): Promise<Relays> {
  const children: ReturnType<typeof spawn>[] = [];
  const ports = new Map<string, number>([['direct', target]]);
  const pids = new Map<string, number>();
  const results = join(o.root, 'bench/results');
  mkdirSync(results, { recursive: true });
  const proxyOut = join(results, `proxy-${tag}.ndjson`);
  const outs = [openSync(proxyOut, 'w')];
  const add = (name: string, port: number, argv: string[], stdout: number | 'ignore' = 'ignore'): void => {
    const child = spawn(...onCpu(cpu, argv), { stdio: ['ignore', stdout, 'ignore'] });
    children.push(child);
    ports.set(name, port);
    pids.set(name, child.pid!);
  };
  const proxyArgv = (cli: string, port: number): string[] => [process.execPath, cli, 'proxy', `127.0.0.1:${port}`, `127.0.0.1:${target}`, '--json'];
  let port = await freePort();
  add(PROXY, port, proxyArgv(o.cli, port), outs[0]);
  if (o.baseDist !== undefined) {
    outs.push(openSync(join(results, `proxy-${tag}-base.ndjson`), 'w'));
    port = await freePort();
    add(BASE, port, proxyArgv(join(o.baseDist, 'cli/main.js'), port), outs[1]);
  }
  port = await freePort();
  add(PLAIN, port, [process.execPath, '-e', PLAIN_RELAY, String(port), String(target)]);
  if (have('socat')) {
    port = await freePort();
    add('socat', port, ['socat', '-b', '262144', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,nodelay`, `TCP:127.0.0.1:${target},nodelay`]);
  }
  for (const [name, p] of ports) if (name !== 'direct') await waitForPort(p);
  return {
    ports,
    pids,
    proxyOut,
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
      for (const fd of outs) closeSync(fd);
    },
  };
}

/** CPU seconds a process has used, with its reaped children (socat forks one per connection). */
function cpuSecs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command: state is field 3, utime..cstime are fields 14-17.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / 100;
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

/** One real webtorrent transfer of `mb` MB, the leecher connecting to `port`, the seeder on `seedPort` (both on `cpu` if given); MB/s. */
async function peerTransfer(root: string, seedPort: number, port: number, mb: number, inFlight: number, cpu?: number): Promise<number> {
  const peers = [process.execPath, '--import', 'tsx', join(root, 'bench/transfer-peers.ts')];
  const seed = spawn(...onCpu(cpu, [...peers, 'seed', '--port', String(seedPort), '--mb', String(mb)]), { stdio: ['ignore', 'pipe', 'inherit'] });
  let ready = '';
  seed.stdout!.on('data', (d: Buffer) => (ready += d.toString()));
  while (!ready.includes('ready')) {
    if (seed.exitCode !== null) throw new Error('the seeder exited');
    await new Promise((r) => setTimeout(r, 20));
  }
  const leech = spawnSync(...onCpu(cpu, [...peers, 'leech', '--port', String(port), '--mb', String(mb), '--in-flight', String(inFlight)]), { encoding: 'utf8', timeout: 600_000 });
  if (seed.exitCode === null) await Promise.race([once(seed, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
  seed.kill();
  const m = / MB in ([\d.]+) s/.exec(leech.stdout);
  if (leech.status !== 0 || m === null) throw new Error(`leecher failed (${leech.status}): ${leech.stdout}${leech.stderr}`);
  return mb / Number(m[1]);
}

/** Each contender in turn, `count` rounds; MB/s and (relays) CPU s/GB per round. */
async function rounds(relays: Relays, count: number, mb: number, run: (port: number) => Promise<number>, label: string): Promise<{ MBps: Record<string, number[]>; cpu: Record<string, number[]> }> {
  const names = [...relays.ports.keys()];
  const MBps: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries([...relays.pids.keys()].map((n) => [n, []]));
  for (let i = 0; i < count; i++) {
    const line: string[] = [];
    for (const name of names) {
      const pid = relays.pids.get(name);
      const before = pid === undefined ? 0 : cpuSecs(pid);
      const v = await run(relays.ports.get(name)!);
      MBps[name]!.push(v);
      let cell = `${name} ${v.toFixed(0)}`;
      if (pid !== undefined) {
        const perGB = round(((cpuSecs(pid) - before) * 1024) / mb);
        cpu[name]!.push(perGB);
        cell += ` (${perGB} CPU s/GB)`;
      }
      line.push(cell);
    }
    process.stderr.write(`  ${label} round ${i + 1}/${count}  ${line.join(', ')} MB/s\n`);
  }
  return { MBps, cpu };
}

const spread = (xs: number[]): RoundRatio => ({ median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) });

/** `of` over direct and over the plain relay (and over the base build), round by round. */
function ratiosWithin(perRound: Record<string, number[]>, of: string, over: string[]): Record<string, RoundRatio> {
  const mine = perRound[of];
  const out: Record<string, RoundRatio> = {};
  if (mine === undefined) return out;
  for (const other of over) {
    const base = perRound[other];
    if (base !== undefined && other !== of) out[other] = spread(mine.map((v, i) => v / base[i]!));
  }
  return out;
}

async function measureCase(o: ProxyBenchOptions, relays: Relays, run: (port: number) => Promise<number>, label: string): Promise<ProxyCase> {
  const { MBps, cpu } = await rounds(relays, o.rounds, o.mb, run, label);
  const proxyPeakRssMB = peakRssMB(relays.pids.get(PROXY)!);
  await relays.stop();
  const c: ProxyCase = {
    MBps: Object.fromEntries(Object.entries(MBps).map(([n, v]) => [n, round(median(v), 0)])),
    perRound: Object.fromEntries(Object.entries(MBps).map(([n, v]) => [n, v.map((x) => round(x, 0))])),
    roundRatios: ratiosWithin(MBps, PROXY, ['direct', PLAIN, BASE]),
    cpuSecsPerGB: Object.fromEntries(Object.entries(cpu).map(([n, v]) => [n, spread(v)])),
    proxyPeakRssMB,
    proxyRecords: countLines(relays.proxyOut),
  };
  if (o.baseDist !== undefined) c.baseRatios = ratiosWithin(MBps, BASE, ['direct', PLAIN]);
  return c;
}

/**
 * Real peers: the bench's webtorrent seeder and leecher (64 requests in flight, as a fast webtorrent
 * pipeline keeps) transfer `mb` MB directly and through each relay. Pinned (taskset, two CPUs or
 * more): both peers on CPU 0 and the relays on CPU 1, so that a relay's work does not come out of the
 * peers' CPU time; on a two-CPU machine the unpinned case measures mostly that contention. Raw
 * stream: piece messages sent as fast as the receiver takes them, the worst case for a relay.
 */
export async function proxyBench(o: ProxyBenchOptions): Promise<ProxyResult> {
  const seedPort = await freePort();
  const peerCase = async (label: string, cpuPair?: [number, number]): Promise<ProxyCase> => {
    const relays = await startRelays(o, seedPort, label, cpuPair?.[1]);
    process.stderr.write(`  real webtorrent peers${cpuPair ? `, peers on CPU ${cpuPair[0]}, relays on CPU ${cpuPair[1]}` : ''}, ${o.mb} MB, 64 requests in flight:\n`);
    return measureCase(o, relays, (port) => peerTransfer(o.root, seedPort, port, o.mb, 64, cpuPair?.[0]), label);
  };
  const peers = o.cases.has('peers') ? await peerCase('peers') : null;
  const pinned = o.cases.has('pinned') && have('taskset') && cpus().length >= 2 ? await peerCase('pinned', [0, 1]) : null;
  let stream: ProxyCase | null = null;
  if (o.cases.has('stream')) {
    const sink = createServer((s) => {
      s.resume();
      s.on('end', () => s.end());
    }).listen(0, '127.0.0.1');
    await once(sink, 'listening');
    const raw = await startRelays(o, (sink.address() as { port: number }).port, 'stream');
    process.stderr.write(`  raw piece stream, ${o.mb} MB:\n`);
    stream = await measureCase(o, raw, (port) => blast(port, o.mb), 'stream');
    sink.close();
  }
  return {
    mb: o.mb,
    rounds: o.rounds,
    peers,
    pinned,
    stream,
    ratio: peers?.roundRatios['direct']?.median ?? null,
    overPlain: peers?.roundRatios[PLAIN]?.median ?? null,
    pinnedRatio: pinned?.roundRatios['direct']?.median ?? null,
  };
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const shown = (q: RoundRatio): string => `${q.median} (${q.min}-${q.max})`;

/** The report lines: per case the medians, CPU per GB, and every per-round ratio beside its target. */
export function proxyReport(p: ProxyResult): string[] {
  const out: string[] = [];
  const cases: [string, ProxyCase | null, boolean][] = [
    ['real webtorrent peers sharing the CPUs', p.peers, true],
    ['real peers, peers on CPU 0 and relays on CPU 1', p.pinned, true],
    ['raw piece stream', p.stream, false],
  ];
  for (const [label, c, judged] of cases) {
    if (c === null) continue;
    out.push(`proxy, ${label}, ${p.mb} MB, ${p.rounds} rounds alternating: median MB/s ${Object.entries(c.MBps).map(([n, v]) => `${n} ${v}`).join(', ')}; proxy peak RSS ${c.proxyPeakRssMB} MB, ${c.proxyRecords} records`);
    out.push(`  CPU s/GB relayed, median (min-max): ${Object.entries(c.cpuSecsPerGB).map(([n, q]) => `${n} ${shown(q)}`).join(', ')}`);
    for (const [who, ratios] of [[PROXY, c.roundRatios], [BASE, c.baseRatios ?? {}]] as const) {
      for (const [other, q] of Object.entries(ratios)) {
        const target = TARGETS[other];
        const judgement = !judged || target === undefined ? '' : `, target >= ${target}: ${verdict(q.median >= target)}`;
        out.push(`  ${who} / ${other}, median of per-round ratios: ${shown(q)}${judgement}`);
      }
    }
  }
  return out;
}
