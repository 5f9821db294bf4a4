// The relay's rules as a table: a sequence of socket events in, the actions the core asks for out.
// No sockets: `write` answers from the row's script (true unless the side is marked full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayCore, isReset, type Side } from '../../src/proxy/relay-core.js';

type Event =
  | ['connect']
  | ['data', Side, string]
  | ['full', Side] // the next writes into this side return false (its send buffer is full)
  | ['roomy', Side] // writes into this side return true again
  | ['drain', Side]
  | ['end', Side]
  | ['error', Side, string]
  | ['close', Side]
  | ['hold', Side]
  | ['release', Side]
  | ['abort'];

/** Runs the events and returns the actions as short strings, e.g. "write 1 abc", "pause 0". */
function run(events: Event[]): string[] {
  const log: string[] = [];
  const full = [false, false];
  const core = new RelayCore({
    write: (side, bytes) => {
      log.push(`write ${side} ${Buffer.from(bytes).toString()}`);
      return !full[side];
    },
    pause: (side) => log.push(`pause ${side}`),
    resume: (side) => log.push(`resume ${side}`),
    end: (side) => log.push(`end ${side}`),
    destroy: (side, reset) => log.push(`destroy ${side}${reset ? ' rst' : ''}`),
  });
  for (const e of events) {
    switch (e[0]) {
      case 'connect': core.connect(); break;
      case 'data': core.data(e[1], Buffer.from(e[2])); break;
      case 'full': full[e[1]] = true; break;
      case 'roomy': full[e[1]] = false; break;
      case 'drain': core.drain(e[1]); break;
      case 'end': core.end(e[1]); break;
      case 'error': core.error(e[1], e[2]); break;
      case 'close': core.close(e[1]); break;
      case 'hold': core.hold(e[1]); break;
      case 'release': core.release(e[1]); break;
      case 'abort': core.abort(); break;
    }
  }
  return log;
}

const table: Array<[string, Event[], string[]]> = [
  ['the client is read once the target accepted', [['connect']], ['resume 0']],
  ['bytes go to the other side untouched and in order, both ways',
    [['connect'], ['data', 0, 'ab'], ['data', 1, 'xy'], ['data', 0, 'cd']],
    ['resume 0', 'write 1 ab', 'write 0 xy', 'write 1 cd']],
  ['a full target pauses the client until the target drains',
    [['connect'], ['full', 1], ['data', 0, 'ab'], ['roomy', 1], ['drain', 1]],
    ['resume 0', 'write 1 ab', 'pause 0', 'resume 0']],
  ['a full client pauses the target until the client drains',
    [['full', 0], ['data', 1, 'xy'], ['roomy', 0], ['drain', 0]],
    ['write 0 xy', 'pause 1', 'resume 1']],
  ['a drain of the reader\'s own side does not resume it',
    [['full', 1], ['data', 0, 'ab'], ['drain', 0]],
    ['write 1 ab', 'pause 0']],
  ['two full writes: one drain releases both, reading resumes once',
    [['full', 1], ['data', 0, 'a'], ['data', 0, 'b'], ['drain', 1], ['drain', 1]],
    ['write 1 a', 'pause 0', 'write 1 b', 'pause 0', 'resume 0']],
  ['a full --save file and a full writer: reading resumes only when both are gone',
    [['full', 1], ['data', 0, 'a'], ['hold', 0], ['drain', 1], ['release', 0]],
    ['write 1 a', 'pause 0', 'pause 0', 'resume 0']],
  ['...in the other order too',
    [['full', 1], ['data', 0, 'a'], ['hold', 0], ['release', 0], ['drain', 1]],
    ['write 1 a', 'pause 0', 'pause 0', 'resume 0']],
  ['a writer that closes instead of draining releases its reader',
    [['full', 1], ['data', 0, 'a'], ['close', 1]],
    ['write 1 a', 'pause 0', 'resume 0']],
  ['a reader that closed while paused is not resumed',
    [['full', 1], ['data', 0, 'a'], ['close', 0], ['drain', 1]],
    ['write 1 a', 'pause 0']],
  ['half-close: the client\'s FIN reaches the target, the target keeps sending',
    [['connect'], ['end', 0], ['data', 1, 'late'], ['end', 1]],
    ['resume 0', 'end 1', 'write 0 late', 'end 0']],
  ['a FIN is not passed to a side already closed',
    [['close', 1], ['end', 0]], []],
  ['a client reset is mirrored to the target as a reset',
    [['connect'], ['error', 0, 'ECONNRESET']], ['resume 0', 'destroy 1 rst']],
  ['a target reset (EPIPE) is mirrored to the client as a reset',
    [['connect'], ['error', 1, 'EPIPE']], ['resume 0', 'destroy 0 rst']],
  ['another error closes the other side without a reset',
    [['connect'], ['error', 1, 'ETIMEDOUT']], ['resume 0', 'destroy 0']],
  ['a target that refuses closes the client, without a reset',
    [['error', 1, 'ECONNREFUSED']], ['destroy 0']],
  ['a reset before the target answered closes the client, without a reset',
    [['error', 1, 'ECONNRESET']], ['destroy 0']],
  ['the other side is destroyed once, whatever follows',
    [['connect'], ['error', 0, 'ECONNRESET'], ['error', 1, 'ECONNRESET'], ['abort']],
    ['resume 0', 'destroy 1 rst']],
  ['abort closes both sides, each once',
    [['abort'], ['abort']], ['destroy 0', 'destroy 1']],
  ['abort skips a side that already closed',
    [['close', 0], ['abort']], ['destroy 1']],
  ['a side closed by abort is not resumed by a later release',
    [['hold', 0], ['abort'], ['release', 0]], ['pause 0', 'destroy 0', 'destroy 1']],
];

for (const [name, events, expected] of table) {
  test(`relay core: ${name}`, () => {
    assert.deepEqual(run(events), expected);
  });
}

test('relay core: the same bytes object is written, never copied', () => {
  const chunk = Buffer.from('payload');
  let written: Uint8Array | undefined;
  const core = new RelayCore({ write: (_s, b) => ((written = b), true), pause() {}, resume() {}, end() {}, destroy() {} });
  core.data(0, chunk);
  assert.equal(written, chunk);
});

test('relay core: only ECONNRESET and EPIPE count as resets', () => {
  assert.equal(isReset('ECONNRESET'), true);
  assert.equal(isReset('EPIPE'), true);
  assert.equal(isReset('ETIMEDOUT'), false);
  assert.equal(isReset(undefined), false);
});
