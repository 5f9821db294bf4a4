// Retained heap per live connection, in-process: the first PACKETS packets of a stress capture
// (bench/make-stress.ts) go through the --json path's per-connection state (reassembler, decoder,
// analyzer, summary tallies) with nothing released, then a full collection; (heap after - heap
// before) / connections tracked. Run with --expose-gc: node --expose-gc --import tsx bench/conn-cost.ts FILE PACKETS
// (test/e2e/connection-cost.test.ts holds the same measure to a bound).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Pipeline } from '../src/pipeline.js';
import { Analyzer } from '../src/analysis/analyzer.js';
import { SummaryCollector } from '../src/output/summary.js';
import { NEVER_IDLE } from '../src/transport/idle.js';

export interface ConnectionCost {
  /** Flows the TCP reassembler tracks at the end. */
  flows: number;
  /** Connections found to be BitTorrent (open events), and records made. */
  conns: number;
  records: number;
  bytesPerFlow: number;
}

/** Decodes `packets` packets of `capture` and measures what stays live per flow; `gc` is a full collection. */
export function connectionCost(capture: Uint8Array, packets: number, gc: () => void): ConnectionCost {
  let records = 0;
  let conns = 0;
  const summaries = new SummaryCollector({ onFinal: () => undefined });
  const analyzer = new Analyzer((r) => {
    records++;
    if ('event' in r && r.event === 'open') conns++;
    summaries.record(r);
  });
  const pipeline = new Pipeline(analyzer.record, { idle: NEVER_IDLE, clock: analyzer.advance, maxPackets: packets });
  gc();
  const before = process.memoryUsage().heapUsed;
  pipeline.push(capture);
  gc();
  const after = process.memoryUsage().heapUsed;
  const flows = (pipeline as unknown as { tcp: { flowCount: number } }).tcp.flowCount;
  // Everything stays reachable until after the measurement.
  if (summaries.size < 0 || analyzer.stallSeconds < 0) records = -1;
  return { flows, conns, records, bytesPerFlow: Math.round((after - before) / flows) };
}

function main(): void {
  const [file, packets] = process.argv.slice(2);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (file === undefined || packets === undefined || gc === undefined) {
    process.stderr.write('usage: node --expose-gc --import tsx bench/conn-cost.ts FILE PACKETS\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(connectionCost(readFileSync(file), Number(packets), gc)) + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
