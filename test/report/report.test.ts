// --report without a browser: the HTML page's CSP and script, every finding in the table and
// beside its arrow, collapsed runs; the Markdown's mermaid block per finding; hostile peer strings
// escaped in both (test/report/report-browser.test.ts renders them in Chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mermaidBlocks, reportsOf } from './report-support.js';
import { HOSTILE, HOSTILE_EXT, HOSTILE_V, PLAIN, writeHostileCapture } from '../support/hostile-capture.js';
import { writeSyntheticCapture } from '../support/synthetic-capture.js';
import { ROW_BUDGET } from '../../src/report/html.js';
import { collapse, itemCost, thin } from '../../src/report/ladder.js';

const dir = mkdtempSync(join(tmpdir(), 'ltdh-report-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('misbehave.pcap HTML: one script, allowed by its hash and nothing else; every finding in the table and beside its arrow', async () => {
  const { html, findings } = await reportsOf('samples/misbehave.pcap', 'samples/misbehave.torrent');
  assert.ok(findings.length >= 20, `${findings.length} findings`);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  const hash = createHash('sha256').update(scripts[0]![1]!).digest('base64');
  assert.match(csp, /default-src 'none'/);
  assert.ok(csp.includes(`script-src 'sha256-${hash}'`), csp);
  assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  assert.doesNotMatch(html, / style=|<link|<img|<iframe|src=|@import|url\(/);
  assert.equal((html.match(/<tr id="fi\d+" class="finding">/g) ?? []).length, findings.length);
  // Each finding's note sits in the row of the message it points at.
  const notes = [...html.matchAll(/<div class="lr[^"]*" id="r(\d+)">(?:(?!<div class="lr).)*?<a class="fnote (\w+)" href="#fi(\d+)"/g)];
  assert.ok(notes.length > 0);
  const noted = new Set([...html.matchAll(/class="fnote \w+" href="#fi(\d+)"/g)].map((m) => Number(m[1])));
  assert.equal(noted.size, findings.length, 'every finding beside an arrow');
  for (const f of findings) assert.ok(html.includes(f.finding!), f.finding);
  // Each finding is at the message with its frame: the table's frame cell is that message's.
  findings.forEach((f, n) => {
    const frame = (f as { frame?: number }).frame;
    if (frame === undefined) return;
    const row = new RegExp(`<tr id="fi${n}" class="finding">(?:<td[^>]*>.*?</td>){5}<td>(\\d*)</td>`).exec(html);
    assert.equal(row?.[1], String(frame), `finding ${n} ${f.finding}: frame`);
  });
});

test('misbehave.pcap Markdown: verdict, findings table, maps table, a mermaid sequence diagram per finding (the first ten)', async () => {
  const { md, findings } = await reportsOf('samples/misbehave.pcap', 'samples/misbehave.torrent');
  assert.match(md, /^\*\*verdict: FAIL - 14 errors, 6 warnings, 4 info in 4 connections\*\*$/m);
  const rows = md.split('\n').filter((l) => /^\| \d+ \| (error|warning|info) \|/.test(l));
  assert.equal(rows.length, findings.length);
  assert.match(md, /\| extension \| B → A uses \(A's map\) \| A → B uses \(B's map\) \|/);
  const blocks = mermaidBlocks(md);
  assert.equal(blocks.length, Math.min(10, findings.length));
  findings.slice(0, 10).forEach((f, n) => {
    const block = blocks[n]!;
    assert.equal(block[0], 'sequenceDiagram');
    assert.ok(block.some((l) => l.includes(`: ${f.severity!.toUpperCase()} ${f.finding!.replace(/-/g, '#45;')}`)), `finding ${n + 1} ${f.finding} marked by a Note`);
    assert.ok(block.filter((l) => /^ {4}[AB]->>[AB]: /.test(l)).length >= 3, `finding ${n + 1}: messages around it`);
    const donthaves = block.filter((l) => /->>[AB]: [\d.]+ s( frame \d+)? lt_donthave /.test(l)).length;
    assert.equal(block.filter((l) => /Note over A,B: lt_donthave/.test(l)).length, donthaves, 'a Note on each lt_donthave');
  });
});

test('a large real capture collapses its runs of piece/request/have and says so', async () => {
  const { html } = await reportsOf('samples/lossy-sample.pcap');
  const runs = (html.match(/<details class="run">/g) ?? []).length;
  assert.ok(runs > 0, 'runs collapsed');
  assert.match(html, /runs of piece, request, have and like messages \([\d,]+ messages\) are collapsed/);
});

