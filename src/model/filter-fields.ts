// The field names the display filter accepts in a comparison: the message table's fields (its one
// owner of the wire layout) plus every other top-level field a record can carry (record.ts, as
// docs/json.md documents them), plus the filter's own `ip`. A name outside this set is a filter
// error that suggests the closest known name, as Wireshark rejects an unknown field.
import { MESSAGES } from '../bittorrent/message-table.js';
import type { EventRecord, InputWarning, MessageRecord } from './record.js';

type RecordField = keyof MessageRecord | keyof EventRecord | keyof InputWarning;

/** Every top-level field of a record. The check below fails the build when record.ts gains a field not listed here. */
const RECORD_FIELDS = [
  // every record
  'ts', 'frame', 'firstFrame', 'conn', 'transport', 'src', 'dst',
  // messages
  'msg', 'size', 'resync', 'malformed', 'piece', 'begin', 'length', 'port', 'bits', 'set', 'id',
  'protocol', 'reserved', 'infoHash', 'peerId', 'client', 'extensions',
  'piecesRoot', 'baseLayer', 'index', 'proofLayers', 'hashCount',
  'ext', 'extId', 'mappingFrom', 'm', 'v', 'p', 'reqq', 'yourip', 'metadata_size', 'upload_only', 'fields',
  'msg_type', 'total_size', 'trailing', 'added', 'dropped', 'hp_type', 'hp_addr', 'hp_err', 'payloadLength',
  'probably', 'probablyWhy',
  // events and input warnings
  'event', 'bytes', 'message', 'finding', 'severity', 'late', 'judgedTs', 'judgedFrame', 'since', 'seconds',
  'summary', 'unjudged', 'offset',
] as const satisfies readonly RecordField[];

// Compile-time completeness: a record field missing from RECORD_FIELDS makes this `never`.
type Unlisted = Exclude<RecordField, (typeof RECORD_FIELDS)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;

/** Fields only the filter knows: `ip` matches either endpoint's address (`port` is also a record field). */
export const FILTER_ONLY_FIELDS: readonly string[] = ['ip'];

/** The names a comparison accepts, case-sensitive as the JSON keys are. */
export const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>([
  ...MESSAGES.flatMap((m) => m.fields.map((f) => f.name)),
  ...RECORD_FIELDS,
  ...FILTER_ONLY_FIELDS,
]);

/**
 * The known name closest to a misspelt one, if any is close: same letters in another case, or an
 * edit distance (insert, delete, replace, swap two neighbours) of 1 for short names, 2 for longer.
 */
export function closestName(word: string, names: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = lower.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of names) {
    const d = editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal-string-alignment distance; the inputs are short filter words, so the table stays small. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
