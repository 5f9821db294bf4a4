// The extension mapping (BEP 10), the one the decoder resolves ids with and the analyzer reads:
// a later handshake moves or disables (0) the names it lists and keeps the others; an id given to a
// second name names that one; the ids a name had before are remembered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExtensionMapping } from '../../src/bittorrent/ext-mapping.js';

test('ExtensionMapping: an id given to a second name names that one; ids taken or disabled are remembered', () => {
  const m = new ExtensionMapping();
  assert.equal(m.format(), 'empty');
  m.update({ ut_pex: 1, lt_donthave: 3 });
  assert.equal(m.handshakes, 1);
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
  assert.equal(m.handshakes, 3);
});

test('ExtensionMapping: unlisted names stay; at most 256 names are kept', () => {
  const m = new ExtensionMapping();
  m.update({ ut_pex: 1, ut_metadata: 2 });
  m.update({ ut_pex: 5 });
  assert.equal(m.name(2), 'ut_metadata');
  assert.equal(m.name(5), 'ut_pex');
  assert.equal(m.name(1), undefined);
  const big = new ExtensionMapping();
  big.update(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x${i}`, (i % 255) + 1])));
  assert.ok(big.size <= 256);
});
