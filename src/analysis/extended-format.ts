// How extended-message payloads and mappings look: the shape of each extension's payload (to tell
// which mapping a sender used) and a mapping as text for findings.
import type { SideMapping } from './side-mapping.js';

/** "ut_pex 1, lt_donthave 3", or that there is no mapping yet. */
export function formatMapping(m: SideMapping | undefined): string {
  return m === undefined ? 'no extended handshake' : m.format();
}

/** The receiver's name for an id does not fit the payload, but the sender's own name for it does. */
export function misfit(theirs: string, own: string | undefined, payload: Uint8Array | undefined): boolean {
  return own !== undefined && own !== theirs && fits(theirs, payload) === false && fits(own, payload) === true;
}

/** Whether a payload has the shape of an extension's messages; undefined when unknown. */
export function fits(name: string, payload: Uint8Array | undefined): boolean | undefined {
  if (payload === undefined) return undefined;
  switch (name) {
    case 'lt_donthave':
      return payload.length === 4;
    case 'upload_only':
    case 'share_mode':
      return payload.length === 1;
    case 'ut_holepunch':
      return payload.length === 12 || payload.length === 24;
    case 'ut_metadata':
      return payload[0] === 0x64 && includesAscii(payload, '8:msg_type');
    case 'ut_pex':
      return payload[0] === 0x64 && !includesAscii(payload, '8:msg_type');
    default:
      return undefined;
  }
}

function includesAscii(b: Uint8Array, s: string): boolean {
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 1024)).includes(s, 0, 'latin1');
}
