// The proxy's MSE/PE termination, sans-I/O: a reference client (initiator) and target (responder)
// written straight from the spec talk to the bridge in memory; every chunking of the exchange works,
// each leg negotiates on its own, and unknown or hostile input ends in a note, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDiffieHellman, createHash, randomBytes } from 'node:crypto';
import { CRYPTO_PLAINTEXT, CRYPTO_RC4, MSE_PRIME, MseBridge } from '../../src/proxy/mse-bridge.js';
import { Rc4 } from '../../src/bittorrent/rc4.js';
import { concat, extHandshake, handshake, have, msg } from '../support/bt-bytes.js';
import { TLS_LIKE_MSE_PRIVATE_KEY } from '../support/mse-keys.js';

const SKEY = new Uint8Array(20).fill(0xab);
const sha1 = (...p: Array<string | Uint8Array>): Uint8Array => {
  const h = createHash('sha1');
  for (const x of p) h.update(x);
  return new Uint8Array(h.digest());
};
const pad96 = (b: Uint8Array): Uint8Array => concat(new Uint8Array(96 - b.length), b);
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of(0, 0, 0, n);
const VC = new Uint8Array(8);
const find = (hay: Uint8Array, needle: Uint8Array): number => Buffer.from(hay).indexOf(Buffer.from(needle));

/**
 * The reference peers' Diffie-Hellman, with its own node object (not the bridge's): one object given
 * each key in turn, since createDiffieHellman checks the prime each time (16 ms).
 */
const refEngine = createDiffieHellman(MSE_PRIME, 2);
refEngine.generateKeys();
class RefDh {
  constructor(private readonly priv: Uint8Array = randomBytes(96)) {}
  getPublicKey(): Uint8Array {
    refEngine.setPrivateKey(this.priv);
    return refEngine.generateKeys();
  }
  computeSecret(theirs: Uint8Array): Uint8Array {
    refEngine.setPrivateKey(this.priv);
    return refEngine.computeSecret(theirs);
  }
  generateKeys(): void {}
}

/** A spec MSE initiator: returns its first flight; `receive` takes the responder's bytes. */
class RefInitiator {
  private readonly dh: RefDh;
  private inbox: Uint8Array = new Uint8Array(0);
  private dec: Rc4 | undefined;
  private enc: Rc4 | undefined;
  private vcPattern: Uint8Array | undefined;
  select = 0;
  ready = false;
  plain: Uint8Array = new Uint8Array(0);

