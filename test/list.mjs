// Prints the explicit list of test files for `node --test`: Node 20 given a directory (or nothing)
// runs zero .ts tests and still exits 0, so the list is built here and an empty list is an error.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

const only = process.argv[2];
const files = walk('test', []).filter((f) => !only || f.includes(only));
if (files.length === 0) {
  console.error('test/list.mjs: no test files found');
  process.exit(1);
}
console.log(files.join(' '));
