// Retained heap per live connection, in-process: the first COUNT connections of a stress capture
// (bench/make-stress.ts) go through the --json path's per-connection state (reassembler, decoder,
// analyzer, summary tallies) with nothing released, then a full collection; (heap after - heap
// before) / connections tracked. Run with --expose-gc: node --expose-gc --import tsx bench/conn-cost.ts FILE PACKETS
import { readFileSync } from 'node:fs';
import { Pipeline } from '../src/pipeline.js';
import { Analyzer } from '../src/analysis/analyzer.js';
import { SummaryCollector } from '../src/output/summary.js';
import { NEVER_IDLE } from '../src/transport/idle.js';

const [file, packets] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (file === undefined || packets === undefined || gc === undefined) {
  process.stderr.write('usage: node --expose-gc --import tsx bench/conn-cost.ts FILE PACKETS\n');
  process.exit(2);
}
const bytes = readFileSync(file);
let records = 0;
let conns = 0;
const summaries = new SummaryCollector({ onFinal: () => undefined });
const analyzer = new Analyzer((r) => {
  records++;
  if ('event' in r && r.event === 'open') conns++;
  summaries.record(r);
});
const pipeline = new Pipeline(analyzer.record, { idle: NEVER_IDLE, clock: analyzer.advance, maxPackets: Number(packets) });
gc();
const before = process.memoryUsage().heapUsed;
pipeline.push(bytes);
gc();
const after = process.memoryUsage().heapUsed;
const flows = (pipeline as unknown as { tcp: { flowCount: number } }).tcp.flowCount;
process.stdout.write(JSON.stringify({ flows, conns, records, bytesPerFlow: Math.round((after - before) / flows) }) + '\n');
// Keep everything reachable until after the measurement.
if (summaries.size < 0 || analyzer === undefined) process.stdout.write('');