  /** The shared secret, once the responder's key came. */
  secret: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly skey: Uint8Array,
    private readonly provide: number,
    private readonly ia: Uint8Array,
    /** Name the torrent as libtorrent 2.0 does: req3 over S without its leading zero bytes, then this byte. */
    private readonly libtorrentTail?: number,
    /** The Diffie-Hellman private key, when not a random one. */
    privateKey?: Uint8Array,
  ) {
    this.dh = new RefDh(privateKey);
  }

  private req3(s: Uint8Array): Uint8Array {
    if (this.libtorrentTail === undefined || s[0] !== 0) return sha1('req3', s);
    let zeros = 0;
    while (s[zeros] === 0) zeros++;
    return sha1('req3', concat(s.subarray(zeros), new Uint8Array(zeros).fill(this.libtorrentTail)));
  }

  hello(): Uint8Array {
    return concat(pad96(this.dh.getPublicKey()), new Uint8Array(33).fill(7));
  }

  /** Bytes from the responder; returns bytes to send it. */
  receive(b: Uint8Array): Uint8Array {
    if (this.ready) {
      this.plain = concat(this.plain, this.select === CRYPTO_RC4 ? this.dec!.copy(b) : b);
      return new Uint8Array(0);
    }
    this.inbox = concat(this.inbox, b);
    let out: Uint8Array = new Uint8Array(0);
    if (this.enc === undefined && this.inbox.length >= 96) {
      const s = pad96(this.dh.computeSecret(this.inbox.subarray(0, 96)));
      this.secret = s;
      this.enc = new Rc4(sha1('keyA', s, this.skey));
      this.dec = new Rc4(sha1('keyB', s, this.skey));
      this.vcPattern = new Rc4(sha1('keyB', s, this.skey)).copy(VC);
      const x = sha1('req2', this.skey).map((v, i) => v ^ this.req3(s)[i]!);
      out = concat(sha1('req1', s), x, this.enc.copy(concat(VC, u32(this.provide), u16(5), new Uint8Array(5), u16(this.ia.length), this.ia)));
      this.inbox = this.inbox.subarray(96);
    }
    if (this.vcPattern !== undefined) {
      const at = find(this.inbox, this.vcPattern);
      if (at >= 0 && this.inbox.length >= at + 14) {
        this.dec!.apply(new Uint8Array(8));
        const h = this.dec!.copy(this.inbox.subarray(at + 8, at + 14));
        this.select = h[3]!;
        const padD = (h[4]! << 8) | h[5]!;
        if (this.inbox.length >= at + 14 + padD) {
          this.dec!.apply(new Uint8Array(padD));
          this.ready = true;
          const rest = this.inbox.subarray(at + 14 + padD);
          this.inbox = new Uint8Array(0);
          if (rest.length > 0) this.receive(rest);
        }
      }
    }
    return out;
  }

  send(plain: Uint8Array): Uint8Array {
    return this.select === CRYPTO_RC4 ? this.enc!.copy(plain) : plain;
  }
}

/** A spec MSE responder that selects `prefer` when offered. */
class RefResponder {
  private readonly dh = new RefDh();
  private inbox: Uint8Array = new Uint8Array(0);
  /** The shared secret, once the initiator's key came. */
  s: Uint8Array | undefined;
  private dec: Rc4 | undefined;
  private enc: Rc4 | undefined;
  select = 0;
  ready = false;
  plain: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly skey: Uint8Array,
    private readonly prefer: number,
  ) {
    this.dh.generateKeys();
  }

  receive(b: Uint8Array): Uint8Array {
    if (this.ready) {
      this.plain = concat(this.plain, this.select === CRYPTO_RC4 ? this.dec!.copy(b) : b);
      return new Uint8Array(0);
    }
    this.inbox = concat(this.inbox, b);
    let out: Uint8Array = new Uint8Array(0);
    if (this.s === undefined && this.inbox.length >= 96) {
      this.s = pad96(this.dh.computeSecret(this.inbox.subarray(0, 96)));
      out = concat(pad96(this.dh.getPublicKey()), new Uint8Array(100).fill(3));
    }
    if (this.s !== undefined && this.dec === undefined) {
      const at = find(this.inbox, sha1('req1', this.s));
      if (at >= 0 && this.inbox.length >= at + 40) {
        const x = this.inbox.subarray(at + 20, at + 40).map((v, i) => v ^ sha1('req3', this.s!)[i]!);
        assert.deepEqual(x, sha1('req2', this.skey));
        this.dec = new Rc4(sha1('keyA', this.s, this.skey));
        this.enc = new Rc4(sha1('keyB', this.s, this.skey));
        this.inbox = this.inbox.slice(at + 40);
        this.dec.apply(this.inbox);
      }
    } else if (this.dec !== undefined) {
      this.dec.apply(this.inbox.subarray(this.inbox.length - b.length));
    }
    if (this.dec !== undefined && this.inbox.length >= 14) {
      const provide = this.inbox[11]!;
      const padC = (this.inbox[12]! << 8) | this.inbox[13]!;
      if (this.inbox.length >= 16 + padC) {
        const lenIA = (this.inbox[14 + padC]! << 8) | this.inbox[15 + padC]!;
        assert.equal(lenIA, 0);
        this.select = provide & this.prefer ? this.prefer : provide & CRYPTO_RC4 ? CRYPTO_RC4 : CRYPTO_PLAINTEXT;
        this.ready = true;
        out = concat(out, this.enc!.copy(concat(VC, u32(this.select), u16(9), new Uint8Array(9))));
        // The proxy sends nothing after its header before this answer, so nothing was decrypted that
        // should have stayed plain.
        assert.equal(this.inbox.length, 16 + padC);
      }
    }
    return out;
  }

  send(plain: Uint8Array): Uint8Array {
    return this.select === CRYPTO_RC4 ? this.enc!.copy(plain) : plain;
  }
}

