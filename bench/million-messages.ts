// A synthetic capture of about a million peer-wire messages (test/support/synthetic-capture.ts),
// for measuring --report and the terminal UI: node --import tsx bench/million-messages.ts OUT.pcap [MESSAGES]
// The bench makes its copies once under ~/.cache/ltdh-inspect (syntheticCaptureFile).
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticCapture } from '../test/support/synthetic-capture.js';

/** The capture of `messages` messages, made once under ~/.cache/ltdh-inspect. */
export async function syntheticCaptureFile(messages: number): Promise<string> {
  const name = messages === 1_000_000 ? 'million-messages.pcap' : `messages-${messages}.pcap`;
  const file = join(homedir(), '.cache/ltdh-inspect', name);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    process.stderr.write(`making ${file} (bench/million-messages.ts)\n`);
    await writeSyntheticCapture(file, messages);
  }
  return file;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [out = 'million.pcap', total = '1000000'] = process.argv.slice(2);
  console.log(`${out}: ${await writeSyntheticCapture(out, Number(total))} messages`);
}
