// What each finding needs the capture to have seen before it can be judged. A finding that rests on
// what came before (the receiver's extended handshake, the sender's haves) is only as good as the
// capture: when a direction it needs lost bytes (a gap, or a resync of the decoder) before the
// message, it is not raised, and the connection counts it as not judged, with the reason. The
// Analyzer applies these conditions (judged, below) to every finding it raises; the
// findings table in docs/findings.md says the same in words (a test holds the two together).
import type { EventRecord } from '../model/record.js';
import { countUnjudged, type At, type Conn, type Side } from './conn-state.js';
import type { FindingCode } from './findings.js';

/** A direction of the connection, seen from the message a finding points at. */
export type Direction = 'sender' | 'receiver';

export interface FindingNeeds {
  /** Directions whose every byte up to the message must be in the capture (no gap or resync before it). */
  before: readonly Direction[];
  /** Sides whose BitTorrent handshake (the connection's start) the capture must hold. */
  handshake: readonly Direction[];
  /**
   * Judged at the end on what followed the message: no gap or resync in either direction after it
   * (the answer, reject or cancel could have been in the lost bytes).
   */
  after?: true;
  /** What the capture must have seen, in words: the "needs" column of docs/findings.md. */
  seen: string;
}

const MESSAGE_ONLY: FindingNeeds = { before: [], handshake: [], seen: 'the message itself' };

export const FINDING_NEEDS = {
  'donthave-malformed': MESSAGE_ONLY,
  'donthave-out-of-range': { before: [], handshake: [], seen: 'the message and the piece count' },
  'donthave-not-announced': { before: ['sender'], handshake: ['sender'], seen: "the sender's handshake and its whole direction up to the message (bitfield, have_all, haves)" },
  'donthave-redundant': { before: ['sender'], handshake: ['sender'], seen: "the sender's handshake and its whole direction up to the message (the earlier lt_donthave, no have after it)" },
  'donthave-unsupported': { before: ['receiver'], handshake: [], seen: "the receiver's direction up to the message (its extended handshakes)" },
  'request-after-donthave': { before: ['receiver'], handshake: [], seen: "the receiver's direction up to the message (its lt_donthave, no have after it)" },
  'requests-dropped-by-donthave': { before: [], handshake: [], after: true, seen: 'both directions from the lt_donthave to each request\'s answer (or to the end)' },
  'ext-unknown-id': { before: ['receiver'], handshake: [], seen: "the receiver's direction up to the message (its extended handshakes: the mapping in force)" },
  'ext-id-own-mapping': { before: ['sender', 'receiver'], handshake: [], seen: "both directions up to the message (the receiver's mapping in force, and the sender's own)" },
  'ext-before-handshake': { before: ['receiver'], handshake: ['sender'], seen: "the sender's handshake and the receiver's direction up to the message (that it sent no extended handshake)" },
  'fast-not-negotiated': { before: [], handshake: ['sender', 'receiver'], seen: 'both handshakes (their fast bits)' },
  'bitfield-bad-length': { before: [], handshake: [], seen: 'the message and the piece count' },
  'bitfield-spare-bits': { before: [], handshake: [], seen: 'the message and the piece count' },
  'bitfield-not-first': { before: ['sender'], handshake: [], seen: "the sender's direction up to the message (the earlier message it names)" },
  'piece-out-of-range': { before: [], handshake: [], seen: 'the message and the piece count' },
  'block-too-large': MESSAGE_ONLY,
  'hash-mismatch': { before: [], handshake: [], seen: 'every block of the piece, and the piece hashes' },
  'metadata-piece-size': { before: [], handshake: [], seen: "the message and the sender's metadata_size; for a piece nobody requested, the receiver's handshake and both directions up to the message (the receiver's requests, read through the sender's mapping)" },
  'metadata-total-size': { before: ['sender'], handshake: [], seen: "the sender's direction up to the message (its extended handshake's metadata_size)" },
  'metadata-rejected': { before: ['sender'], handshake: [], seen: "the sender's direction up to the message (its extended handshake's metadata_size)" },
  'metadata-hash-mismatch': { before: [], handshake: [], seen: 'every metadata piece, and the handshake\'s info hash' },
  // The stall tracker itself stops watching a connection at its first gap or resync.
  'request-stalled': { before: [], handshake: [], seen: 'both directions from the oldest outstanding request on (no gap or resync: after one, stalls are not judged)' },
  'request-stall-ended': { before: [], handshake: [], seen: 'both directions from the stall to the message that ended it' },
  'request-unanswered': { before: [], handshake: [], after: true, seen: 'both directions from the request to the end of the capture' },
  'torrent-unmatched': { before: [], handshake: [], seen: "every connection's handshake (not raised when one was not seen)" },
} as const satisfies Record<FindingCode, FindingNeeds>;

