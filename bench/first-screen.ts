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
import { syntheticCaptureFile } from './million-messages.js';

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
 * the process's peak RSS, so memory per record can be compared across capture sizes. With `end`, End
 * is pressed once it is done and the peak is read after that repaint (the last rows rebuilt on screen).
 */
export function indexMemory(file: string, opts: { end?: boolean; timeoutSecs?: number } = {}): Record<string, number | null> | null {
  const socket = `ltdh-bench-${process.pid}-index`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const t0 = performance.now();
  tmux('-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '45', `exec ${process.execPath} ${CLI} ${file}`);
  const pid = Number(tmux('display-message', '-p', '#{pane_pid}').stdout.trim());
  const peakMB = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  let result: Record<string, number | null> | null = null;
  while (performance.now() - t0 < (opts.timeoutSecs ?? 300) * 1000) {
    const screen = tmux('capture-pane', '-p').stdout ?? '';
    const m = / (\d+)\/(\d+) │ no filter │(?:[^│]*│)? done │/.exec(screen);
    if (m) {
      const secs = round((performance.now() - t0) / 1000);
      const rssMB = peakMB();
      const records = Number(m[2]);
      result = { secs, records, peakRssMB: round(rssMB, 0), bytesPerRecord: round((rssMB * 1048576) / records, 0), captureMB: round(statSync(file).size / 1048576, 0) };
      if (opts.end === true) result.peakAfterEndMB = afterEnd(tmux, screen, peakMB);
      break;
    }
    spawnSync('sleep', ['0.2']);
  }
  tmux('kill-server');
  process.stderr.write(
    result
      ? `  indexed ${result.records} records in ${result.secs} s, peak RSS ${result.peakRssMB} MB${result.peakAfterEndMB !== undefined ? `, ${result.peakAfterEndMB} MB after End` : ''}\n`
      : `  the UI did not finish reading within ${opts.timeoutSecs ?? 300} s\n`,
  );
  return result;
}

/** Presses End and waits for the screen to change (10 s at most), then a second more; the peak RSS then. */
function afterEnd(tmux: (...a: string[]) => { stdout: string }, before: string, peakMB: () => number): number {
  tmux('send-keys', 'End');
  const t0 = performance.now();
  while (performance.now() - t0 < 10_000 && (tmux('capture-pane', '-p').stdout ?? '') === before) spawnSync('sleep', ['0.1']);
  spawnSync('sleep', ['1']);
  return round(peakMB(), 0);
}

/**
 * `--only ui`: the first screen of a small sample, a million tiny messages (made once) and the large
 * real capture (`real()`), or of the `given` files; the UI's memory holding the last of them.
 */
export async function uiBench(count: number, given: string[] | undefined, real: () => string): Promise<Record<string, unknown> | null> {
  const root = join(dirname(CLI), '../..');
  const files = given ?? [join(root, 'samples/lt-sample.pcap'), await syntheticCaptureFile(1_000_000), real()];
  const shown = firstScreens(files, count);
  if (shown === null) return null;
  return { rounds: count, ...shown, index: indexMemory(files.at(-1)!), note: 'spawn to first timeline row on the screen, polled with tmux capture-pane; nodeBaselineMs is the same for a node process printing "#1"; the target bounds behindNodeMs' };
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

/** The `ui` part of the bench's printout (results files from before several captures hold one median). */
export function uiReport(ui: Record<string, unknown>): string[] {
  const u = ui as { medianMs?: number; minMs: number; maxMs: number | null; nodeBaselineMs: number; cases?: FirstScreenCase[]; index?: Record<string, number> | null };
  const out: string[] = [];
  if (u.cases === undefined) out.push(`terminal UI first screen: median ${u.medianMs} ms (${u.minMs}-${u.maxMs ?? '>10000'}), node printing one line ${u.nodeBaselineMs} ms`);
  out.push(...firstScreenReport(u));
  const ix = u.index;
  if (ix) out.push(`terminal UI holding all ${ix['records']} records of the ${ix['captureMB']} MB capture: peak RSS ${ix['peakRssMB']} MB (${ix['bytesPerRecord']} bytes per record), read in ${ix['secs']} s`);
  return out;
}

/** Each capture's first screen against the previous results file's. */
export function firstScreenCompare(prev: unknown, cur: unknown): string[] {
  const cases = (ui: unknown): FirstScreenCase[] => (ui as { cases?: FirstScreenCase[] } | null)?.cases ?? [];
  return cases(cur).flatMap((c) => {
    const before = cases(prev).find((p) => basename(p.file) === basename(c.file));
    return before ? [`  first screen   ${basename(c.file)}: ${before.behindNodeMs} -> ${c.behindNodeMs} ms behind node (${before.medianMs} -> ${c.medianMs} ms)`] : [];
  });
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
