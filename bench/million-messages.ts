// A synthetic capture of about a million peer-wire messages (test/support/synthetic-capture.ts),
// for measuring --report: node --import tsx bench/million-messages.ts OUT.pcap [MESSAGES]
import { writeSyntheticCapture } from '../test/support/synthetic-capture.js';

const [out = 'million.pcap', total = '1000000'] = process.argv.slice(2);
console.log(`${out}: ${await writeSyntheticCapture(out, Number(total))} messages`);
