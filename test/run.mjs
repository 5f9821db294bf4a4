// `npm test [-- PATTERN...]`: runs the test files whose path contains a PATTERN (all of them without
// one) through tsx with node's test runner, and exits with its status. Options for node's runner
// may follow the patterns (`npm test -- proxy --test-name-pattern=relay`).
import { spawnSync } from 'node:child_process';
import { testFiles } from './list.mjs';

const args = process.argv.slice(2);
const patterns = args.filter((a) => !a.startsWith('--'));
const options = args.filter((a) => a.startsWith('--'));
const files = testFiles(patterns);
if (files.length === 0) {
  console.error(`npm test: no test file matches ${patterns.map((p) => `'${p}'`).join(' or ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...options, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
