// The analyzer's per-side extension mapping names every id exactly as the decoder's does (the same
// BEP 10 update rules), and remembers the ids a later handshake took from a name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SideMapping } from '../../src/analysis/side-mapping.js';
import { ExtensionMapping } from '../../src/bittorrent/extensions.js';

const NAMES = ['ut_pex', 'ut_metadata', 'lt_donthave', 'upload_only'];

/** Deterministic pseudo-random handshakes: a few names each, ids 0-4 (0 disables). */
function* handshakes(seed: number, n: number): Generator<Record<string, number>> {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < n; i++) {
    const m: Record<string, number> = {};
    for (const name of NAMES) if (next() % 3 === 0) m[name] = next() % 5;
    yield m;
  }
}

test('SideMapping resolves every id as the decoder\'s ExtensionMapping does, over any sequence of handshakes', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const ours = new SideMapping();
    const decoder = new ExtensionMapping();
    for (const m of handshakes(seed, 6)) {
      ours.update(m);
      decoder.update(m);
      for (let id = 1; id <= 4; id++) assert.equal(ours.name(id), decoder.name(id), `seed ${seed}, id ${id} after ${JSON.stringify(m)}`);
    }
  }
});

test('SideMapping: an id given to a second name names that one; ids taken or disabled are remembered', () => {
  const m = new SideMapping();
  m.update({ ut_pex: 1, lt_donthave: 3 });
  assert.equal(m.format(), 'ut_pex 1, lt_donthave 3');
  m.update({ lt_donthave: 1 });
  assert.equal(m.name(1), 'lt_donthave');
  assert.equal(m.id('lt_donthave'), 1);
  assert.equal(m.id('ut_pex'), undefined, 'its id now names lt_donthave');
  assert.equal(m.name(3), undefined);
  assert.equal(m.formerly('lt_donthave', 3), true);
  assert.equal(m.formerly('ut_pex', 1), true);
  assert.equal(m.formerly('lt_donthave', 1), false, 'it still has that id');
  m.update({ lt_donthave: 0 });
  assert.equal(m.name(1), undefined);
  assert.equal(m.formerly('lt_donthave', 1), true);
  assert.equal(m.format(), 'empty');
});
