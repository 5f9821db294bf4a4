// The proxy's side of Message Stream Encryption (MSE/PE): it terminates the key exchange on both
// legs, as responder to the client and initiator to the target, with the info hash as the shared
// secret (SKEY), so that the decoder sees the plaintext of an encrypted session. The two legs
// negotiate independently (each RC4 or plaintext) and bytes are re-encrypted on the way out.
// Sans-I/O: fed the bytes each socket delivered, it calls `send` and returns the plaintext.
//
// The exchange (A = initiator, B = responder; ENCRYPT = RC4 keyed SHA1('keyA'|'keyB', S, SKEY), the
// first 1024 bytes of keystream discarded):
//   A->B  Ya, PadA
//   B->A  Yb, PadB
//   A->B  SHA1('req1', S), SHA1('req2', SKEY) xor SHA1('req3', S),
//         ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
//   A->B  ENCRYPT2(payload)          (ENCRYPT2 is RC4 or nothing, as crypto_select says)
import { createDiffieHellman, createHash, randomBytes, randomInt } from 'node:crypto';
import type { Dir } from '../model/record.js';
import { Rc4 } from '../bittorrent/rc4.js';
import { knownPlaintext } from '../bittorrent/mse.js';
import { HANDSHAKE_PREFIX } from '../bittorrent/wire.js';

/** The 768-bit prime of the MSE spec; the generator is 2. */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
);
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
const KEY_LENGTH = 96;
const MAX_PAD = 512;
const VC = new Uint8Array(8);
/** Client plaintext held while the target leg negotiates (a peer sends little before the answer). */
const MAX_PENDING = 4 * 1024 * 1024;
/** Handshake bytes held per leg: key, pad, hashes, header, PadC, and an IA of at most 64 KiB. */
/** Bytes that show whether a connection opens with a known plaintext protocol (see knownPlaintext). */
const PLAINTEXT_SNIFF = 12;
const MAX_HANDSHAKE_BYTES = KEY_LENGTH + MAX_PAD + 40 + 14 + MAX_PAD + 2 + 65535;

export type BridgeMode = 'detect' | 'plain' | 'opaque' | 'mse' | 'failed';

export interface BridgeHooks {
  /** Bytes for the client (dir 1) or the target (dir 0); returns false when that socket is full. */
  send(to: 'client' | 'target', bytes: Uint8Array): boolean;
  /** A word for the user: the session is decrypted, cannot be, or failed. */
  note(kind: 'terminated' | 'opaque' | 'failed', message: string): void;
}

export interface PushResult {
  /** The forwarding write was accepted without filling the socket. */
  ok: boolean;
  /** Plaintext of this direction, in order (what the decoder gets). */
  plain: Uint8Array[];
}

