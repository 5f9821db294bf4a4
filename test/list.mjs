// The explicit list of test files for `node --test`: Node 20 given a directory (or nothing) runs zero
// .ts tests and still exits 0, so the list is built here and an empty list is an error.
// `node test/list.mjs [PATTERN...]` prints the files whose path contains any PATTERN (all without one).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** Test files under test/ whose path contains one of `patterns`, or every one when none is given. */
export function testFiles(patterns) {
  return walk('test', []).filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = testFiles(process.argv.slice(2));
  if (files.length === 0) {
    console.error('test/list.mjs: no test files found');
    process.exit(1);
  }
  console.log(files.join(' '));
}
