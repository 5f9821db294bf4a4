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
import type { Dir } from '../model/record.js';
import type { Rc4 } from '../bittorrent/rc4.js';
import { knownPlaintext, MSE_KEY_LENGTH, MSE_MAX_PAD } from '../bittorrent/mse.js';
import { HANDSHAKE_PREFIX } from '../bittorrent/wire.js';
import {
  concat,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  equal,
  Inbox,
  keyFlight,
  legCipher,
  newKeyPair,
  obfuscatedSkey,
  readU16,
  readU32,
  sha1,
  sharedSecret,
  skeyByLibtorrentMask,
  u16,
  u32,
  VC,
  type KeyPair,
} from './mse-handshake.js';

export { CRYPTO_PLAINTEXT, CRYPTO_RC4, MSE_PRIME } from './mse-handshake.js';

/** Client plaintext held while the target leg negotiates (a peer sends little before the answer). */
const MAX_PENDING = 4 * 1024 * 1024;
/** Bytes that show whether a connection opens with a known plaintext protocol (see knownPlaintext). */
const PLAINTEXT_SNIFF = 12;

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
  /** Plaintext of this direction, in order (what the decoder gets; never written to by its reader). */
  plain: readonly Uint8Array[];
}

/** Nothing to pass on yet (the exchange waits for more bytes): shared, never written to. */
const WAITING: PushResult = Object.freeze({ ok: true, plain: Object.freeze([]) as readonly Uint8Array[] });

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
  /** The client named the torrent with libtorrent 2.0's req3 mask, not the spec's (said when terminated). */
  private clientQuirk = '';
  // target leg (we are the initiator)
  private tStage: TargetStage = 'idle';
  private readonly tIn = new Inbox();
  private tDh: KeyPair | undefined;
  private tSecret: Uint8Array = new Uint8Array(0);
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

  /** Chunks are forwarded as they are, neither held nor rewritten (plain, or relayed untouched). */
  get passesThrough(): boolean {
    return this.mode === 'plain' || this.mode === 'opaque';
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
        return WAITING;
      case 'detect':
        return dir === 0 ? this.detect(chunk) : { ok: this.hooks.send('client', chunk), plain: [chunk] };
      case 'mse':
        return dir === 0 ? this.fromClient(chunk) : this.fromTarget(chunk);
    }
  }

  /**
   * A side ended. The client, before saying enough to tell plaintext from MSE: pass on what it said.
   * The target, during our exchange with it: say so, and why when it is likely libtorrent's mask.
   */
  end(dir: Dir): Uint8Array[] {
    if (this.mode === 'mse' && dir === 1 && this.tStage !== 'idle' && this.tStage !== 'payload') {
      this.fail(this.targetClosedWhy());
      return [];
    }
    if (this.mode !== 'detect' || dir !== 0 || this.headLen === 0) return [];
    this.mode = 'plain';
    const head = this.head.slice(0, this.headLen);
    this.hooks.send('target', head);
    return [head];
  }

  private targetClosedWhy(): string {
    const closed = 'the target closed the connection during the MSE exchange';
    if (this.tStage === 'yb') return `${closed}, before sending its key`;
    // A leading zero byte is where libtorrent's req3 mask differs from the spec's (skeyByLibtorrentMask).
    if (this.tSecret[0] !== 0) return `${closed}, after our obfuscated info hash, before selecting a crypto method`;
    return `${closed}, after our obfuscated info hash: the shared secret begins with a zero byte, which libtorrent 2.0 leaves out of its req3 mask, so a libtorrent target finds no torrent and closes (about 1 exchange in 256); the client's next connection uses new keys`;
  }

  // ---- which kind of connection ----------------------------------------------------------------

  private detect(chunk: Uint8Array): PushResult {
    const take = Math.min(HANDSHAKE_PREFIX.length - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
    let matches = true;
    for (let i = 0; i < this.headLen; i++) if (this.head[i] !== HANDSHAKE_PREFIX[i]) matches = false;
    if (matches && this.headLen < HANDSHAKE_PREFIX.length) return WAITING;
    const all = concat(this.head.subarray(0, this.headLen), chunk.subarray(take));
    // A key exchange sends at least 96 bytes at once; a few bytes more tell a text protocol from it.
    if (!matches && this.skeys.length > 0 && all.length < PLAINTEXT_SNIFF && !knownPlaintext(all)) {
      this.headLen = all.length;
      return WAITING;
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

  /**
   * Reads past `pattern`, which follows the peer's random padding (see Inbox.skipPast): undefined
   * once found, else what push answers (wait for more, or give up with `missing`).
   */
  private skipPast(inb: Inbox, pattern: Uint8Array, missing: string): PushResult | undefined {
    const found = inb.skipPast(pattern, MSE_MAX_PAD);
    return found === 'found' ? undefined : found === 'wait' ? WAITING : this.fail(missing);
  }

  private fail(message: string): PushResult {
    this.mode = 'failed';
    this.hooks.note('failed', message);
    return WAITING;
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
          if (inb.avail < MSE_KEY_LENGTH) return WAITING;
          const dh = newKeyPair();
          const secret = sharedSecret(dh, inb.take(MSE_KEY_LENGTH));
          if (secret === undefined) return this.fail('the client sent an invalid MSE public key');
          this.cSecret = secret;
          this.cReq1 = sha1('req1', secret);
          this.hooks.send('client', keyFlight(dh));
          this.cStage = 'req1';
          break;
        }
        case 'req1': {
          const waiting = this.skipPast(inb, this.cReq1, 'no MSE req1 hash from the client: not an MSE connection');
          if (waiting !== undefined) return waiting;
          this.cStage = 'skey';
          break;
        }
        case 'skey': {
          if (inb.avail < 20) return WAITING;
          const x = inb.take(20);
          const secret = this.cSecret;
          this.skey = this.skeys.find((k) => equal(obfuscatedSkey(secret, k), x));
          if (this.skey === undefined) {
            this.skey = skeyByLibtorrentMask(secret, x, this.skeys);
            if (this.skey !== undefined) this.clientQuirk = "; the client named the torrent with libtorrent 2.0's req3 mask (the shared secret hashed without its leading zero byte), not the spec's: accepted";
          }
          if (this.skey === undefined) return this.fail('encrypted connection (MSE/PE) for an info hash the proxy was not given: closed');
          this.cDec = legCipher('keyA', secret, this.skey);
          this.cEnc = legCipher('keyB', secret, this.skey);
          inb.decryptFrom(this.cDec);
          this.cStage = 'vc';
          break;
        }
        case 'vc': {
          if (inb.avail < 14) return WAITING;
          const h = inb.take(14);
          if (!equal(h.subarray(0, 8), VC)) return this.fail('MSE verification constant from the client is wrong');
          this.cProvide = readU32(h, 8);
          this.cPadC = readU16(h, 12);
          if (this.cPadC > MSE_MAX_PAD) return this.fail(`MSE PadC of ${this.cPadC} bytes from the client`);
          this.cSelect = this.cProvide & CRYPTO_RC4 ? CRYPTO_RC4 : this.cProvide & CRYPTO_PLAINTEXT ? CRYPTO_PLAINTEXT : 0;
          if (this.cSelect === 0) return this.fail(`the client offers no known MSE crypto method (crypto_provide ${this.cProvide})`);
          this.cStage = 'padc';
          break;
        }
        case 'padc':
          if (inb.avail < this.cPadC) return WAITING;
          inb.take(this.cPadC);
          this.cStage = 'lenia';
          break;
        case 'lenia': {
          if (inb.avail < 2) return WAITING;
          this.cLenIA = readU16(inb.take(2), 0);
          this.cStage = 'ia';
          break;
        }
        case 'ia': {
          if (inb.avail < this.cLenIA) return WAITING;
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
          return WAITING;
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
    this.tDh = newKeyPair();
    this.hooks.send('target', keyFlight(this.tDh));
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
          if (inb.avail < MSE_KEY_LENGTH) return WAITING;
          const secret = sharedSecret(this.tDh!, inb.take(MSE_KEY_LENGTH));
          if (secret === undefined) return this.fail('the target sent an invalid MSE public key');
          this.tSecret = secret;
          const skey = this.skey!;
          this.tEnc = legCipher('keyA', secret, skey);
          this.tDec = legCipher('keyB', secret, skey);
          this.tVcPattern = legCipher('keyB', secret, skey).copy(VC);
          // The target's leg is negotiated on its own: it may pick either method.
          const header = this.tEnc.copy(concat(VC, u32(CRYPTO_PLAINTEXT | CRYPTO_RC4), u16(0), u16(0)));
          this.hooks.send('target', concat(sha1('req1', secret), obfuscatedSkey(secret, skey), header));
          this.tStage = 'vc';
          break;
        }
        case 'vc': {
          const waiting = this.skipPast(inb, this.tVcPattern, 'no MSE verification constant from the target');
          if (waiting !== undefined) return waiting;
          this.tDec!.apply(new Uint8Array(8));
          inb.decryptFrom(this.tDec!);
          this.tStage = 'select';
          break;
        }
        case 'select': {
          if (inb.avail < 6) return WAITING;
          const h = inb.take(6);
          this.tSelect = readU32(h, 0);
          this.tPadD = readU16(h, 4);
          if (this.tSelect !== CRYPTO_RC4 && this.tSelect !== CRYPTO_PLAINTEXT) {
            return this.fail(`the target selected MSE crypto method ${this.tSelect}, which was not offered`);
          }
          if (this.tPadD > MSE_MAX_PAD) return this.fail(`MSE PadD of ${this.tPadD} bytes from the target`);
          this.tStage = 'padd';
          break;
        }
        case 'padd': {
          if (inb.avail < this.tPadD) return WAITING;
          inb.take(this.tPadD);
          const rest = inb.rest(this.tSelect === CRYPTO_RC4);
          this.tStage = 'payload';
          const name = (m: number): string => (m === CRYPTO_RC4 ? 'RC4' : 'plaintext');
          this.hooks.note('terminated', `MSE/PE terminated by the proxy: client leg ${name(this.cSelect)}, target leg ${name(this.tSelect)}${this.clientQuirk}`);
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
          return WAITING;
      }
    }
  }
}
