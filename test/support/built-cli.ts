// Tests that run the bundled program (dist/cli/main.js, what users run) make sure it is built from
// the current sources first: a stale bundle would test yesterday's code.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

let checked = false;

/** Builds dist/ when it is missing or older than src/; throws when the build fails. */
export function ensureBuilt(): void {
  if (checked) return;
  const lock = join(tmpdir(), `ltdh-build-${createHash('sha1').update(resolve('.')).digest('hex').slice(0, 12)}.lock`);
  const r = spawnSync('flock', [lock, process.execPath, 'build/build-if-stale.mjs'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`building dist/ failed (${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
  checked = true;
}

/**
 * The program as `node` arguments: the bundled dist/cli/main.js, built first when stale. Spawning it
 * starts in about 1 s on the shared 2-CPU machine, the sources through tsx in about 4 s; the CLI tests
 * spawn it dozens of times. (test/ui/tmux-e2e.test.ts still drives the sources too.)
 */
export function builtCli(): string[] {
  ensureBuilt();
  return [resolve('dist/cli/main.js')];
}