const clientStream = concat(handshake(), extHandshake({ m: { lt_donthave: 7 } }), msg(2), have(1));
const targetStream = concat(handshake({ peerId: '-LT2080-zzzzzzzzzzzz' }), extHandshake({ m: { lt_donthave: 7 } }), msg(1), have(3));

function session(clientProvide: number, targetPrefer: number, split: number, ia = clientStream.subarray(0, 68), libtorrentTail?: number, clientKey?: Uint8Array): { client: RefInitiator; target: RefResponder; bridge: MseBridge; plainUp: Uint8Array; plainDown: Uint8Array; notes: string[] } {
  const client = new RefInitiator(SKEY, clientProvide, ia, libtorrentTail, clientKey);
  const target = new RefResponder(SKEY, targetPrefer);
  const toClient: Uint8Array[] = [];
  const toTarget: Uint8Array[] = [];
  const notes: string[] = [];
  const bridge = new MseBridge([new Uint8Array(20).fill(1), SKEY], {
    send: (to, b) => ((to === 'client' ? toClient : toTarget).push(Uint8Array.from(b)), true),
    note: (kind, m) => notes.push(`${kind}: ${m}`),
  });
  let plainUp: Uint8Array = new Uint8Array(0);
  let plainDown: Uint8Array = new Uint8Array(0);
  const push = (dir: 0 | 1, b: Uint8Array): void => {
    const step = split > 0 ? split : b.length;
    for (let i = 0; i < b.length; i += step) {
      for (const p of bridge.push(dir, b.subarray(i, i + step)).plain) {
        if (dir === 0) plainUp = concat(plainUp, p);
        else plainDown = concat(plainDown, p);
      }
    }
  };
  push(0, client.hello());
  let sentRest = false;
  for (let round = 0; round < 20; round++) {
    let moved = false;
    while (toClient.length > 0) {
      moved = true;
      const reply = client.receive(toClient.shift()!);
      if (reply.length > 0) push(0, reply);
    }
    while (toTarget.length > 0) {
      moved = true;
      const reply = target.receive(toTarget.shift()!);
      if (reply.length > 0) push(1, reply);
    }
    if (client.ready && target.ready && !sentRest) {
      sentRest = true;
      moved = true;
      push(0, client.send(clientStream.subarray(ia.length)));
      push(1, target.send(targetStream));
    }
    if (!moved) break;
  }
  return { client, target, bridge, plainUp, plainDown, notes };
}

test('both legs negotiate on their own; the plaintext passes both ways and to the decoder', () => {
  const cases: Array<[number, number, number, number]> = [
    [CRYPTO_RC4 | CRYPTO_PLAINTEXT, CRYPTO_PLAINTEXT, CRYPTO_RC4, CRYPTO_PLAINTEXT],
    [CRYPTO_RC4, CRYPTO_RC4, CRYPTO_RC4, CRYPTO_RC4],
    [CRYPTO_PLAINTEXT, CRYPTO_RC4, CRYPTO_PLAINTEXT, CRYPTO_RC4],
    [CRYPTO_PLAINTEXT, CRYPTO_PLAINTEXT, CRYPTO_PLAINTEXT, CRYPTO_PLAINTEXT],
  ];
  for (const [provide, prefer, clientLeg, targetLeg] of cases) {
    for (const split of [0, 1, 7, 96, 97]) {
      const s = session(provide, prefer, split);
      const what = `provide ${provide}, target prefers ${prefer}, split ${split}`;
      assert.equal(s.bridge.mode, 'mse', `${what}: ${s.notes.join('; ')}`);
      assert.equal(s.client.select, clientLeg, what);
      assert.equal(s.target.select, targetLeg, what);
      assert.deepEqual(s.target.plain, clientStream, `${what}: the target got the client's stream`);
      assert.deepEqual(s.client.plain, targetStream, `${what}: the client got the target's stream`);
      assert.deepEqual(s.plainUp, clientStream, `${what}: decoder, client side`);
      assert.deepEqual(s.plainDown, targetStream, `${what}: decoder, target side`);
      assert.equal(s.notes.filter((n) => n.startsWith('terminated')).length, 1, what);
    }
  }
});

