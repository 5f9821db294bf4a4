// The benchmark suite (`npm run bench`; not part of `npm test`). On two real large captures (made once
// by bench/make-capture.sh: the magnet one, whose every piece is hash-checked, and the plain one) it
// times, alternating the contenders round by round, the raw read limit, ltdh-inspect --json and text
// output, and tshark (bench/decode.ts). Then the proxy case (the same piece traffic direct and through `ltdh-inspect proxy`) and the
// terminal UI's first screen in tmux. Prints medians and ratios against the targets, writes
// bench/results/latest.json and compares with the previous results file when there is one.
//
//   npm run bench [-- --rounds 5 --capture FILE --plain-capture FILE --cases magnet,plain --port 6881 --proxy-mb 500 --proxy-cases peers,pinned,stream --proxy-base DIST --only decode,proxy,ui,keys,store,scale --ui-captures A,B
//                    --scale-cases syn,handshake,ext,million --records 1000000]
//
// `ui` (bench/first-screen.ts) times the first screen of a sample, a million tiny messages and the plain capture
// (or the --ui-captures files) against a node process printing one line.
//
// `keys` (bench/ui-keys.tsx) times the store and the UI's keys over 1,000,000 synthetic records (--records N).
// `store` (bench/ui-store.ts): the UI store's bytes per record, the UI's peak RSS over 1M and 10M messages.
import { reportScale, scaleBench } from './scale.js';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { firstScreenCompare, uiBench, uiReport } from './first-screen.js';
import { keysBench, keysReport } from './ui-keys.js';
import { storeBench, storeReport } from './ui-store.js';
import { decodeBench, decodeReport, makeCapture, round, type DecodeCase } from './decode.js';
import { proxyBench, proxyReport, type ProxyResult } from './proxy-bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RESULTS = join(ROOT, 'bench/results');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

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
  let proxy: ProxyResult | null = null;
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
    const baseDist = arg('proxy-base', '');
    proxy = await proxyBench({
      root: ROOT,
      cli: CLI,
      baseDist: baseDist === '' ? undefined : baseDist,
      mb: Number(arg('proxy-mb', '500')),
      rounds: Math.max(3, Math.min(count, 5)),
      cases: new Set(arg('proxy-cases', 'peers,pinned,stream').split(',')),
    });
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
type Ui = Record<string, unknown> | null;
interface Result {
  scale?: Record<string, unknown> | null;
  date: string;
  machine: Record<string, unknown>;
  decode: Decode | null;
  proxy: ProxyResult | null;
  ui: Ui;
  keys?: Record<string, unknown> | null;
  store?: Record<string, unknown> | null;
}
type Rows = DecodeCase['rows'];

function report(r: Result): void {
  const out: string[] = [];
  // Results files from before the magnet case hold one decode object.
  for (const d of Array.isArray(r.decode) ? r.decode : []) out.push(...decodeReport(d));
  // Results files from before the per-round figures hold other shapes: shown only when current.
  if (r.proxy && 'overPlain' in r.proxy) out.push(...proxyReport(r.proxy));
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
  // Both the median of per-round ratios since the proxy bench gave one figure per target.
  const pr = (r: Result): number | null | undefined => (r.proxy !== null && 'overPlain' in r.proxy ? r.proxy.ratio : undefined);
  if (pr(prev) != null && pr(cur) != null) lines.push(`  proxy / direct ${pr(prev)} -> ${pr(cur)} (median of per-round ratios)`);
  lines.push(...firstScreenCompare(prev.ui, cur.ui));
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
