// The filter key in the rendered UI over 200,000 records (several turns of the pass): the repaint
// right after Enter shows the first matches with "filtering N%", and the pass ends on its own with
// the whole pass's count and "done".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { compileFilter } from '../../src/model/filter.js';
import { syntheticStore } from './fixtures.js';

const N = 200_000;
const EXPR = 'piece < 10 and conn == 2';
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

/** Waits (5 s at most) until the screen satisfies `ok`. */
async function until(lastFrame: () => string | undefined, ok: (frame: string) => boolean): Promise<string> {
  for (let i = 0; i < 500 && !ok(lastFrame() ?? ''); i++) await tick();
  return lastFrame() ?? '';
}

const status = (frame: string): string => frame.split('\n').at(-1) ?? '';

test('the filter key: first matches with "filtering N%" at once, then the whole pass\'s result and "done"', async () => {
  const whole = syntheticStore(N);
  const f = compileFilter(EXPR);
  if (!f.ok) assert.fail(f.error);
  whole.setFilter(f.test);
  const matches = whole.view.length;
  const store = syntheticStore(N);
  const { lastFrame, frames, stdin, unmount } = render(<App store={store} title="big" size={{ width: 120, height: 30 }} theme={{ color: false }} />);
  try {
    await until(lastFrame, (f) => status(f).includes(`${N}/${N}`));
    stdin.write(`/${EXPR}\r`);
    const done = await until(lastFrame, (f) => status(f).includes('│ done') && status(f).includes('filter:'));
    assert.match(status(done), new RegExp(`│ ${matches}/${N} │ filter: ${EXPR} `));
    assert.doesNotMatch(status(done), /filtering/);
    // The repaint for the key came before the first turn of the pass: the key's own slice, some rows
    // shown and selected, "filtering N%".
    const first = frames.find((f) => status(f).includes('filter:'));
    assert.ok(first !== undefined);
    assert.match(status(first), new RegExp(`│ ([1-9]\\d*)/${N} │ filter: ${EXPR} .*│ filtering \\d+%`));
    const shown = Number(/│ (\d+)\//.exec(status(first))![1]);
    assert.ok(shown < matches, `${shown} of ${matches} so far`);
    assert.ok(first.split('\n').some((l) => l.startsWith('▶')), 'a row is selected');
  } finally {
    unmount();
  }
});