test('an empty IA (the client sends its handshake after the exchange) works too', () => {
  const s = session(CRYPTO_RC4, CRYPTO_RC4, 0, new Uint8Array(0));
  assert.deepEqual(s.target.plain, clientStream);
  assert.deepEqual(s.plainUp, clientStream);
});

test('an info hash the proxy does not know: a note, the session is dropped, no throw', () => {
  const client = new RefInitiator(new Uint8Array(20).fill(0x77), CRYPTO_RC4, new Uint8Array(0));
  const toClient: Uint8Array[] = [];
  const notes: string[] = [];
  const bridge = new MseBridge([SKEY], { send: (to, b) => (to === 'client' && toClient.push(Uint8Array.from(b)), true), note: (k, m) => notes.push(`${k}: ${m}`) });
  bridge.push(0, client.hello());
  bridge.push(0, client.receive(toClient.shift()!));
  assert.equal(bridge.mode, 'failed');
  assert.match(notes.join(), /failed: .*info hash the proxy was not given/);
});

// libtorrent 2.0 hashes the secret for the req3 mask without its leading zero bytes and with bytes
// it never set after them (pe_crypto.cpp compute_secret): about one exchange in 256. Found in a real
// libtorrent seed's log behind the proxy ("sync point (hash) found", then "invalid info-hash", with a
// secret of 00fe...).
test("a libtorrent 2.0 client's req3 mask over a secret with a leading zero byte: the torrent is found, and the note says so", () => {
  let tries = 0;
  for (;;) {
    assert.ok(++tries < 20_000, 'no secret with one leading zero byte in 20,000 exchanges');
    const s = session(CRYPTO_RC4, CRYPTO_RC4, 0, clientStream.subarray(0, 68), 0x5a);
    if (s.client.secret[0] !== 0) {
      // a secret without a leading zero: libtorrent's mask is the spec's
      assert.equal(s.bridge.mode, 'mse');
      assert.doesNotMatch(s.notes.join(), /libtorrent/);
      continue;
    }
    if (s.client.secret[1] === 0) continue; // two leading zero bytes: 65,536 masks, not tried
    assert.equal(s.bridge.mode, 'mse', s.notes.join('; '));
    assert.deepEqual(s.target.plain, clientStream);
    assert.deepEqual(s.client.plain, targetStream);
    assert.match(s.notes.join(), /terminated: .*the client named the torrent with libtorrent 2\.0's req3 mask .*accepted/);
    break;
  }
});

// A public key begins with a TLS record's first two bytes (16 03) once in 65,536 exchanges. The proxy
// took such a client for TLS and relayed it as plain, nothing decrypted: a CI run met one by chance
// here, and the reference target got the client's own IA.
test('a client whose public key begins like a TLS record (16 03) is still terminated as MSE, in any chunking', () => {
  for (const split of [0, 1, 7, 13]) {
    const s = session(CRYPTO_RC4, CRYPTO_RC4, split, clientStream.subarray(0, 68), undefined, TLS_LIKE_MSE_PRIVATE_KEY);
    assert.deepEqual([...s.client.hello().subarray(0, 2)], [0x16, 0x03], 'the fixture key begins 16 03');
    assert.equal(s.bridge.mode, 'mse', `split ${split}: ${s.notes.join('; ')}`);
    assert.deepEqual(s.target.plain, clientStream, `split ${split}`);
    assert.deepEqual(s.client.plain, targetStream, `split ${split}`);
    assert.match(s.notes.join(), /terminated: MSE\/PE terminated by the proxy: client leg RC4/);
  }
});

test('the target closes during our MSE exchange: a note that says where, and why when the secret begins with a zero byte', () => {
  const seen = new Set<string>();
  for (let tries = 0; seen.size < 2; tries++) {
    assert.ok(tries < 20_000, 'no secret with a leading zero byte in 20,000 exchanges');
    const client = new RefInitiator(SKEY, CRYPTO_RC4, clientStream.subarray(0, 68));
    const target = new RefResponder(SKEY, CRYPTO_RC4);
    const toClient: Uint8Array[] = [];
    const toTarget: Uint8Array[] = [];
    const notes: string[] = [];
    const bridge = new MseBridge([SKEY], {
      send: (to, b) => ((to === 'client' ? toClient : toTarget).push(Uint8Array.from(b)), true),
      note: (k, m) => notes.push(`${k}: ${m}`),
    });
    bridge.push(0, client.hello());
    bridge.push(0, client.receive(concat(...toClient.splice(0))));
    const yb = target.receive(concat(...toTarget.splice(0)));
    const leadingZero = target.s![0] === 0;
    if (seen.has(String(leadingZero))) continue;
    seen.add(String(leadingZero));
    bridge.push(1, yb);
    assert.equal(toTarget.length, 1, 'our req1, obfuscated info hash and header went to the target');
    assert.deepEqual(bridge.end(1), []);
    assert.equal(bridge.mode, 'failed');
    if (leadingZero) assert.match(notes.join(), /failed: the target closed the connection during the MSE exchange, after our obfuscated info hash: the shared secret begins with a zero byte, which libtorrent 2\.0 leaves out of its req3 mask/);
    else assert.match(notes.join(), /failed: the target closed the connection during the MSE exchange, after our obfuscated info hash, before selecting a crypto method$/);
  }
});

test('plain BitTorrent, other protocols and MSE without a key pass through untouched', () => {
  const run = (keys: Uint8Array[], first: Uint8Array, split: number): { mode: string; sent: Uint8Array; notes: string[] } => {
    const sent: Uint8Array[] = [];
    const notes: string[] = [];
    const bridge = new MseBridge(keys, { send: (to, b) => (to === 'target' && sent.push(Uint8Array.from(b)), true), note: (k, m) => notes.push(`${k}: ${m}`) });
    for (let i = 0; i < first.length; i += split) bridge.push(0, first.subarray(i, i + split));
    return { mode: bridge.mode, sent: concat(...sent), notes };
  };
  for (const split of [1, 5, 1000]) {
    const plain = run([SKEY], clientStream, split);
    assert.equal(plain.mode, 'plain');
    assert.deepEqual(plain.sent, clientStream);
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    assert.equal(run([SKEY], http, split).mode, 'plain');
    const mse = new RefInitiator(SKEY, CRYPTO_RC4, new Uint8Array(0)).hello();
    const opaque = run([], mse, split);
    assert.equal(opaque.mode, 'opaque');
    assert.deepEqual(opaque.sent, mse);
    assert.match(opaque.notes.join(), /cannot be read without its info hash/);
  }
});

test('hostile MSE input: no req1 within the pad limit, bad VC, oversized pad: a note, no throw', () => {
  const noteOf = (feed: (b: MseBridge, toClient: Uint8Array[]) => void): string => {
    const notes: string[] = [];
    const toClient: Uint8Array[] = [];
    const bridge = new MseBridge([SKEY], { send: (to, b) => (to === 'client' && toClient.push(Uint8Array.from(b)), true), note: (k, m) => notes.push(`${k}: ${m}`) });
    feed(bridge, toClient);
    assert.equal(bridge.mode, 'failed', notes.join());
    return notes.join();
  };
  const junk = new Uint8Array(96 + 600).map((_, i) => (i * 37 + 11) & 0xff);
  assert.match(noteOf((b) => b.push(0, junk)), /no MSE req1 hash/);
  // A client whose RC4 header is garbage (wrong key stream): the VC check fails.
  assert.match(
    noteOf((b, toClient) => {
      const c = new RefInitiator(SKEY, CRYPTO_RC4, new Uint8Array(0));
      b.push(0, c.hello());
      const reply = c.receive(toClient.shift()!);
      reply[45] = reply[45]! ^ 0xff;
      b.push(0, reply);
    }),
    /verification constant/,
  );
});

test('proxy command: a bad --info-hash or a missing --torrent is a one-line error, exit 2', async () => {
  const { runProxyCommand } = await import('../../src/proxy/proxy-command.js');
  const { memoryIo } = await import('../support/run-cli.js');
  const memory = memoryIo();
  assert.equal(await runProxyCommand('127.0.0.1:0', '127.0.0.1:1', { tui: false, infoHash: ['abc'] }, memory.io), 2);
  assert.equal(await runProxyCommand('127.0.0.1:0', '127.0.0.1:1', { tui: false, torrent: ['/nonexistent/x.torrent'] }, memory.io), 2);
  assert.equal(memory.stderr(), 'ltdh-inspect: --info-hash abc: expected 40 (v1) or 64 (v2) hex digits\nltdh-inspect: /nonexistent/x.torrent: no such file\n');
  assert.equal(memory.stdout(), '');
});

test('client bytes held during the target leg, flushed into a full target socket: the target\'s push does not report the client\'s socket full', () => {
  // The relay pauses the pushing side until the socket the push forwarded to drains. The held client
  // bytes go to the target; were their "full" reported for the target's push, the relay would wait
  // for a drain of the client's socket, which never comes: the target's side would stall for good.
  const client = new RefInitiator(SKEY, CRYPTO_RC4, clientStream.subarray(0, 68));
  const target = new RefResponder(SKEY, CRYPTO_RC4);
  const toClient: Uint8Array[] = [];
  const toTarget: Uint8Array[] = [];
  let targetFull = false;
  const bridge = new MseBridge([SKEY], {
    send: (to, b) => (to === 'client' ? (toClient.push(Uint8Array.from(b)), true) : (toTarget.push(Uint8Array.from(b)), !targetFull)),
    note: () => {},
  });
  bridge.push(0, client.hello());
  bridge.push(0, client.receive(toClient.shift()!));
  // The bridge answered the client (its leg is done) and opened the target leg; the client talks on.
  while (toClient.length > 0) client.receive(toClient.shift()!);
  assert.ok(client.ready);
  const later = concat(clientStream.subarray(68), new Uint8Array(100_000).fill(5));
  assert.deepEqual(bridge.push(0, client.send(later)).plain, [later]);
  assert.ok(bridge.held > 100_000, 'held until the target leg is negotiated');
  targetFull = true;
  const results: boolean[] = [];
  for (let round = 0; round < 10 && toTarget.length > 0; round++) {
    const reply = target.receive(concat(...toTarget.splice(0)));
    if (reply.length > 0) results.push(bridge.push(1, concat(reply, target.ready ? target.send(targetStream) : new Uint8Array(0))).ok);
  }
  while (toClient.length > 0) client.receive(toClient.shift()!);
  assert.ok(target.ready);
  assert.equal(bridge.held, 0);
  assert.deepEqual(target.plain, concat(clientStream, new Uint8Array(100_000).fill(5)));
  assert.deepEqual(client.plain, targetStream);
  assert.deepEqual(results, results.map(() => true), 'the client accepted everything it was sent');
  // A full target is the client's to wait for, at its next write.
  assert.equal(bridge.push(0, client.send(have(9))).ok, false);
});
