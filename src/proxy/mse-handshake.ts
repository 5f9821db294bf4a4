// The pieces of the MSE/PE key exchange that the bridge's two legs share (mse-bridge.ts terminates
// the exchange as responder toward the client and as initiator toward the target): the constants,
// the Diffie-Hellman steps, the SHA-1 derivations and the inbox a leg's handshake bytes collect in.
// Sans-I/O. The sizes of the exchange's first flight are the decoder's (bittorrent/mse.ts owns them).
import { createDiffieHellman, createHash, randomBytes, randomInt } from 'node:crypto';
import { Rc4 } from '../bittorrent/rc4.js';
import { MSE_KEY_LENGTH, MSE_MAX_PAD } from '../bittorrent/mse.js';

/** The 768-bit prime of the MSE spec; the generator is 2. */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
);
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
/** The verification constant: 8 zero bytes, sent encrypted. */
export const VC = new Uint8Array(8);
/** Handshake bytes held per leg: key, pad, hashes, header, PadC, and an IA of at most 64 KiB. */
const MAX_HANDSHAKE_BYTES = MSE_KEY_LENGTH + MSE_MAX_PAD + 40 + 14 + MSE_MAX_PAD + 2 + 65535;

export const sha1 = (...parts: Array<string | Uint8Array>): Uint8Array => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
export const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 0xff);
export const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
export const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
export const readU16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
export const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** DH values as 96-byte big-endian numbers (node drops leading zero bytes). */
function pad96(b: Uint8Array): Uint8Array {
  if (b.length === MSE_KEY_LENGTH) return new Uint8Array(b);
  const out = new Uint8Array(MSE_KEY_LENGTH);
  out.set(b.subarray(Math.max(0, b.length - MSE_KEY_LENGTH)), Math.max(0, MSE_KEY_LENGTH - b.length));
  return out;
}

/** One leg's Diffie-Hellman key pair (generator 2, the MSE prime): the private exponent and 2^x mod P. */
export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * One DiffieHellman object for every exchange, given each pair's private key in turn (its calls are
 * synchronous, so pairs never mix). createDiffieHellman checks the prime each time it is called,
 * 16.6 ms of CPU for this 768-bit one on the 2-CPU VM (two per proxied MSE connection); a key pair
 * from the shared object takes 0.16 ms.
 */
let engine: ReturnType<typeof createDiffieHellman> | undefined;

function dhEngine(): ReturnType<typeof createDiffieHellman> {
  if (engine === undefined) {
    engine = createDiffieHellman(MSE_PRIME, 2);
    engine.generateKeys();
  }
  return engine;
}

/** A fresh key pair: a 768-bit random private exponent, as libtorrent draws its own. */
export function newKeyPair(): KeyPair {
  return keyPairFrom(randomBytes(MSE_KEY_LENGTH));
}

/** The key pair of a given private exponent. */
export function keyPairFrom(privateKey: Uint8Array): KeyPair {
  const dh = dhEngine();
  dh.setPrivateKey(privateKey);
  return { privateKey, publicKey: pad96(dh.generateKeys()) };
}

/** Our first flight: the public key, then 0 to 512 random bytes of padding. */
export function keyFlight(pair: KeyPair): Uint8Array {
  return concat(pair.publicKey, randomBytes(randomInt(0, MSE_MAX_PAD + 1)));
}

/** The shared secret S from the peer's public key; undefined when that key is invalid. */
export function sharedSecret(pair: KeyPair, theirs: Uint8Array): Uint8Array | undefined {
  try {
    const dh = dhEngine();
    dh.setPrivateKey(pair.privateKey);
    return pad96(dh.computeSecret(theirs));
  } catch {
    return undefined;
  }
}

/** SHA1('req2', SKEY) xor SHA1('req3', S): how the initiator names the torrent without revealing it. */
export function obfuscatedSkey(secret: Uint8Array, skey: Uint8Array): Uint8Array {
  const x = sha1('req2', skey);
  const req3 = sha1('req3', secret);
  for (let i = 0; i < 20; i++) x[i] = x[i]! ^ req3[i]!;
  return x;
}