test('hostile peer strings: nothing of them reaches HTML as markup; the page is the plain one element for element', async () => {
  await writeHostileCapture(join(dir, 'hostile.pcap'), HOSTILE);
  await writeHostileCapture(join(dir, 'plain.pcap'), PLAIN);
  const hostile = await reportsOf(join(dir, 'hostile.pcap'));
  const plain = await reportsOf(join(dir, 'plain.pcap'));
  assert.ok(hostile.findings.some((f) => f.message!.includes(HOSTILE_V.slice(0, 20))), 'a finding quotes the hostile client');
  assert.ok(hostile.findings.some((f) => f.message!.includes(HOSTILE_EXT)), 'a finding quotes the hostile extension name');
  const tags = (html: string): string[] => [...html.matchAll(/<\/?([a-zA-Z][\w-]*)[^>]*>/g)].map((m) => m[0].replace(/"[^"]*"/g, '""').replace(/>[^<]*$/, '>'));
  assert.deepEqual(tags(hostile.html.replace(/hostile/g, 'plain')), tags(plain.html), 'same elements and attributes');
  assert.ok(hostile.html.includes('&lt;script&gt;window.__pwned=1&lt;/script&gt;'));
  assert.equal((hostile.html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(hostile.html, /<img|<svg onload|<b onclick|onerror="|<\/details>\|/);
});

test('hostile peer strings: no Markdown table cell, code fence or mermaid statement is broken', async () => {
  await writeHostileCapture(join(dir, 'hostile-md.pcap'), HOSTILE);
  const { md, findings } = await reportsOf(join(dir, 'hostile-md.pcap'));
  const lines = md.split('\n');
  // Tables: every row has as many cells as its header.
  let columns = 0;
  for (const line of lines) {
    if (!line.startsWith('|')) {
      columns = 0;
      continue;
    }
    const cells = line.split('|').length;
    if (columns === 0) columns = cells;
    assert.equal(cells, columns, `a cell was broken: ${line}`);
  }
  assert.doesNotMatch(md, /<[a-z/]/i, 'no HTML tag');
  const fences = lines.filter((l) => l.startsWith('```'));
  assert.deepEqual(fences, Array.from({ length: fences.length }, (_, i) => (i % 2 === 0 ? '```mermaid' : '```')), 'fences only where the report opens and closes diagrams');
  const blocks = mermaidBlocks(md);
  assert.equal(blocks.length, findings.length);
  const statement = /^(sequenceDiagram| {4}participant [AB] as .+| {4}[AB]->>[AB]: .+| {4}Note (over A,B|right of B|left of A): .+)$/;
  for (const line of blocks.flat()) {
    assert.match(line, statement);
    // Mermaid entity codes aside, nothing that ends or starts a statement, a comment or an arrow.
    const text = line.replace(/^ {4}(participant [AB] as |[AB]->>[AB]: |Note [^:]+: )/, '').replace(/#\d+;/g, '');
    assert.doesNotMatch(text, /[;#%:<>"`|\\]|-->|->>/, line);
  }
  assert.ok(md.includes('#60;script#62;window.__pwned=1'), 'the hostile client is shown, encoded');
});

test('a long conversation with hundreds of findings: the page stays small, says what it left out, and draws the findings first', async () => {
  const path = join(dir, 'long.pcap');
  const messages = await writeSyntheticCapture(path, 300_000);
  const { html, findings, collector } = await reportsOf(path);
  assert.ok(messages >= 300_000);
  assert.ok(findings.length > 300, `${findings.length} findings`);
  assert.ok(html.length < 5_000_000, `${html.length} bytes`);
  const lines = (html.match(/<div class="lr/g) ?? []).length;
  assert.ok(lines <= ROW_BUDGET, `${lines} ladder lines`);
  assert.equal((html.match(/class="fnote /g) ?? []).length, findings.length, 'every finding beside its arrow');
  // A tighter budget: what is left out is said, and the lines go to the findings first.
  const info = [...collector.conns.values()][0]!;
  const rows = info.rows.data.subarray(0, info.rows.length);
  const pinned = new Set(collector.findings.map((f) => f.row));
  const items = thin(collector, rows, collapse(collector, rows, pinned), pinned, 2000);
  assert.ok(items.reduce((n, it) => n + itemCost(it), 0) <= 2000);
  const elided = items.filter((it) => it.type === 'elided');
  assert.ok(elided.length > 0);
  assert.equal(items.reduce((n, it) => n + (it.type === 'row' ? 1 : it.count), 0), rows.length, 'every row drawn, in a run or counted as left out');
  assert.equal(items.filter((it) => it.type === 'row' && pinned.has(it.row)).length, pinned.size, 'every finding drawn');
});