const sha1 = (...parts: Array<string | Uint8Array>): Uint8Array => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** DH values as 96-byte big-endian numbers (node drops leading zero bytes). */
function pad96(b: Uint8Array): Uint8Array {
  if (b.length === KEY_LENGTH) return new Uint8Array(b);
  const out = new Uint8Array(KEY_LENGTH);
  out.set(b.subarray(Math.max(0, b.length - KEY_LENGTH)), Math.max(0, KEY_LENGTH - b.length));
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number, end: number): number {
  outer: for (let i = from; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Bytes received on one leg during its key exchange, with RC4 applied lazily from a point on. */
class Inbox {
  buf = new Uint8Array(1024);
  len = 0;
  pos = 0;
  private dec: Rc4 | undefined;
  private decEnd = 0;

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

type ClientStage = 'ya' | 'req1' | 'skey' | 'vc' | 'padc' | 'lenia' | 'ia' | 'payload';
type TargetStage = 'idle' | 'yb' | 'vc' | 'select' | 'padd' | 'payload';

export class MseBridge {
  mode: BridgeMode = 'detect';
  private readonly head = new Uint8Array(HANDSHAKE_PREFIX.length);
  private headLen = 0;
  // client leg (we are the responder)
  private cStage: ClientStage = 'ya';
  private readonly cIn = new Inbox();
  private cSecret: Uint8Array = new Uint8Array(0);
  private cReq1: Uint8Array = new Uint8Array(0);
  private cDec: Rc4 | undefined;
  private cEnc: Rc4 | undefined;
  private cSelect = 0;
  private cProvide = 0;
  private cPadC = 0;
  private cLenIA = 0;
  private skey: Uint8Array | undefined;
  // target leg (we are the initiator)
  private tStage: TargetStage = 'idle';
  private readonly tIn = new Inbox();
  private tDh: ReturnType<typeof createDiffieHellman> | undefined;
  private tDec: Rc4 | undefined;
  private tEnc: Rc4 | undefined;
  private tVcPattern: Uint8Array = new Uint8Array(0);
  private tSelect = 0;
  private tPadD = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly skeys: readonly Uint8Array[],
    private readonly hooks: BridgeHooks,
  ) {}

  /** Client plaintext held until the target leg has negotiated. */
  get held(): number {
    return this.pendingBytes;
  }

  /** Whether the session's plaintext is visible (plain, or MSE terminated here). */
  get readable(): boolean {
    return this.mode === 'plain' || this.mode === 'mse';
  }

  push(dir: Dir, chunk: Uint8Array): PushResult {
    switch (this.mode) {
      case 'plain':
      case 'opaque':
        return { ok: this.hooks.send(dir === 0 ? 'target' : 'client', chunk), plain: [chunk] };
      case 'failed':
        return { ok: true, plain: [] };
      case 'detect':
        return dir === 0 ? this.detect(chunk) : { ok: this.hooks.send('client', chunk), plain: [chunk] };
      case 'mse':
        return dir === 0 ? this.fromClient(chunk) : this.fromTarget(chunk);
    }
  }

  /** The client ended its side before saying enough to tell plaintext from MSE: pass on what it said. */
  end(dir: Dir): Uint8Array[] {
    if (this.mode !== 'detect' || dir !== 0 || this.headLen === 0) return [];
    this.mode = 'plain';
    const head = this.head.slice(0, this.headLen);
    this.hooks.send('target', head);
    return [head];
  }

  // ---- which kind of connection ----------------------------------------------------------------

  private detect(chunk: Uint8Array): PushResult {
    const take = Math.min(HANDSHAKE_PREFIX.length - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
    let matches = true;
    for (let i = 0; i < this.headLen; i++) if (this.head[i] !== HANDSHAKE_PREFIX[i]) matches = false;
    if (matches && this.headLen < HANDSHAKE_PREFIX.length) return { ok: true, plain: [] };
    const all = concat(this.head.subarray(0, this.headLen), chunk.subarray(take));
    // A key exchange sends at least 96 bytes at once; a few bytes more tell a text protocol from it.
    if (!matches && this.skeys.length > 0 && all.length < PLAINTEXT_SNIFF && !knownPlaintext(all)) {
      this.headLen = all.length;
      return { ok: true, plain: [] };
    }
    if (matches || knownPlaintext(all)) {
      this.mode = 'plain';
      return { ok: this.hooks.send('target', all), plain: [all] };
    }
    if (this.skeys.length === 0) {
      this.mode = 'opaque';
      this.hooks.note('opaque', 'encrypted connection (MSE/PE) relayed untouched: it cannot be read without its info hash (--torrent or --info-hash)');
      return { ok: this.hooks.send('target', all), plain: [all] };
    }
    this.mode = 'mse';
    return this.fromClient(all);
  }

  private fail(message: string): PushResult {
    this.mode = 'failed';
    this.hooks.note('failed', message);
    return { ok: true, plain: [] };
  }

  // ---- client leg: responder ---------------------------------------------------------------------

  private fromClient(chunk: Uint8Array): PushResult {
    if (this.cStage === 'payload') {
      const plain = this.cSelect === CRYPTO_RC4 ? this.cDec!.copy(chunk) : chunk;
      return { ok: this.toTarget(plain), plain: [plain] };
    }
    if (!this.cIn.append(chunk)) return this.fail('MSE handshake from the client is too long');
    return this.clientHandshake();
  }

  private clientHandshake(): PushResult {
    const inb = this.cIn;
    for (;;) {
      switch (this.cStage) {
        case 'ya': {
          if (inb.avail < KEY_LENGTH) return { ok: true, plain: [] };
          const ya = inb.take(KEY_LENGTH);
          const dh = createDiffieHellman(MSE_PRIME, 2);
          dh.generateKeys();
          try {
            this.cSecret = pad96(dh.computeSecret(ya));
          } catch {
            return this.fail('the client sent an invalid MSE public key');
          }
          this.cReq1 = sha1('req1', this.cSecret);
          this.hooks.send('client', concat(pad96(dh.getPublicKey()), randomBytes(randomInt(0, MAX_PAD + 1))));
          this.cStage = 'req1';
          break;
        }
        case 'req1': {
          const at = indexOf(inb.buf, this.cReq1, inb.pos, inb.len);
          if (at < 0) {
            if (inb.avail > MAX_PAD + 20) return this.fail('no MSE req1 hash from the client: not an MSE connection');
            return { ok: true, plain: [] };
          }
          inb.pos = at + 20;
          this.cStage = 'skey';
          break;
        }
        case 'skey': {
          if (inb.avail < 20) return { ok: true, plain: [] };
          const x = inb.take(20);
          const req3 = sha1('req3', this.cSecret);
          for (let i = 0; i < 20; i++) x[i] = x[i]! ^ req3[i]!;
          this.skey = this.skeys.find((k) => equal(sha1('req2', k), x));
          if (this.skey === undefined) return this.fail('encrypted connection (MSE/PE) for an info hash the proxy was not given: closed');
          this.cDec = new Rc4(sha1('keyA', this.cSecret, this.skey));
          this.cEnc = new Rc4(sha1('keyB', this.cSecret, this.skey));
          inb.decryptFrom(this.cDec);
          this.cStage = 'vc';
          break;
        }
        case 'vc': {
          if (inb.avail < 14) return { ok: true, plain: [] };
          const h = inb.take(14);
          if (!equal(h.subarray(0, 8), VC)) return this.fail('MSE verification constant from the client is wrong');
          this.cProvide = ((h[8]! << 24) | (h[9]! << 16) | (h[10]! << 8) | h[11]!) >>> 0;
          this.cPadC = (h[12]! << 8) | h[13]!;
          if (this.cPadC > MAX_PAD) return this.fail(`MSE PadC of ${this.cPadC} bytes from the client`);
          this.cSelect = this.cProvide & CRYPTO_RC4 ? CRYPTO_RC4 : this.cProvide & CRYPTO_PLAINTEXT ? CRYPTO_PLAINTEXT : 0;
          if (this.cSelect === 0) return this.fail(`the client offers no known MSE crypto method (crypto_provide ${this.cProvide})`);
          this.cStage = 'padc';
          break;
        }
        case 'padc':
          if (inb.avail < this.cPadC) return { ok: true, plain: [] };
          inb.take(this.cPadC);
          this.cStage = 'lenia';
          break;
        case 'lenia': {
          if (inb.avail < 2) return { ok: true, plain: [] };
          const l = inb.take(2);
          this.cLenIA = (l[0]! << 8) | l[1]!;
          this.cStage = 'ia';
          break;
        }
        case 'ia': {
          if (inb.avail < this.cLenIA) return { ok: true, plain: [] };
          const ia = inb.take(this.cLenIA);
          const rest = inb.rest(this.cSelect === CRYPTO_RC4);
          this.cStage = 'payload';
          this.hooks.send('client', this.cEnc!.copy(concat(VC, u32(this.cSelect), u16(0))));
          this.startTarget();
          const plain = concat(ia, rest);
          this.toTarget(plain);
          return { ok: true, plain: [plain] };
        }
        case 'payload':
          return { ok: true, plain: [] };
      }
    }
  }

  /** Client plaintext for the target: held until the target leg has negotiated. */
  private toTarget(plain: Uint8Array): boolean {
    if (this.tStage === 'payload') return this.hooks.send('target', this.tSelect === CRYPTO_RC4 ? this.tEnc!.copy(plain) : plain);
    if (plain.length === 0) return true;
    this.pendingBytes += plain.length;
    if (this.pendingBytes > MAX_PENDING) {
      this.fail('the target did not finish the MSE handshake before the client sent 4 MiB');
      return true;
    }
    this.pending.push(plain);
    return true;
  }

  // ---- target leg: initiator -----------------------------------------------------------------------

  private startTarget(): void {
    // The client's IA (its handshake) is forwarded as the first payload bytes, not as our IA: the
    // target's leg may select plaintext, and an empty IA is what every client accepts.
    this.tDh = createDiffieHellman(MSE_PRIME, 2);
    this.tDh.generateKeys();
    this.hooks.send('target', concat(pad96(this.tDh.getPublicKey()), randomBytes(randomInt(0, MAX_PAD + 1))));
    this.tStage = 'yb';
  }

  private fromTarget(chunk: Uint8Array): PushResult {
    if (this.tStage === 'payload') {
      const plain = this.tSelect === CRYPTO_RC4 ? this.tDec!.copy(chunk) : chunk;
      return { ok: this.toClient(plain), plain: [plain] };
    }
    if (this.tStage === 'idle') return this.fail('the target spoke before the client finished its MSE handshake');
    if (!this.tIn.append(chunk)) return this.fail('MSE handshake from the target is too long');
    return this.targetHandshake();
  }

  private toClient(plain: Uint8Array): boolean {
    return this.hooks.send('client', this.cSelect === CRYPTO_RC4 ? this.cEnc!.copy(plain) : plain);
  }

  private targetHandshake(): PushResult {
    const inb = this.tIn;
    for (;;) {
      switch (this.tStage) {
        case 'yb': {
          if (inb.avail < KEY_LENGTH) return { ok: true, plain: [] };
          const yb = inb.take(KEY_LENGTH);
          let secret: Uint8Array;
          try {
            secret = pad96(this.tDh!.computeSecret(yb));
          } catch {
            return this.fail('the target sent an invalid MSE public key');
          }
          const skey = this.skey!;
          this.tEnc = new Rc4(sha1('keyA', secret, skey));
          this.tDec = new Rc4(sha1('keyB', secret, skey));
          this.tVcPattern = new Rc4(sha1('keyB', secret, skey)).copy(VC);
          const req2 = sha1('req2', skey);
          const req3 = sha1('req3', secret);
          for (let i = 0; i < 20; i++) req2[i] = req2[i]! ^ req3[i]!;
          // The target's leg is negotiated on its own: it may pick either method.
          const header = this.tEnc.copy(concat(VC, u32(CRYPTO_PLAINTEXT | CRYPTO_RC4), u16(0), u16(0)));
          this.hooks.send('target', concat(sha1('req1', secret), req2, header));
          this.tStage = 'vc';
          break;
        }
        case 'vc': {
          const at = indexOf(inb.buf, this.tVcPattern, inb.pos, inb.len);
          if (at < 0) {
            if (inb.avail > MAX_PAD + 8) return this.fail('no MSE verification constant from the target');
            return { ok: true, plain: [] };
          }
          inb.pos = at + 8;
          this.tDec!.apply(new Uint8Array(8));
          inb.decryptFrom(this.tDec!);
          this.tStage = 'select';
          break;
        }
        case 'select': {
          if (inb.avail < 6) return { ok: true, plain: [] };
          const h = inb.take(6);
          this.tSelect = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
          this.tPadD = (h[4]! << 8) | h[5]!;
          if (this.tSelect !== CRYPTO_RC4 && this.tSelect !== CRYPTO_PLAINTEXT) {
            return this.fail(`the target selected MSE crypto method ${this.tSelect}, which was not offered`);
          }
          if (this.tPadD > MAX_PAD) return this.fail(`MSE PadD of ${this.tPadD} bytes from the target`);
          this.tStage = 'padd';
          break;
        }
        case 'padd': {
          if (inb.avail < this.tPadD) return { ok: true, plain: [] };
          inb.take(this.tPadD);
          const rest = inb.rest(this.tSelect === CRYPTO_RC4);
          this.tStage = 'payload';
          const name = (m: number): string => (m === CRYPTO_RC4 ? 'RC4' : 'plaintext');
          this.hooks.note('terminated', `MSE/PE terminated by the proxy: client leg ${name(this.cSelect)}, target leg ${name(this.tSelect)}`);
          // `ok` is about the socket this push forwards to, the client's: were it the target's (full of
          // the held client bytes), the relay would wait for a drain the client's socket never emits.
          // A full target socket pauses the client at its next write.
          for (const p of this.pending) this.toTarget(p);
          this.pending = [];
          this.pendingBytes = 0;
          const ok = rest.length > 0 ? this.toClient(rest) : true;
          return { ok, plain: rest.length > 0 ? [rest] : [] };
        }
        default:
          return { ok: true, plain: [] };
      }
    }
  }
}
