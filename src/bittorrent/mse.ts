// Message Stream Encryption (MSE/PE) seen from a capture: the Diffie-Hellman exchange is recognised
// by its shape (each side's first flight is a 96-byte public key plus 0-512 bytes of padding, and
// is not a known plaintext protocol), nothing is decoded from ciphertext, and where the peers
// selected plaintext after the exchange (libtorrent's default) the place the plain BitTorrent
// stream begins is found: the handshake when it shows within the first KiB after the exchange,
// otherwise the caller's message-chain resynchronisation. Sans-I/O: fed bytes, calls its hooks.
import type { Dir } from '../model/record.js';
import { checkChain } from './resync.js';
import { HANDSHAKE_PREFIX } from './wire.js';

/** Public key Ya/Yb: 768 bits. */
export const MSE_KEY_LENGTH = 96;
/** PadA/PadB: 0 to 512 random bytes after the key. */
export const MSE_MAX_PAD = 512;
/** Bytes after the exchange searched for a plaintext handshake before falling back to resync. */
const HANDSHAKE_SEARCH = 1024;
/**
 * Plausible messages in a row that mark where plaintext begins inside that KiB. Fewer than after a
 * gap in a long stream: the place is known to within a KiB of ciphertext, and waiting for a third
 * message would hold the stream back behind the other direction (an extended handshake decoded late
 * leaves the other side's extended ids unresolved).
 */
const CHAIN_AFTER_EXCHANGE = 2;

/** Where the plaintext stream was found: its handshake, a message boundary, or not (resync needed). */
export type PlainStart = 'handshake' | 'message' | 'unknown';

export interface MseHooks {
  /** Both first flights have the shape of the key exchange: the connection is encrypted. */
  encrypted(ts: number): void;
  /**
   * Plaintext may begin in `dir`: `bytes` follow `skipped` bytes of ciphertext after the key
   * exchange, and begin with the BitTorrent handshake, a message, or (`unknown`) somewhere that has
   * to be found by resynchronisation. Every later byte of `dir` goes to the caller.
   */
  plain(dir: Dir, bytes: Uint8Array, ts: number, skipped: number, start: PlainStart): void;
  /** Not the key exchange: the flow is something else. */
  reject(): void;
}

type Stage = 'flight' | 'search' | 'handed';

const EMPTY = new Uint8Array(0);

class Side {
  stage: Stage = 'flight';
  flight = 0;
  /** The first bytes of the first flight, for the plaintext-protocol checks. */
  readonly head = new Uint8Array(MSE_KEY_LENGTH);
  /** Bytes after the exchange, held while looking for a handshake (allocated then: most flows watched are not MSE). */
  after: Uint8Array = EMPTY;
  afterLen = 0;
  /** Offsets below this were ruled out as the start of a message chain. */
  scan = 0;
}

export class MseWatch {
  private readonly sides: readonly [Side, Side] = [new Side(), new Side()];
  private state: 'pending' | 'encrypted' | 'rejected' = 'pending';

  constructor(private readonly hooks: MseHooks) {}

  get isEncrypted(): boolean {
    return this.state === 'encrypted';
  }

  /** Whether bytes of `dir` still go here rather than to the message decoder. */
  owns(dir: Dir): boolean {
    return this.state !== 'rejected' && this.sides[dir].stage !== 'handed';
  }

  data(dir: Dir, bytes: Uint8Array, ts: number): void {
    if (this.state === 'rejected' || bytes.length === 0) return;
    const s = this.sides[dir];
    if (this.state === 'pending') {
      const other = this.sides[dir === 0 ? 1 : 0];
      if (dir === 1 && this.sides[0].flight === 0) return this.reject();
      if (dir === 0 && other.flight > 0) {
        // The initiator speaks again: both first flights are complete.
        if (!isKeyFlight(this.sides[0]) || !isKeyFlight(this.sides[1])) return this.reject();
        this.state = 'encrypted';
        this.sides[0].stage = 'search';
        this.sides[1].stage = 'search';
        this.hooks.encrypted(ts);
      } else {
        if (s.flight < MSE_KEY_LENGTH) s.head.set(bytes.subarray(0, Math.min(MSE_KEY_LENGTH - s.flight, bytes.length)), s.flight);
        s.flight += bytes.length;
        if (s.flight > MSE_KEY_LENGTH + MSE_MAX_PAD || knownPlaintext(s.head.subarray(0, Math.min(s.flight, MSE_KEY_LENGTH)))) this.reject();
        return;
      }
    }
    if (s.stage === 'search') this.search(dir, s, bytes, ts);
  }

  /** Bytes of `dir` were never captured: stop looking for the handshake there. */
  gap(dir: Dir, ts: number): void {
    if (this.state === 'pending') return this.reject();
    const s = this.sides[dir];
    if (s.stage === 'search') this.handOver(dir, s, EMPTY, ts, 'unknown', 0);
  }

  /** End of `dir`'s data: whatever is held goes to resynchronisation. */
  flush(dir: Dir, ts: number): void {
    const s = this.sides[dir];
    if (this.state === 'encrypted' && s.stage === 'search') this.handOver(dir, s, EMPTY, ts, 'unknown', 0);
  }

