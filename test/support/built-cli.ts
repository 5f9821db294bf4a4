// Tests that run the bundled program (dist/cli/main.js, what users run) make sure it is built from
// the current sources first: a stale bundle would test yesterday's code.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const checked = new Set<string>();

/**
 * Builds dist/ when it is missing or older than src/; throws when the build fails. `cli`: only the
 * bundled program (esbuild, about a second), for tests that run dist/cli/main.js; the library (tsc,
 * about 20 s on the shared machine) is built only for the tests that import it.
 */
export function ensureBuilt(what: 'all' | 'cli' = 'all'): void {
  if (checked.has(what) || checked.has('all')) return;
  const lock = join(tmpdir(), `ltdh-build-${createHash('sha1').update(resolve('.')).digest('hex').slice(0, 12)}.lock`);
  const args = what === 'cli' ? ['--cli'] : [];
  const r = spawnSync('flock', [lock, process.execPath, 'build/build-if-stale.mjs', ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`building dist/ failed (${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
  checked.add(what);
}

/**
 * The program as `node` arguments: the bundled dist/cli/main.js, built first when stale. Spawning it
 * starts in about 1 s on the shared 2-CPU machine, the sources through tsx in about 4 s. Most CLI tests
 * run the program in-process instead (run-cli.ts); the spawned ones are smoke tests of the real thing.
 */
export function builtCli(): string[] {
  ensureBuilt('cli');
  return [resolve('dist/cli/main.js')];
}
