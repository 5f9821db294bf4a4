// Rebuilds dist/ (npm run build) when dist/cli/main.js is missing or older than a file under src/.
// Run under flock by built-cli.ts, so that test files running in parallel build it once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    t = Math.max(t, s.isDirectory() ? newest(path) : s.mtimeMs);
  }
  return t;
}

const main = 'dist/cli/main.js';
const inputs = Math.max(newest('src'), statSync('package.json').mtimeMs, statSync('build/bundle-cli.mjs').mtimeMs);
if (!existsSync(main) || statSync(main).mtimeMs < inputs) {
  const r = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
