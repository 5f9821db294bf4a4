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
// Node 20 runs one file at a time on a 2-CPU machine (availableParallelism - 1). Much of the suite's
// time is spent waiting (real peers, tmux screens, tshark), and beside other busy processes more files
// at a time get a larger share of the CPUs: 4 at a time, with two CPU burners and other work on the
// machine, took 201 s against 254 s for 3 (one run each); LTDH_TEST_CONCURRENCY or
// --test-concurrency=N overrides it.
if (!options.some((o) => o.startsWith('--test-concurrency'))) options.push(`--test-concurrency=${process.env.LTDH_TEST_CONCURRENCY ?? 4}`);
// A test that hangs (a browser or a peer that stops answering) fails after 5 minutes instead of
// holding the run until CI's limit; --test-timeout=N overrides it.
if (!options.some((o) => o.startsWith('--test-timeout'))) options.push('--test-timeout=300000');
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...options, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
