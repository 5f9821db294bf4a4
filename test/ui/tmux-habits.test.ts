// The Wireshark-habit keys in a real terminal, at 80x24 and 120x36: tmux runs the built program on
// wt-swarm (3 connections, 12 lt_donthave), the test types keys and reads the screen back. Skips
// without tmux.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

for (const [width, height] of [
  [80, 24],
  [120, 36],
] as const) {
  test(`tmux ${width}x${height}: t/T, m/', Ctrl-F (text and hex), s, ? and the narrow rows`, { timeout: 120_000, skip: hasTmux ? undefined : 'tmux is not installed' }, async () => {
    const socket = `ltdh-habits-${process.pid}-${width}`;
    const tmux = (...args: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'h');
    const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'h', ...k);
    const selected = (s: string): string => s.split('\n').find((l) => l.startsWith('▶') || l.startsWith('>')) ?? '';
    async function waitFor(what: string, ok: (s: string) => boolean): Promise<string> {
      const end = Date.now() + 20_000;
      let s = '';
      while (Date.now() < end) {
        s = screen();
        if (ok(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${width}x${height}: timed out waiting for ${what}; screen:\n${s}`);
    }
    const cwd = mkdtempSync(join(tmpdir(), 'ltdh-habits-'));
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'h', '-x', String(width), '-y', String(height), '-e', 'TERM=xterm-256color', `cd '${cwd}' && node '${root}/dist/cli/main.js' '${root}/samples/wt-swarm.pcap'; echo EXIT=$?; sleep 60`);
    try {
      let s = await waitFor('the timeline', (x) => /│ done/.test(x));
      const status = s.split('\n').at(-1) ?? s.trimEnd().split('\n').at(-1)!;
      assert.match(s, /\d+ err \d+ warn \d+ info/, 'the status line keeps the counts');
      if (width === 80) {
        assert.doesNotMatch(status, /127\.0\.0\.1/);
        assert.match(s, /#1: -> is 127\.0\.0\.1:\d+ to 127\.0\.0\.1:52880/, 'the legend of the narrow rows');
      }
      // n: an lt_donthave row keeps its name and piece at any width
      keys('n');
      s = await waitFor('n', (x) => /lt_donthave\s+piece=\d+/.test(selected(x)));
      // the details pane gives each field's place in the message (the piece: bytes 6 to 9)
      assert.match(s, /piece: \d+  \[6\.\.9\]/);
      assert.match(selected(s), width === 80 ? /^▶◆ +\+\d+\.\d{6} #\d+ (->|<-) +lt_donthave +piece=\d+/ : /127\.0\.0\.1:\d+ +(->|<-) 127\.0\.0\.1:\d+ +lt_donthave +piece=\d+/);

      // t cycles the time display; T sets the reference
      keys('t');
      s = await waitFor('t: since the previous row', (x) => /^▶◆ +Δ\d+\.\d{6} /.test(selected(x)));
      keys('t');
      s = await waitFor('t: UTC', (x) => (width >= 100 ? /^▶◆ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} / : /^▶◆ \d\d:\d\d:\d\d\.\d{3} /).test(selected(x)));
      keys('t');
      s = await waitFor('t: since the start', (x) => /^▶◆ +\+\d+\.\d{6} /.test(selected(x)));
      keys('T');
      s = await waitFor('T: this row is the reference', (x) => /^▶◆ +\+0\.000000 /.test(selected(x)) && /time refer/.test(x));
      keys('j');
      s = await waitFor('the reference row marked *', (x) => x.split('\n').some((l) => /^\*◆ +\+0\.000000 /.test(l)));

      // m a, G, ' a
      const marked = selected(s).slice(2);
      keys('m', 'a');
      await waitFor('mark a set', (x) => /mark a set/.test(x));
      keys('G');
      await waitFor('G', (x) => selected(x).slice(2) !== marked);
      keys("'", 'a');
      s = await waitFor("'a back to the mark", (x) => selected(x).slice(2) === marked);

      // Ctrl-F: text (a peer string from an extended handshake's v)
      keys('g', 'C-f');
      await waitFor('the search line', (x) => /^find: /m.test(x));
      keys('-l', 'wt-seed');
      keys('Enter');
      s = await waitFor('Ctrl-F found the seeder\'s extended handshake', (x) => /ext handshake\s+wt-seed/.test(selected(x)) && /│ found/.test(x));
      // Ctrl-F in the bytes pane: hex bytes (an lt_donthave for piece 7 with id 1: 00 00 00 06 14 01 00 00 00 07)
      keys('Tab', 'Tab', 'C-f');
      await waitFor('the hex search line', (x) => /^find bytes \(hex\): /m.test(x));
      keys('C-u');
      keys('-l', '14 01 00 00 00 07');
      keys('Enter');
      s = await waitFor('the bytes found', (x) => /found at byte 4/.test(x) && /lt_donthave\s+piece=7/.test(selected(x)));
      // s: Statistics. Esc and s go in one write, as keys typed ahead of a busy UI arrive: one read
      // of "\x1bs", which must be Esc then s, not Alt+s.
      keys('Escape', 's');
      s = await waitFor('the Statistics view', (x) => /Conversations: 3 connections/.test(x) && /clients: A WebTorrent/.test(x));
      keys('j');
      keys('Escape');
      await waitFor('back to the timeline', (x) => !/Conversations:/.test(x));

      // o: follow the selected row's connection; Tab: its bytes; w saves them; Esc back
      keys('g', 'o');
      s = await waitFor('the ladder', (x) => /Follow #1: messages/.test(x) && /├ handshake WebTorrent 2\.8 .*▶/.test(x) && /◀─+ handshake WebTorrent/.test(x));
      keys('Tab');
      s = await waitFor('the bytes both ways', (x) => /── A -> B handshake \(68 bytes\) ──/.test(x) && /^000000  13 42 69 74 54 6f 72 72/m.test(x));
      keys('w');
      s = await waitFor('the bytes saved', (x) => /saved \d+ B/.test(x));
      keys('Escape');
      await waitFor('back to the timeline', (x) => !/Follow #1/.test(x));

      // ? lists every key
      keys('?');
      s = await waitFor('the help', (x) => /ltdh-inspect keys/.test(x));
      for (const k of [/^ +t +time:/m, /^ +T +the selected row becomes the time reference/m, /^ +m<letter> +mark/m, /^ +Ctrl-F +find/m, /^ +s +Statistics/m, /^ +o +follow/m, /^ +d +Decode As/m, /^ +q, Ctrl-C +quit/m]) assert.match(s, k);
      keys('x');
      keys('q');
      await waitFor('the exit', (x) => /EXIT=0/.test(x));
      // w wrote connection 1's bytes, both ways in capture order (the first is the handshake)
      const saved = readFileSync(join(cwd, 'ltdh-conn-1.raw'));
      assert.ok(saved.length > 100_000);
      assert.equal(saved.subarray(1, 20).toString(), 'BitTorrent protocol');
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      rmSync(cwd, { recursive: true, force: true });
    }
  });
}

// d (Decode As) on a real capture that starts mid-connection: lt-sample without its first 0.9 s
// (editcap), where every lt_donthave is an unresolved id 7 until it is named.
for (const [width, height] of [
  [80, 24],
  [120, 36],
] as const) {
  const noEditcap = spawnSync('editcap', ['-h']).status !== 0;
  test(`tmux ${width}x${height}: d names an unresolved id for its direction (Decode As)`, { timeout: 120_000, skip: !hasTmux ? 'tmux is not installed' : noEditcap ? 'editcap is not installed' : undefined }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltdh-decode-as-'));
    const cut = join(dir, 'cut.pcap');
    // Packet 10 is the first after both extended handshakes (test/e2e/ext-map.test.ts finds it by time).
    assert.equal(spawnSync('editcap', ['-F', 'pcap', '-r', join(root, 'samples/lt-sample.pcap'), cut, '10-100000000']).status, 0);
    const socket = `ltdh-decode-${process.pid}-${width}`;
    const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'd');
    const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'd', ...k);
    async function waitFor(what: string, ok: (s: string) => boolean): Promise<string> {
      const end = Date.now() + 20_000;
      let s = '';
      while (Date.now() < end) {
        s = screen();
        if (ok(s)) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`${width}x${height}: timed out waiting for ${what}; screen:\n${s}`);
    }
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'd', '-x', String(width), '-y', String(height), '-e', 'TERM=xterm-256color', `cd '${root}' && node dist/cli/main.js '${cut}'; echo EXIT=$?; sleep 60`);
    try {
      await waitFor('the timeline', (x) => /│ done/.test(x));
      keys('/');
      keys('-l', 'extId == 7');
      keys('Enter');
      let s = await waitFor('the unresolved id 7 rows', (x) => /filter: extId == 7/.test(x) && /ext#7 +unresolved id 7/.test(x));
      assert.doesNotMatch(s, /lt_donthave +piece=/);
      keys('d');
      await waitFor('the question', (x) => /Decode As: id 7 toward 127\.0\.0\.1:39827 is extension:/.test(x));
      keys('-l', 'lt_donthave');
      keys('Enter');
      s = await waitFor('the rows named', (x) => /lt_donthave +piece=16 /.test(x) && !/ext#7/.test(x));
      keys('q');
      await waitFor('the exit', (x) => /EXIT=0/.test(x));
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
