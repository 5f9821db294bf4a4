// Rebuilds dist/ (npm run build) when it is missing or older than its inputs: a file under src/, the
// package and build configuration (`--check`: only say whether it is current). `npm start`, `npm run
// bench` and the tests that run the bundled program go through here, so none of them runs stale code
// and none pays ~20 s for a build it does not need. Tests run it under flock (test/support/built-cli.ts) so parallel files build it once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

/** The newest mtime under dir, directories included (a deleted file changes its directory's). */
function newest(dir) {
  let t = statSync(dir).mtimeMs;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    t = Math.max(t, s.isDirectory() ? newest(path) : s.mtimeMs);
  }
  return t;
}

const inputs = Math.max(newest('src'), ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'build/bundle-cli.mjs'].map((f) => statSync(f).mtimeMs));
const stale = (output) => !existsSync(output) || statSync(output).mtimeMs < inputs;
// The two halves of `npm run build`, each redone only when its output is stale: the library (tsc,
// about 20 s on the shared machine) and the bundled program (esbuild, about 1 s). `--cli`: only the
// program, for the tests that run dist/cli/main.js and need no library. tsc emits without type-checking
// here (the same files, 8 s of CPU instead of 10 s): `npm run typecheck` and `npm run build` check.
const steps = [
  { output: 'dist/cli/main.js', command: [process.execPath, ['build/bundle-cli.mjs']] },
  ...(process.argv.includes('--cli') ? [] : [{ output: 'dist/index.js', command: [process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck']] }]),
].filter((step) => stale(step.output));
if (steps.length > 0 && process.argv.includes('--check')) {
  console.error('dist/ is older than src/: run npm run build');
  process.exit(1);
}
for (const { command } of steps) {
  const r = spawnSync(command[0], command[1], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
