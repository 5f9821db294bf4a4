import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countAtMost, countBelow, partitionPoint } from '../../src/util/sorted.js';

/** The same counts by a linear scan. */
const below = (list: number[], v: number): number => list.filter((x) => x < v).length;
const atMost = (list: number[], v: number): number => list.filter((x) => x <= v).length;

test('countBelow and countAtMost agree with a linear scan on every value around every entry', () => {
  for (const list of [[], [5], [1, 3, 3, 3, 7], [0, 2, 4, 6, 8, 10, 12, 14, 16]]) {
    for (let v = -1; v <= 17; v++) {
      assert.equal(countBelow(list, v), below(list, v), `below ${v} in ${list}`);
      assert.equal(countAtMost(list, v), atMost(list, v), `at most ${v} in ${list}`);
    }
  }
});

test('partitionPoint: the first index where the predicate turns false, the length if it never does', () => {
  assert.equal(partitionPoint(0, () => true), 0);
  assert.equal(partitionPoint(10, () => true), 10);
  assert.equal(partitionPoint(10, () => false), 0);
  assert.equal(partitionPoint(10, (i) => i < 4), 4);
  assert.equal(partitionPoint(-1, () => true), 0);
});
