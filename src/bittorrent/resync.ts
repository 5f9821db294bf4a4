// Finding the next message boundary in a stream whose position was lost (a gap in the capture, or a
// capture that started mid-connection): the first offset from which a run of plausible messages
// follows. "Plausible" is stricter than "valid": a known id, the exact length of fixed-size messages,
// block sizes real clients use, so that random piece data almost never passes several in a row.
import { MAX_MESSAGE_LENGTH, MAX_PLAUSIBLE_BLOCK, lengthProblem, messageName, readU32 } from './wire.js';

export type ChainResult = 'yes' | 'no' | 'more';

/** Pieces beyond this index are not taken as plausible (16M pieces covers any real torrent). */
const MAX_PLAUSIBLE_PIECE = 1 << 24;

/**
 * Whether `need` plausible messages start at `at` in b[..end]. 'more' when the run is plausible so
 * far but runs past `end`; with `ended` (no more data will come) a run that ends exactly at `end`
 * counts as complete.
 */
export function checkChain(b: Uint8Array, at: number, end: number, need: number, ended: boolean): ChainResult {
  let pos = at;
  let found = 0;
  let keepAlives = 0;
  while (found < need) {
    if (pos === end && ended && found > 0) return 'yes';
    if (pos + 4 > end) return ended ? 'no' : 'more';
    const len = readU32(b, pos);
    if (len === 0) {
      // Runs of zero bytes look like keep-alives; two in a row are not taken as evidence.
      if (++keepAlives > 1 || found === 0) return 'no';
      pos += 4;
      continue;
    }
    keepAlives = 0;
    if (len > MAX_MESSAGE_LENGTH) return 'no';
    if (pos + 5 > end) return ended ? 'no' : 'more';
    const id = b[pos + 4]!;
    if (messageName(id) === 'unknown' || lengthProblem(id, len) !== undefined) return 'no';
    const fieldsEnd = pos + 4 + Math.min(len, 13);
    if (fieldsEnd > end) return ended ? 'no' : 'more';
    if (!plausibleFields(b, pos, id, len)) return 'no';
    pos += 4 + len;
    found++;
    if (pos > end && found < need) return ended ? 'no' : 'more';
  }
  return 'yes';
}

function plausibleFields(b: Uint8Array, pos: number, id: number, len: number): boolean {
  const p = pos + 5;
  switch (id) {
    case 4:
    case 13:
    case 17:
      return readU32(b, p) < MAX_PLAUSIBLE_PIECE;
    case 6:
    case 8:
    case 16: {
      const length = readU32(b, p + 8);
      return readU32(b, p) < MAX_PLAUSIBLE_PIECE && length > 0 && length <= MAX_PLAUSIBLE_BLOCK && readU32(b, p + 4) % 1024 === 0;
    }
    case 7:
      return readU32(b, p) < MAX_PLAUSIBLE_PIECE && len - 9 <= MAX_PLAUSIBLE_BLOCK && readU32(b, p + 4) % 1024 === 0;
    case 20:
      // Extended: an id, then a bencoded dictionary for the handshake (id 0).
      return len <= 1024 * 1024 && (b[p] !== 0 || b[p + 1] === 0x64);
    default:
      return true;
  }
}
