// Entry point of the terminal UI: takes over the alternate screen, renders the store while the feed
// fills it, and gives the terminal back exactly as it was when the user quits.
import { render } from 'ink';
import type { RecordSink } from '../model/record.js';
import { RecordStore } from '../model/store.js';
import { compileFilter } from '../model/filter.js';
import { App, type AppProps } from './App.js';
import { ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN, SHOW_CURSOR } from './first-frame.js';

export interface RunTuiOptions {
  title: string;
  filter?: string;
  feed: (sink: RecordSink) => Promise<void>;
  /** Follow new records from the start (live data). Defaults to true for the proxy. */
  follow?: boolean;
  /** A store the feed already fills (a capture decoded while the UI loaded); a new one otherwise. */
  store?: RecordStore;
  /** The alternate screen is already entered and a first frame painted (first-frame.ts). */
  prepainted?: boolean;
  /** Where keys come from (keyboard.ts). */
  keys: NodeJS.ReadStream;
  /** The terminal to draw on (the program's Io.stdout when it is a terminal). */
  out: NodeJS.WriteStream;
  /** Writes the capture or report `w` / `W` ask for (App's `share`). */
  share?: AppProps['share'];
  /** Ends the program as a hang-up does (Io.hangUp): called on SIGHUP, once the terminal is given back if it is still there. */
  hangUp: () => void;
}

/** Cursor home and clear, sent in one write with ink's first frame so the painted one never flashes blank. */
const CLEAR = '\x1b[H\x1b[2J';
const FIRST_FRAME_WAIT_MS = 150;

export async function runTui(opts: RunTuiOptions): Promise<void> {
  const store = opts.store ?? new RecordStore();
  let filter = opts.filter !== undefined && opts.filter.trim() !== '' ? opts.filter : undefined;
  if (filter !== undefined) {
    const compiled = compileFilter(filter);
    if (compiled.ok) store.setFilter(compiled.test);
    else filter = undefined;
  }
  let open = true;
  const sink: RecordSink = (record, raw, where) => {
    if (open) store.add(record, raw, where);
  };
  const stdout = opts.out;
  if (opts.prepainted) clearWithFirstWrite(stdout);
  else stdout.write(ENTER_ALT_SCREEN);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  };
  // A crash must not leave the user's terminal on the alternate screen.
  process.once('exit', restore);
  let feedError: unknown;
  const feeding = opts.feed(sink).then(
    () => store.finish(),
    (err: unknown) => {
      feedError = err;
      store.finish(err instanceof Error ? err.message : String(err));
    },
  );
  // A frame costs ink tens of milliseconds: the first one waits for the first records (or the end of
  // the feed, or FIRST_FRAME_WAIT_MS) instead of painting an empty timeline and then the real one.
  await firstRecords(store, opts.follow === true || opts.title.startsWith('proxy ') ? 0 : FIRST_FRAME_WAIT_MS);
  const instance = render(<App store={store} title={opts.title} filter={filter} follow={opts.follow ?? opts.title.startsWith('proxy ')} share={opts.share} />, {
    exitOnCtrlC: false,
    patchConsole: true,
    stdin: opts.keys,
    stdout,
  });
  // Killed: leave the way `q` does, so the terminal is restored.
  const quit = (): void => instance.unmount();
  process.once('SIGTERM', quit);
  // Hung up: the terminal is mostly gone (a closed window, a killed tmux pane) and writing to it fails
  // with EIO; when it is not (kill -HUP), it is given back as `q` gives it. Then the program ends as
  // a hang-up ends it, at once: exiting normally would have Node restore the modes of a dead terminal.
  const hungUp = (): void => {
    try {
      instance.unmount();
      restore();
    } catch {
      // The terminal is gone (setRawMode's EIO on the keys' stream).
    }
    opts.hangUp();
  };
  process.once('SIGHUP', hungUp);
  try {
    await instance.waitUntilExit();
  } finally {
    open = false;
    instance.cleanup();
    restore();
    process.off('exit', restore);
    process.off('SIGTERM', quit);
    process.off('SIGHUP', hungUp);
  }
  // The feed may still be running (a live proxy); it is not waited for. A feed that failed with a
  // bug is reported once the terminal is back.
  void feeding;
  if (feedError !== undefined) throw feedError;
}

/** Resolves once the store has a record or has finished, or after `ms`. */
function firstRecords(store: RecordStore, ms: number): Promise<void> {
  if (store.size > 0 || store.finished || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = store.subscribe(() => {
      if (store.size > 0 || store.finished) done();
    });
  });
}

/** The next write to `out` (ink's first frame) clears the screen first, in the same write. */
function clearWithFirstWrite(out: NodeJS.WriteStream): void {
  const write = out.write;
  out.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    out.write = write;
    const data = typeof chunk === 'string' ? CLEAR + chunk : Buffer.concat([Buffer.from(CLEAR), Buffer.from(chunk as Uint8Array)]);
    return (write as (...a: unknown[]) => boolean).call(this, data, ...rest);
  } as typeof out.write;
}