  private search(dir: Dir, s: Side, bytes: Uint8Array, ts: number): void {
    if (s.after.length === 0) s.after = new Uint8Array(HANDSHAKE_SEARCH);
    const take = Math.min(HANDSHAKE_SEARCH - s.afterLen, bytes.length);
    const from = Math.max(0, s.afterLen - HANDSHAKE_PREFIX.length + 1);
    s.after.set(bytes.subarray(0, take), s.afterLen);
    s.afterLen += take;
    const rest = bytes.subarray(take);
    const at = indexOfPrefix(s.after, from, s.afterLen);
    if (at >= 0) return this.handOver(dir, s, rest, ts, 'handshake', at);
    const chain = this.findChain(s);
    if (chain >= 0) return this.handOver(dir, s, rest, ts, 'message', chain);
    if (s.afterLen === HANDSHAKE_SEARCH) this.handOver(dir, s, rest, ts, 'unknown', 0);
  }

  /** The first offset in the held bytes where plausible messages follow, or -1. */
  private findChain(s: Side): number {
    for (let i = s.scan; i + 4 <= s.afterLen; i++) {
      const r = checkChain(s.after, i, s.afterLen, CHAIN_AFTER_EXCHANGE, false);
      if (r === 'yes') return i;
      if (r === 'more') {
        s.scan = i;
        return -1;
      }
    }
    s.scan = Math.max(s.scan, s.afterLen - 3);
    return -1;
  }

  /** `at`: where the plaintext starts in the held bytes (all held bytes go on when it is unknown). */
  private handOver(dir: Dir, s: Side, rest: Uint8Array, ts: number, start: PlainStart, at: number): void {
    s.stage = 'handed';
    const held = s.after.subarray(at, s.afterLen);
    const bytes = rest.length === 0 ? held : concat(held, rest);
    this.hooks.plain(dir, bytes, ts, at, start);
  }

  private reject(): void {
    this.state = 'rejected';
    this.hooks.reject();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfPrefix(b: Uint8Array, from: number, end: number): number {
  const p = HANDSHAKE_PREFIX;
  outer: for (let i = from; i + p.length <= end; i++) {
    for (let j = 0; j < p.length; j++) if (b[i + j] !== p[j]) continue outer;
    return i;
  }
  return -1;
}

function isKeyFlight(s: Side): boolean {
  return s.flight >= MSE_KEY_LENGTH && s.flight <= MSE_KEY_LENGTH + MSE_MAX_PAD && looksRandom(s.head) && !knownPlaintext(s.head);
}

const PLAINTEXT_STARTS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'OPTIONS ', 'CONNECT ', 'DELETE ', 'PATCH ', 'HTTP/', 'SSH-', 'PRI * HTTP/2', 'd1:', 'SMB', '\x13BitTorrent'];

/** The start of a protocol that is not MSE: text protocols, TLS records, SOCKS. */
export function knownPlaintext(head: Uint8Array): boolean {
  if (tlsHello(head)) return true;
  if ((head[0] === 0x04 || head[0] === 0x05) && head[1] !== undefined && head[1] <= 0x02 && head[2] === 0x00) return true; // SOCKS
  return PLAINTEXT_STARTS.some((s) => {
    for (let i = 0; i < s.length; i++) if (head[i] !== s.charCodeAt(i)) return false;
    return true;
  });
}

/**
 * A TLS record that opens a connection: a handshake record (22) of version 3.0 to 3.4, at most 2^14
 * bytes, carrying a ClientHello (1) or a ServerHello (2) shorter than 64 KiB. Only the first two bytes
 * were checked before, and an MSE public key begins with them once in 65,536 exchanges: that key
 * exchange was taken for TLS (the proxy relayed it as plain, the decoder ignored it). With the rest of
 * the header checked, a random key passes about once in 10^12.
 */
function tlsHello(h: Uint8Array): boolean {
  if (h.length < 9 || h[0] !== 0x16 || h[1] !== 0x03 || h[2]! > 0x04) return false;
  const record = (h[3]! << 8) | h[4]!;
  return record >= 4 && record <= 0x4000 && (h[5] === 1 || h[5] === 2) && h[6] === 0;
}

/** A DH public key is a random-looking 768-bit number: many distinct bytes, mostly not text. */
export function looksRandom(head: Uint8Array): boolean {
  const seen = new Uint8Array(256);
  let distinct = 0;
  let printable = 0;
  for (const c of head) {
    if (seen[c] === 0) {
      seen[c] = 1;
      distinct++;
    }
    if (c >= 0x20 && c < 0x7f) printable++;
  }
  return distinct >= 40 && printable < head.length * 0.75;
}

/** libtorrent (Rasterbar) and the clients built on it register fixed extended ids. */
const LIBTORRENT_IDS: Readonly<Record<number, string>> = { 1: 'ut_pex', 2: 'ut_metadata', 3: 'upload_only', 4: 'ut_holepunch', 7: 'lt_donthave', 8: 'share_mode' };
const LIBTORRENT_CLIENTS = /^(libtorrent \(Rasterbar\)|qBittorrent|Deluge)(\s|$)/;

/**
 * A hint for an extended id whose mapping was never seen (it was inside the encrypted part): the
 * name the receiver's client always registers for it, when that client is known to use fixed ids.
 */
export function probableExtension(receiverClient: string | undefined, extId: number): string | undefined {
  if (receiverClient === undefined || !LIBTORRENT_CLIENTS.test(receiverClient)) return undefined;
  return LIBTORRENT_IDS[extId];
}
