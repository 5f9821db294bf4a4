// How extended-message payloads and mappings read in findings: a mapping as text, and whether the
// receiver's name for an id fits the payload worse than the sender's own (the payload shapes are
// the decoder's: fits in src/bittorrent/extensions.ts).
import { fits } from '../bittorrent/extensions.js';
import type { MappingView } from '../bittorrent/ext-mapping.js';

/** "ut_pex 1, lt_donthave 3", or that there is no mapping yet. */
export function formatMapping(m: MappingView | undefined): string {
  return m === undefined ? 'no extended handshake' : m.format();
}

/** The receiver's name for an id does not fit the payload, but the sender's own name for it does. */
export function misfit(theirs: string, own: string | undefined, payload: Uint8Array | undefined): boolean {
  return own !== undefined && own !== theirs && fits(theirs, payload) === false && fits(own, payload) === true;
}
