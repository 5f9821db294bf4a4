// The streaming commands (text, --json, --check) hold what is live: the connections still open.
// Connections released after a silence become garbage in V8's old generation, and V8 lets that grow
// to up to four times what survived the last full collection before it collects again (it does so
// when collecting is cheap, as it is here): 25 MB of live state ran to 200 MB of resident memory on a
// capture of 200,000 unfinished connections. A growth of 30% keeps the heap near what is live, for a
// few more full collections (each one short, the live heap being small). The interactive UI keeps
// every record by design and is left to V8's defaults.
import { setFlagsFromString } from 'node:v8';

/** Old-generation growth between full collections, percent, for the streaming commands. */
export const STREAM_HEAP_GROWING_PERCENT = 30;

/** Takes effect from the next full collection on (V8 reads the flag each time it sizes the heap). */
export function keepHeapNearLive(): void {
  setFlagsFromString(`--heap-growing-percent=${STREAM_HEAP_GROWING_PERCENT}`);
}
