import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, normalizeIp } from '../../src/model/filter.js';
import { KNOWN_FIELDS } from '../../src/model/filter-fields.js';
import { MESSAGES } from '../../src/bittorrent/message-table.js';
import type { AnyRecord, EventRecord, MessageRecord } from '../../src/model/record.js';

const base = { ts: 1795516776.1, conn: 1, transport: 'tcp' as const, src: '10.0.0.1:49396', dst: '10.0.0.2:6881' };
const donthave: MessageRecord = { ...base, msg: 'extended', size: 10, ext: 'lt_donthave', extId: 3, piece: 30 };
const have: MessageRecord = { ...base, conn: 2, msg: 'have', size: 9, piece: 7 };
const handshake: MessageRecord = { ...base, msg: 'handshake', size: 68, client: 'libtorrent 2.0.9', peerId: '-LT2090-abc' };
const extHs: MessageRecord = { ...base, msg: 'extended', size: 120, ext: 'handshake', extId: 0, v: 'qBittorrent/4.6', m: { lt_donthave: 7 } };
const request: MessageRecord = { ...base, msg: 'request', size: 17, piece: 3, begin: 16384, length: 16384 };
const v6: MessageRecord = { ...base, conn: 3, src: '[::1]:50000', dst: '[fe80::1:2]:51413', msg: 'have', size: 9, piece: 1 };
const gap: EventRecord = { ...base, event: 'gap', bytes: 1000 };
const finding: EventRecord = { ...base, event: 'finding', finding: 'donthave_unannounced', severity: 'warning', piece: 30, message: 'x' };
const resync: MessageRecord = { ...base, msg: 'have', size: 9, piece: 5, resync: true };
const inputWarning: AnyRecord = { event: 'warning', message: 'truncated' };
const all: AnyRecord[] = [donthave, have, handshake, extHs, request, v6, gap, finding, resync, inputWarning];

function matching(expr: string): AnyRecord[] {
  const f = compileFilter(expr);
  if (!f.ok) assert.fail(`${expr}: ${f.error} at ${f.position}`);
  return all.filter((r) => f.test(r));
}

function error(expr: string): { error: string; position: number } {
  const f = compileFilter(expr);
  if (f.ok) assert.fail(`${expr} compiled`);
  return { error: f.error, position: f.position };
}

test('bare words match message, extension and event names', () => {
  assert.deepEqual(matching('lt_donthave'), [donthave]);
  assert.deepEqual(matching('have'), [have, v6, resync]);
  assert.deepEqual(matching('handshake'), [handshake, extHs]);
  assert.deepEqual(matching('gap'), [gap]);
  assert.deepEqual(matching('finding'), [finding]);
  assert.deepEqual(matching('warning'), [inputWarning]);
  assert.deepEqual(matching('LT_DONTHAVE'), [donthave]);
  assert.deepEqual(matching('"lt_donthave"'), [donthave]);
});

test('numeric comparisons', () => {
  assert.deepEqual(matching('piece == 30'), [donthave, finding]);
  assert.deepEqual(matching('piece != 30'), [have, request, v6, resync]);
  assert.deepEqual(matching('piece < 5'), [request, v6]);
  assert.deepEqual(matching('piece <= 5'), [request, v6, resync]);
  assert.deepEqual(matching('piece > 7'), [donthave, finding]);
  assert.deepEqual(matching('piece >= 7'), [donthave, have, finding]);
  assert.deepEqual(matching('conn == 2'), [have]);
  assert.deepEqual(matching('size>=68'), [handshake, extHs]);
  assert.deepEqual(matching('begin == 16384 and length == 0x4000'), [request]);
  assert.deepEqual(matching('extId == 3'), [donthave]);
  assert.deepEqual(matching('bytes > 999'), [gap]);
});

test('string comparisons and contains', () => {
  assert.deepEqual(matching('msg == extended'), [donthave, extHs]);
  assert.deepEqual(matching('ext == lt_donthave'), [donthave]);
  assert.deepEqual(matching('client ~ libtorrent'), [handshake]);
  assert.deepEqual(matching('client ~ QBIT'), [extHs]);
  assert.deepEqual(matching('transport == tcp and conn == 3'), [v6]);
  assert.deepEqual(matching('event == gap'), [gap]);
  assert.deepEqual(matching('finding == donthave_unannounced'), [finding]);
  assert.deepEqual(matching('severity == "warning"'), [finding]);
  assert.deepEqual(matching('peerId ~ "-LT"'), [handshake]);
  assert.deepEqual(matching('m ~ lt_donthave'), [extHs]);
  assert.deepEqual(matching('resync == true'), [resync]);
  assert.deepEqual(matching('message ~ TRUNC'), [inputWarning]);
});

test('port and ip match either endpoint, IPv6 included', () => {
  assert.deepEqual(matching('port == 6881 and conn == 2'), [have]);
  assert.deepEqual(matching('port == 49396 and msg == request'), [request]);
  assert.deepEqual(matching('port == 51413'), [v6]);
  assert.deepEqual(matching('ip == 10.0.0.2 and piece == 7'), [have]);
  assert.deepEqual(matching('ip == ::1'), [v6]);
  assert.deepEqual(matching('ip == [0:0:0:0:0:0:0:1]'), [v6]);
  assert.deepEqual(matching('ip == FE80:0::1:2'), [v6]);
  assert.deepEqual(matching('ip ~ fe80'), [v6]);
  assert.deepEqual(matching('src == 10.0.0.1:49396 and gap'), [gap]);
  assert.deepEqual(matching('dst ~ "[fe80"'), [v6]);
  assert.deepEqual(matching('ip == 10.0.0.9'), []);
});