/**
 * A ut_metadata data piece nobody requested: the requests are in the receiver's direction, and are
 * read through the sender's mapping (a request sent with an id the capture cannot name is not seen).
 */
export const UNREQUESTED_METADATA_NEEDS: FindingNeeds = { before: ['sender', 'receiver'], handshake: ['receiver'], seen: FINDING_NEEDS['metadata-piece-size'].seen };

/** Why a finding was not judged. */
export type UnjudgedReason = 'start-not-captured' | 'sender-lost-bytes' | 'receiver-lost-bytes' | 'lost-bytes-after';

export const UNJUDGED_TEXT: Record<UnjudgedReason, string> = {
  'start-not-captured': "a handshake it needs was not captured",
  'sender-lost-bytes': "the sender's direction lost bytes before the message",
  'receiver-lost-bytes': "the receiver's direction lost bytes before the message",
  'lost-bytes-after': 'bytes were lost after the message, where its answer could have been',
};

/** Whether the capture holds what a finding needs; if not, it is counted on the connection as not judged. */
export function judged(c: Conn, code: FindingCode, at: At, needs: FindingNeeds): boolean {
  const sender = c.sides.find((x) => x.addr === at.src);
  const receiver = c.sides.find((x) => x.addr === at.dst);
  // Findings about the whole capture (torrent-unmatched) have no sides.
  if (sender === undefined || receiver === undefined) return true;
  const side = (d: Direction): Side => (d === 'sender' ? sender : receiver);
  let why: UnjudgedReason | undefined;
  if (needs.handshake.some((d) => !side(d).handshake)) why = 'start-not-captured';
  else if (needs.before.includes('sender') && sender.lost) why = 'sender-lost-bytes';
  else if (needs.before.includes('receiver') && receiver.lost) why = 'receiver-lost-bytes';
  if (why === undefined) return true;
  countUnjudged(c, code, why);
  return false;
}

/** The connection's findings not judged, by code and reason, as one `unjudged` record at `when` (then cleared). */
export function unjudgedRecord(c: Conn, when: { ts: number; frame: number | undefined }): EventRecord | undefined {
  if (c.unjudged.size === 0) return undefined;
  const unjudged: Record<string, Record<string, number>> = {};
  const parts: string[] = [];
  let total = 0;
  for (const [code, reasons] of c.unjudged) {
    unjudged[code] = Object.fromEntries(reasons);
    for (const [why, n] of reasons) {
      total += n;
      parts.push(`${code} ${n} (${UNJUDGED_TEXT[why]})`);
    }
  }
  c.unjudged.clear();
  const [a, b] = c.sides;
  const message = `${total} finding(s) not judged, the capture lacks what they need: ${parts.join('; ')}`;
  const r: EventRecord = { event: 'unjudged', conn: c.conn, transport: c.transport, src: a.addr, dst: b.addr, ts: when.ts, unjudged, message };
  if (when.frame !== undefined) r.frame = when.frame;
  return r;
}
