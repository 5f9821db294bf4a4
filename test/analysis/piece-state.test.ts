// The piece-state model (src/analysis/piece-state.ts), the one owner of who holds which piece: the
// rules on small sequences, then every piece message of real captures fed to it and checked after
// each against a plain reference written here with sets (what the analyzer kept before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCapture } from '../../src/inspect.js';
import { PieceHoldings, PieceState, changesPieces } from '../../src/analysis/piece-state.js';
import type { MessageRecord } from '../../src/model/record.js';

const { Have: H, Missing: M, Lost: L } = PieceState;

test('have, lt_donthave, have again; withdrawal times kept when asked', () => {
  const s = new PieceHoldings(true);
  s.have(3);
  assert.deepEqual(Array.from(s.states(5)), [M, M, M, H, M]);
  assert.equal(s.donthave(3, 10.5), undefined);
  assert.equal(s.donthave(3, 11), 10.5, 'a second withdrawal says when the first was');
  assert.deepEqual(Array.from(s.states(5)), [M, M, M, L, M]);
  assert.equal(s.has(3), false);
  s.have(3);
  assert.equal(s.withdrawnAt(3), undefined);
  assert.equal(s.has(3), true);
  assert.equal(s.haves, 1);
});

test('bitfield and have_none replace what came before; have_all keeps the haves and clears withdrawals', () => {
  const s = new PieceHoldings();
  s.have(9);
  s.donthave(2);
  s.setBitfield(Uint8Array.of(0b1010_0000, 0));
  assert.deepEqual(Array.from(s.states(10)), [H, M, H, M, M, M, M, M, M, M]);
  assert.equal(s.haves, 0);
  s.have(5);
  s.haveAll();
  assert.ok(s.byHave(5) && s.all);
  s.donthave(1);
  assert.deepEqual(Array.from(s.states(4)), [H, L, H, H]);
  s.haveNone();
  assert.deepEqual(Array.from(s.states(4)), [M, M, M, M]);
  assert.equal(s.bitfield, undefined);
});

test('a clone is independent; indices past the bound are ignored, not grown', () => {
  const a = new PieceHoldings();
  a.have(1);
  const b = a.clone();
  b.donthave(1);
  assert.equal(a.state(1), H);
  assert.equal(b.state(1), L);
  a.have(1 << 30);
  assert.equal(a.has(1 << 30), false);
  assert.equal(a.haves, 1);
});

/** The rules as the analyzer wrote them with sets, bitfield and have_none as full statements. */
class Reference {
  all = false;
  bits: Uint8Array | undefined;
  added = new Set<number>();
  removed = new Set<number>();
  apply(r: MessageRecord, raw: Uint8Array | undefined): void {
    if (r.msg === 'have_all') [this.all, this.removed] = [true, new Set()];
    else if (r.msg === 'have_none' || r.msg === 'bitfield') {
      [this.all, this.bits, this.added, this.removed] = [false, undefined, new Set(), new Set()];
      if (r.msg === 'bitfield' && raw !== undefined && raw.length >= 5) this.bits = raw.slice(5);
    } else if (r.msg === 'have' && r.piece !== undefined) {
      this.removed.delete(r.piece);
      this.added.add(r.piece);
    } else if (r.ext === 'lt_donthave' && r.piece !== undefined) {
      this.added.delete(r.piece);
      this.removed.add(r.piece);
    }
  }
  has(p: number): boolean {
    if (this.removed.has(p)) return false;
    const b = this.bits;
    return this.all || this.added.has(p) || (b !== undefined && p >> 3 < b.length && (b[p >> 3]! & (0x80 >> (p & 7))) !== 0);
  }
}

for (const name of ['wt-sample', 'lt-sample', 'misbehave', 'lt-magnet', 'rt-stall']) {
  test(`${name}: every piece message, the model agrees with the reference on every piece`, async () => {
    const sides = new Map<string, { model: PieceHoldings; ref: Reference; count: number }>();
    let events = 0;
    let withdrawals = 0;
    await decodeCapture(`samples/${name}.pcap`, (r, raw) => {
      if (!('msg' in r) || !changesPieces(r)) return;
      const key = `${r.conn} ${r.src}`;
      let side = sides.get(key);
      if (side === undefined) sides.set(key, (side = { model: new PieceHoldings(), ref: new Reference(), count: 0 }));
      side.model.apply(r, raw);
      side.ref.apply(r, raw);
      side.count = Math.max(side.count, (r.piece ?? 0) + 1, r.bits ?? 0);
      events++;
      if (r.ext === 'lt_donthave' && r.piece !== undefined) {
        withdrawals++;
        assert.equal(side.model.state(r.piece), PieceState.Lost, `${key} piece ${r.piece} lost after lt_donthave`);
      }
      for (let p = 0; p < side.count; p++) assert.equal(side.model.has(p), side.ref.has(p), `${key} piece ${p} after ${r.msg} at ${r.ts}`);
    });
    assert.ok(events > 0, 'the capture has piece messages');
    if (name !== 'rt-stall') assert.ok(withdrawals > 0, 'the capture has lt_donthave');
  });
}
