// Reports of a capture through the library: the collector fed by the decoder, then a renderer.
import { decodeCapture } from '../../src/inspect.js';
import { ReportCollector } from '../../src/report/collect.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { loadTorrent } from '../../src/analysis/torrent.js';
import type { AnyRecord, EventRecord } from '../../src/model/record.js';

export interface Reports {
  html: string;
  md: string;
  findings: EventRecord[];
  records: AnyRecord[];
  collector: ReportCollector;
}

export async function reportsOf(capture: string, torrent?: string): Promise<Reports> {
  const collector = new ReportCollector();
  const records: AnyRecord[] = [];
  const options = torrent !== undefined ? { torrent: await loadTorrent(torrent) } : {};
  await decodeCapture(capture, (r, raw) => {
    records.push(r);
    collector.record(r, raw);
  }, options);
  const meta = { capture, version: 'test', command: `ltdh-inspect ${capture}` };
  const findings = records.filter((r): r is EventRecord => 'event' in r && r.event === 'finding');
  return { html: renderHtml(collector, meta), md: renderMarkdown(collector, meta), findings, records, collector };
}

/** The lines of each ```mermaid block. */
export function mermaidBlocks(md: string): string[][] {
  const blocks: string[][] = [];
  let current: string[] | undefined;
  for (const line of md.split('\n')) {
    if (current === undefined && line === '```mermaid') current = [];
    else if (current !== undefined && line === '```') {
      blocks.push(current);
      current = undefined;
    } else current?.push(line);
  }
  return blocks;
}
