// Rebuilds dist/ (npm run build) when it is missing or older than its inputs: a file under src/, the
// package and build configuration. `npm start`, `npm run bench` and the tests that run the bundled
// program go through here, so none of them runs stale code and none pays ~20 s for a build it does
// not need. Tests run it under flock (test/support/built-cli.ts) so parallel files build it once.
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

const outputs = ['dist/cli/main.js', 'dist/index.js'];
const inputs = Math.max(newest('src'), ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'build/bundle-cli.mjs'].map((f) => statSync(f).mtimeMs));
const oldest = Math.min(...outputs.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
if (oldest < inputs) {
  if (process.argv.includes('--check')) {
    console.error('dist/ is older than src/: run npm run build');
    process.exit(1);
  }
  const r = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
