// A node:test reporter that prints the time each test file's tests took, slowest first: where the
// suite's time goes. `npm test -- --test-reporter=spec --test-reporter-destination=stdout
// --test-reporter=./test/file-times.mjs --test-reporter-destination=file-times.txt`
// The time is the sum of the file's top-level test durations (its start-up, imports and top-level
// code are not in it); files run three at a time, so the sum is more than the suite's wall time.
import { relative } from 'node:path';

export default async function* fileTimes(source) {
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details, name } = event.data;
    if (file === undefined || nesting !== 0) continue;
    const path = relative(process.cwd(), file);
    const entry = files.get(path) ?? { tests: 0, ms: 0, failed: 0 };
    files.set(path, entry);
    if (event.type === 'test:fail') entry.failed += 1;
    // A file that fails as a whole reports itself (named by its path): not one more test.
    if (relative(process.cwd(), name) === path) continue;
    entry.tests += 1;
    entry.ms += details?.duration_ms ?? 0;
  }
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  for (const [path, e] of rows) yield `${(e.ms / 1000).toFixed(1).padStart(7)} s  ${path} (${e.tests} tests${e.failed ? `, ${e.failed} failed` : ''})\n`;
  yield `${(rows.reduce((n, [, e]) => n + e.ms, 0) / 1000).toFixed(1).padStart(7)} s  total of ${rows.length} files\n`;
}
