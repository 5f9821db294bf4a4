// The terminal UI's first screen (issue 15 item 5: within 300 ms of a bare `node -e` start, for any
// capture): spawn to the first timeline row in a 160x45 tmux pane, polled with capture-pane, for
// several captures, each round alternating with a node process that only prints "#1" (the baseline).
// Also how many records the status line counted when the first row showed, and the UI reading a
// whole capture (peak RSS per record). Part of `npm run bench -- --only ui`; alone:
//
//   node --import tsx bench/first-screen.ts [--rounds 5] [--before OLD/dist/cli/main.js] FILE...
//
// --before also times another build on the same files in the same rounds (a before/after comparison
// on a machine whose load changes from minute to minute).
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, round } from './decode.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist/cli/main.js');
/** The target: first screen at most this far behind a node process printing one line. */
export const FIRST_SCREEN_TARGET_MS = 300;

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface Shown {
  ms: number;
  /** The records the status line counted on the first screen ("shown/total"), when it shows one. */
  records: number | null;
}

/** Runs `command` in a fresh tmux server and polls until a "#1" row shows (10 s at most). */
function poll(command: string, socket: string): Shown {
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const t0 = performance.now();
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '45', command);
  let shown: Shown = { ms: Number.POSITIVE_INFINITY, records: null };
  while (performance.now() - t0 < 10_000) {
    const screen = tmux('capture-pane', '-p').stdout ?? '';
    if (/#1\b/.test(screen)) {
      const count = / \d+\/(\d+) │/.exec(screen);
      shown = { ms: performance.now() - t0, records: count ? Number(count[1]) : null };
      break;
    }
  }
  tmux('kill-server');
  return shown;
}

export interface FirstScreenCase {
  file: string;
  /** The program timed, when not this tree's dist/cli/main.js. */
  cli?: string;
  captureMB: number;
  medianMs: number;
  minMs: number;
  maxMs: number | null;
  /** Median first screen minus the median node baseline: what the target bounds. */
  behindNodeMs: number;
  recordsAtFirstScreen: number | null;
}

/** Each round: the node baseline, then every capture once (and once more with `before`, if given). */
export function firstScreens(captures: string[], rounds: number, before?: string): { nodeBaselineMs: number; cases: FirstScreenCase[] } | null {
  if (!have('tmux')) {
    process.stderr.write('bench: tmux is not installed; the first-screen case is left out\n');
    return null;
  }
  const runs = captures.flatMap((file) => [{ file, cli: CLI }, ...(before !== undefined ? [{ file, cli: before }] : [])]);
  const baseline: number[] = [];
  const times = runs.map((): Shown[] => []);
  for (let i = 0; i < rounds; i++) {
    // A fresh tmux server each time: reusing a socket name right after kill-server can race.
    baseline.push(poll(`${process.execPath} -e "console.log('#1'); setTimeout(() => {}, 5000)"`, `ltdh-bench-${process.pid}-b${i}`).ms);
    const cells = runs.map(({ file, cli }, f) => {
      const shown = poll(`${process.execPath} ${cli} ${file}`, `ltdh-bench-${process.pid}-${i}-${f}`);
      times[f]!.push(shown);
      return `${cli === CLI ? '' : 'before: '}${basename(file)} ${Number.isFinite(shown.ms) ? shown.ms.toFixed(0) + ' ms' : 'not within 10 s'}`;
    });
    process.stderr.write(`  round ${i + 1}/${rounds}  node printing one line ${baseline.at(-1)!.toFixed(0)} ms; ${cells.join(', ')}\n`);
  }
  const nodeBaselineMs = round(median(baseline), 0);
  const cases = runs.map(({ file, cli }, f): FirstScreenCase => {
    const ms = times[f]!.map((s) => s.ms);
    const max = Math.max(...ms);
    return {
      file,
      ...(cli === CLI ? {} : { cli }),
      captureMB: round(statSync(file).size / 1048576, 1),
      medianMs: round(median(ms), 0),
      minMs: round(Math.min(...ms), 0),
      maxMs: Number.isFinite(max) ? round(max, 0) : null,
      behindNodeMs: round(median(ms) - nodeBaselineMs, 0),
      recordsAtFirstScreen: median(times[f]!.map((s) => s.records ?? NaN)),
    };
  });
  return { nodeBaselineMs, cases };
}

/**
 * The UI reading a whole capture: time until the status line says "done", the records it holds, and
 * the process's peak RSS, so memory per record can be compared across capture sizes.
 */
export function indexMemory(file: string): Record<string, number | null> | null {
  const socket = `ltdh-bench-${process.pid}-index`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const t0 = performance.now();
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '45', `exec ${process.execPath} ${CLI} ${file}`);
  const pid = Number(tmux('display-message', '-p', '#{pane_pid}').stdout.trim());
  let result: Record<string, number | null> | null = null;
  while (performance.now() - t0 < 300_000) {
    const m = / (\d+)\/(\d+) │ no filter │(?:[^│]*│)? done │/.exec(tmux('capture-pane', '-p').stdout ?? '');
    if (m) {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const rssMB = hwm ? Number(hwm[1]) / 1024 : NaN;
      const records = Number(m[2]);
      result = { secs: round((performance.now() - t0) / 1000), records, peakRssMB: round(rssMB, 0), bytesPerRecord: round((rssMB * 1048576) / records, 0), captureMB: round(statSync(file).size / 1048576, 0) };
      break;
    }
    spawnSync('sleep', ['0.2']);
  }
  tmux('kill-server');
  process.stderr.write(result ? `  indexed ${result.records} records in ${result.secs} s, peak RSS ${result.peakRssMB} MB\n` : '  the UI did not finish reading within 300 s\n');
  return result;
}

/** Lines of the report: each capture's figure beside the target. */
export function firstScreenReport(u: { nodeBaselineMs: number; cases?: FirstScreenCase[] }): string[] {
  return (u.cases ?? []).map(
    (c) =>
      `terminal UI first screen${c.cli !== undefined ? ` (${c.cli})` : ''}, ${basename(c.file)} (${c.captureMB} MB): median ${c.medianMs} ms (${c.minMs}-${c.maxMs ?? '>10000'}), ` +
      `${c.behindNodeMs} ms behind node printing one line (${u.nodeBaselineMs} ms), ${c.recordsAtFirstScreen ?? '?'} records read  ` +
      `(target <= ${FIRST_SCREEN_TARGET_MS} ms behind: ${c.behindNodeMs <= FIRST_SCREEN_TARGET_MS ? 'met' : 'MISSED'})`,
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const option = (name: string): string | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const result = firstScreens(files, Number(option('rounds') ?? 5), option('before'));
  if (result !== null) process.stdout.write(firstScreenReport(result).join('\n') + '\n');
}
