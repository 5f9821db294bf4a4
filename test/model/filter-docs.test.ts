// docs/json.md's field table and the filter's known fields (message table + record fields) must
// agree: a field the docs promise is accepted by `--filter`, and a field the filter accepts is documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FILTER_ONLY_FIELDS, KNOWN_FIELDS } from '../../src/model/filter-fields.js';
import { MESSAGES } from '../../src/bittorrent/message-table.js';

/** Names inside a documented field, not top-level fields: ut_pex `added` entries' `addr` and `flags`. */
const NESTED = new Set(['addr', 'flags']);

function documentedFields(): Set<string> {
  const md = readFileSync(new URL('../../docs/json.md', import.meta.url), 'utf8');
  const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| field |') && !l.startsWith('| ---'));
  assert.ok(rows.length > 10, 'docs/json.md has its field table');
  const names = new Set<string>();
  for (const row of rows) {
    const cells = row.split(' | ');
    const first = cells[0]!.slice(2).trim();
    // An `others` row lists its fields in the meaning column; any other row names them in the first.
    const source = first === 'others' ? cells.slice(2).join(' | ') : first;
    for (const m of source.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)) if (!NESTED.has(m[1]!)) names.add(m[1]!);
  }
  return names;
}

test('docs/json.md documents exactly the fields the filter accepts', () => {
  const documented = documentedFields();
  const known = new Set([...KNOWN_FIELDS].filter((f) => !FILTER_ONLY_FIELDS.includes(f)));
  assert.deepEqual([...documented].filter((f) => !known.has(f)).sort(), [], 'documented but unknown to the filter');
  assert.deepEqual([...known].filter((f) => !documented.has(f)).sort(), [], 'known to the filter but not documented');
});

test('the message table\'s fields are documented and known to the filter', () => {
  const documented = documentedFields();
  for (const spec of MESSAGES) {
    for (const f of spec.fields) {
      assert.ok(documented.has(f.name), `${spec.name}.${f.name} documented`);
      assert.ok(KNOWN_FIELDS.has(f.name), `${spec.name}.${f.name} known`);
    }
  }
});

test('docs/filter.md names the filter-only fields', () => {
  const md = readFileSync(new URL('../../docs/filter.md', import.meta.url), 'utf8');
  for (const f of FILTER_ONLY_FIELDS) assert.match(md, new RegExp('`' + f + ' =='), f);
});
