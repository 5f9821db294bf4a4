// The HTML report in a real browser: Debian's chromium driven by puppeteer-core (never a
// downloaded browser). Real samples render with every finding visible beside its arrow and a
// screenshot is taken; the page's own script runs under its CSP (a finding link opens and marks
// the message); hostile peer strings run nothing and change nothing. Skipped without chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportsOf } from './report-support.js';
import { HOSTILE, HOSTILE_V, PLAIN, writeHostileCapture } from '../support/hostile-capture.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt install chromium)`;
process.env.PUPPETEER_SKIP_DOWNLOAD = '1';

const dir = mkdtempSync(join(tmpdir(), 'ltdh-report-browser-'));
type Browser = import('puppeteer-core').Browser;
type Page = import('puppeteer-core').Page;
let browser: Browser | undefined;
/** A browser that stops answering fails its test instead of holding the suite until CI's limit. */
const BROWSER_TIMEOUT = 120_000;

async function open(html: string, name: string): Promise<{ page: Page; problems: string[] }> {
  if (browser === undefined) {
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
  }
  const path = join(dir, name);
  writeFileSync(path, html);
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('file://')) problems.push(`request: ${r.url()}`);
  });
  await page.setViewport({ width: 1400, height: 1000 });
  await page.goto(`file://${path}`, { waitUntil: 'load' });
  return { page, problems };
}

test.after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const [sample, torrent] of [['lt-sample.pcap'], ['wt-sample.pcap'], ['misbehave.pcap', 'misbehave.torrent']] as const) {
  test(`${sample}: renders in Chromium with every finding visible, in the table and beside its arrow`, { skip, timeout: BROWSER_TIMEOUT }, async () => {
    const { html, findings } = await reportsOf(`samples/${sample}`, torrent && `samples/${torrent}`);
    const { page, problems } = await open(html, `${sample}.html`);
    // Page code as text: the test program is typed for Node, without the DOM's types.
    const seen = (await page.evaluate(`({
      table: [...document.querySelectorAll('tr.finding')].filter((e) => e.checkVisibility()).map((e) => e.querySelector('code')?.textContent ?? ''),
      notes: [...document.querySelectorAll('a.fnote')].filter((e) => e.checkVisibility() && e.getBoundingClientRect().width > 20).map((e) => e.getAttribute('href')),
      arrows: document.querySelectorAll('.lr').length,
      verdict: document.getElementById('verdict')?.textContent ?? '',
    })`)) as { table: string[]; notes: string[]; arrows: number; verdict: string };
    assert.deepEqual(seen.table, findings.map((f) => f.finding));
    assert.deepEqual(new Set(seen.notes), new Set(findings.map((_, n) => `#fi${n}`)), 'a visible note beside an arrow for every finding');
    assert.ok(seen.arrows > 20, `${seen.arrows} arrows`);
    assert.match(seen.verdict, /^verdict: (PASS|FAIL)/);
    const shot = join(dir, `${sample}.png`);
    await page.screenshot({ path: shot, fullPage: false });
    assert.ok(statSync(shot).size > 10_000);
    assert.deepEqual(problems, []);
    if (findings.length > 0) {
      // The page's own script runs under the CSP: following a finding's link marks its message.
      await page.click('tr.finding a[href^="#r"]');
      await page.waitForSelector('.lr.hl', { timeout: 5000 });
    }
    await page.close();
  });
}

test('hostile client and extension strings run nothing and change nothing in Chromium', { skip, timeout: BROWSER_TIMEOUT }, async () => {
  await writeHostileCapture(join(dir, 'hostile.pcap'), HOSTILE);
  await writeHostileCapture(join(dir, 'plain.pcap'), PLAIN);
  const hostile = await open((await reportsOf(join(dir, 'hostile.pcap'))).html, 'hostile.html');
  const plain = await open((await reportsOf(join(dir, 'plain.pcap'))).html, 'plain.html');
  type Seen = { pwned: unknown; scripts: number; skeleton: string; handlers: string[]; text: string };
  const inspect = async (page: Page): Promise<Seen> =>
    (await page.evaluate(`({
      pwned: window.__pwned,
      scripts: document.scripts.length,
      skeleton: [...document.querySelectorAll('*')].map((e) => e.tagName + '.' + (e.getAttribute('class') ?? '') + '#' + e.id + [...e.attributes].map((a) => a.name).join(',')).join(' '),
      handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name)),
      text: document.body.innerText,
    })`)) as Seen;
  // Give anything that would run a moment to do it.
  await new Promise((r) => setTimeout(r, 300));
  const h = await inspect(hostile.page);
  const p = await inspect(plain.page);
  assert.equal(h.pwned, undefined, 'a hostile string ran');
  assert.equal(h.scripts, 1);
  assert.deepEqual(h.handlers, []);
  assert.equal(h.skeleton, p.skeleton, 'the hostile page has other elements or attributes than the plain one');
  assert.ok(h.text.includes(HOSTILE_V.slice(0, 60)), 'the hostile client is shown as text');
  assert.deepEqual(hostile.problems, []);
  // A screenshot of a tab that is not in front waits for a frame headless Chromium never paints.
  await hostile.page.bringToFront();
  await hostile.page.screenshot({ path: join(dir, 'hostile.png') });
});