test('normalizeIp canonicalises IPv6 spellings', () => {
  assert.equal(normalizeIp('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(normalizeIp('[2001:DB8::0001]'), '2001:db8:0:0:0:0:0:1');
  assert.equal(normalizeIp('::ffff:10.0.0.1'), '0:0:0:0:0:ffff:a00:1');
  assert.equal(normalizeIp('0:0:0:0:0:ffff:a00:1'), '0:0:0:0:0:ffff:a00:1');
  assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
});

test('and/or/not, symbols, precedence and parentheses', () => {
  assert.deepEqual(matching('have and piece == 7'), [have]);
  assert.deepEqual(matching('have && piece == 7'), [have]);
  assert.deepEqual(matching('gap or lt_donthave'), [donthave, gap]);
  assert.deepEqual(matching('gap || lt_donthave'), [donthave, gap]);
  assert.deepEqual(matching('lt_donthave or have and conn == 2'), [donthave, have]);
  assert.deepEqual(matching('(lt_donthave or have) and conn == 1'), [donthave, resync]);
  assert.deepEqual(matching('not have and piece >= 0'), [donthave, request, finding]);
  assert.deepEqual(matching('!have && !(event ~ "")'), [donthave, handshake, extHs, request]);
  assert.deepEqual(matching('not not gap'), [gap]);
  assert.deepEqual(matching('NOT gap AND conn == 2'), [have]);
});

test('missing fields never match a comparison', () => {
  assert.deepEqual(matching('piece != 999 and gap'), []);
  assert.deepEqual(matching('judgedTs > 0 or offset >= 0 or hp_err == 1'), [], 'known fields these records lack');
});

test('an unknown field is an error at its position, suggesting the close match', () => {
  assert.deepEqual(error('peice == 3'), { error: "unknown field 'peice': did you mean 'piece'?", position: 0 });
  assert.deepEqual(error('sevrity == error'), { error: "unknown field 'sevrity': did you mean 'severity'?", position: 0 });
  assert.deepEqual(error('have and (conn == 2 or peerid ~ LT)'), { error: "unknown field 'peerid': did you mean 'peerId'?", position: 23 });
  assert.deepEqual(error('not extid == 3'), { error: "unknown field 'extid': did you mean 'extId'?", position: 4 });
  assert.deepEqual(error('gap and btyes > 1'), { error: "unknown field 'btyes': did you mean 'bytes'?", position: 8 });
  assert.deepEqual(error('prot == 6881'), { error: "unknown field 'prot': did you mean 'port'?", position: 0 });
  assert.deepEqual(error('metadatasize > 0'), { error: "unknown field 'metadatasize': did you mean 'metadata_size'?", position: 0 });
  assert.deepEqual(error('nosuchfield == 1'), { error: "unknown field 'nosuchfield'", position: 0 });
  assert.deepEqual(error('xyz ~ a'), { error: "unknown field 'xyz'", position: 0 });
});

test('every known field compiles in a comparison, the message table\'s included', () => {
  for (const spec of MESSAGES) for (const f of spec.fields) assert.ok(KNOWN_FIELDS.has(f.name), f.name);
  for (const field of KNOWN_FIELDS) {
    for (const expr of [`${field} == 1`, `${field} ~ x`, `not ${field} != "a b"`]) {
      const f = compileFilter(expr);
      assert.ok(f.ok, `${expr}: ${f.ok ? '' : f.error}`);
    }
  }
});

test('bare words stay names: an unknown one (an extension a peer may name anything) matches nothing, no error', () => {
  assert.deepEqual(matching('lt_donthve'), []);
  assert.deepEqual(matching('peice'), []);
  assert.deepEqual(matching('piece'), [], 'no piece message among these records');
});

test('errors name the problem and its position', () => {
  assert.deepEqual(error(''), { error: 'empty expression', position: 0 });
  assert.deepEqual(error('   '), { error: 'empty expression', position: 0 });
  assert.deepEqual(error('piece =='), { error: "expected a value after '==', found the end", position: 8 });
  assert.deepEqual(error('piece < abc'), { error: "'<' needs a number, found 'abc'", position: 8 });
  assert.deepEqual(error('(have or gap'), { error: "missing ')' for the '(' at 0, found the end", position: 12 });
  assert.deepEqual(error('have)'), { error: "unmatched ')'", position: 4 });
  assert.deepEqual(error('have gap'), { error: "expected 'and', 'or' or the end, found 'gap'", position: 5 });
  assert.deepEqual(error('have and'), { error: "expected a name or a comparison, found the end", position: 8 });
  assert.deepEqual(error('== 3'), { error: "'==' needs a field name before it", position: 0 });
  assert.deepEqual(error('client ~ "libt'), { error: 'unterminated string', position: 9 });
  assert.deepEqual(error('piece == 3 $ 4').position, 11);
  assert.deepEqual(error('a\x1bb'), { error: "unexpected character '\\x1b'", position: 1 });
  assert.deepEqual(error('()'), { error: 'empty parentheses', position: 1 });
  assert.deepEqual(error('"piece" == 3'), { error: 'a field name cannot be quoted', position: 0 });
});

test('single = is accepted as ==', () => {
  assert.deepEqual(matching('piece = 30'), [donthave, finding]);
});