/**
 * libtorrent 2.0 (pe_crypto.cpp, dh_key_exchange::compute_secret) hashes the secret for the req3
 * mask as boost's export_bits wrote it: without its leading zero bytes, then bytes it never set. Its
 * other uses of S are padded, so only the obfuscated info hash differs, about once in 256
 * exchanges. A secret with exactly one leading zero byte is S[1..96] and one unknown byte: the
 * skey among `skeys` that some such mask gives `x`, else undefined (so are other secrets).
 */
export function skeyByLibtorrentMask(secret: Uint8Array, x: Uint8Array, skeys: readonly Uint8Array[]): Uint8Array | undefined {
  if (secret.length !== 96 || secret[0] !== 0 || secret[1] === 0 || skeys.length === 0) return undefined;
  const masks = new Set<string>();
  const buf = new Uint8Array(96);
  buf.set(secret.subarray(1), 0);
  for (let b = 0; b < 256; b++) {
    buf[95] = b;
    masks.add(Buffer.from(sha1('req3', buf)).toString('hex'));
  }
  return skeys.find((k) => {
    const m = sha1('req2', k);
    for (let i = 0; i < 20; i++) m[i] = m[i]! ^ x[i]!;
    return masks.has(Buffer.from(m).toString('hex'));
  });
}

/** The RC4 stream keyed SHA1(name, S, SKEY) ('keyA' encrypts initiator to responder, 'keyB' back). */
export function legCipher(name: 'keyA' | 'keyB', secret: Uint8Array, skey: Uint8Array): Rc4 {
  return new Rc4(sha1(name, secret, skey));
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  outer: for (let i = from; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** What a search for a synchronisation pattern found (see Inbox.skipPast). */
export type Seek = 'found' | 'wait' | 'absent';

/** Bytes received on one leg during its key exchange, with RC4 applied lazily from a point on. */
export class Inbox {
  private buf = new Uint8Array(1024);
  private len = 0;
  private pos = 0;
  private dec: Rc4 | undefined;
  private decEnd = 0;

  /** False when the handshake grows past its bound (the caller gives up on the leg). */
  append(b: Uint8Array): boolean {
    if (this.len + b.length > MAX_HANDSHAKE_BYTES) return false;
    if (this.len + b.length > this.buf.length) {
      const next = new Uint8Array(Math.min(MAX_HANDSHAKE_BYTES, Math.max(this.len + b.length, this.buf.length * 2)));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(b, this.len);
    this.len += b.length;
    return true;
  }

  get avail(): number {
    return this.len - this.pos;
  }

  /**
   * Reads past `pattern`, which follows at most `maxSkip` bytes of padding (the spec's way to find
   * where a random-length pad ends): 'wait' while it may still arrive, 'absent' once it cannot.
   */
  skipPast(pattern: Uint8Array, maxSkip: number): Seek {
    const at = indexOf(this.buf, pattern, this.pos, this.len);
    if (at < 0) return this.avail > maxSkip + pattern.length ? 'absent' : 'wait';
    this.pos = at + pattern.length;
    return 'found';
  }

  /** Everything from here on is decrypted with `rc4` as it is read. */
  decryptFrom(rc4: Rc4): void {
    this.dec = rc4;
    this.decEnd = this.pos;
  }

  take(n: number): Uint8Array {
    if (this.dec !== undefined && this.decEnd < this.pos + n) {
      this.dec.apply(this.buf.subarray(this.decEnd, this.pos + n));
      this.decEnd = this.pos + n;
    }
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** What is left once the exchange is over: the start of the payload (decrypted when `rc4`). */
  rest(rc4: boolean): Uint8Array {
    return rc4 ? this.take(this.avail) : this.buf.slice(this.pos, this.len);
  }
}
