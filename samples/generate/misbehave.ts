// A misbehaving BitTorrent peer against a well-behaved one, both real bittorrent-protocol 5 wires
// over loopback TCP. The misbehaver ("M", the initiator) plants protocol faults with raw
// `wire.extended(id, buffer)` and `wire._message(id, numbers, data)`; the peer ("S", listening on
// PORT) behaves. Run under tcpdump by misbehave.sh, which writes samples/misbehave.pcap; this
// script writes samples/misbehave.torrent (the swarm's torrent, deterministic). What each planted
// fault must be reported as is in samples/misbehave.findings.json.
//
//   node --import tsx samples/generate/misbehave.ts [PORT]
import net from 'node:net';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

// Untyped ESM packages: a computed specifier keeps them `any` for the typechecker.
const Wire: any = (await import(String('bittorrent-protocol'))).default;
const bencode: any = (await import(String('bencode'))).default;

const PORT = Number(process.argv[2] ?? 51515);
const PIECE_LENGTH = 32768;
const PIECES = 20;
const STEP_MS = 40;

// The swarm: 20 pieces of 32 KiB of deterministic bytes.
const data = new Uint8Array(PIECE_LENGTH * PIECES);
for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 9)) & 0xff;
const hashes: Buffer[] = [];
for (let p = 0; p < PIECES; p++) hashes.push(createHash('sha1').update(data.subarray(p * PIECE_LENGTH, (p + 1) * PIECE_LENGTH)).digest());
const info = { length: data.length, name: 'misbehave.bin', 'piece length': PIECE_LENGTH, pieces: Buffer.concat(hashes) };
const infoBytes: Uint8Array = bencode.encode(info);
const infoHash = createHash('sha1').update(infoBytes).digest('hex');
writeFileSync(new URL('../misbehave.torrent', import.meta.url), bencode.encode({ 'created by': 'ltdh-inspect misbehave.ts', info }));

// Extensions registered in order give the ids: S has ut_pex 1, ut_metadata 2, lt_donthave 3;
// M has lt_donthave 1, ut_metadata 2 (as webtorrent peers pair up in the wild).
function ext(name: string) {
  const E = function (this: object) {} as unknown as { prototype: { name: string } };
  E.prototype.name = name;
  return E;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

interface Pair {
  m: any;
  s: any;
}

type Scenario = (p: Pair) => Promise<void>;

/** Connects M to S; both wires handshake (and exchange extended handshakes) before `run`. */
async function connection(opts: { mFast: boolean; sFast: boolean; sExtensions?: string[]; before?: (m: any) => void }, run: Scenario): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(PORT, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const mSock = net.connect(PORT, '127.0.0.1');
  mSock.setNoDelay(true);
  const sSock = await accepted;
  sSock.setNoDelay(true);
  server.close();

  const m = new Wire();
  const s = new Wire();
  for (const e of ['lt_donthave', 'ut_metadata']) m.use(ext(e));
  for (const e of opts.sExtensions ?? ['ut_pex', 'ut_metadata', 'lt_donthave']) s.use(ext(e));
  m.extendedHandshake = { metadata_size: infoBytes.length, v: 'Misbehaver 0.1' };
  s.extendedHandshake = { metadata_size: infoBytes.length, v: 'WellBehaved 1.0' };
  for (const w of [m, s]) w.on('error', () => {});
  mSock.pipe(m).pipe(mSock);
  sSock.pipe(s).pipe(sSock);
  for (const sock of [mSock, sSock]) sock.on('error', () => {});

  const mExt = new Promise<void>((r) => m.on('extended', (e: string) => e === 'handshake' && r()));
  const sExt = new Promise<void>((r) => s.on('extended', (e: string) => e === 'handshake' && r()));
  s.on('handshake', () => s.handshake(infoHash, Buffer.from('-WW0100-wellbehaved!'), { dht: false, fast: opts.sFast }));
  m.handshake(infoHash, Buffer.from('-MB0001-misbehaving!'), { dht: false, fast: opts.mFast });
  opts.before?.(m);
  await Promise.all([mExt, sExt]);
  await sleep(STEP_MS);
  await run({ m, s });
  await sleep(STEP_MS * 2);
  mSock.end();
  sSock.end();
  await sleep(STEP_MS * 2);
  mSock.destroy();
  sSock.destroy();
}

// S's ids (what M must use): ut_pex 1, ut_metadata 2, lt_donthave 3. M's ids: lt_donthave 1, ut_metadata 2.
const S_UT_METADATA = 2;
const S_LT_DONTHAVE = 3;
const M_UT_METADATA = 2;
const M_LT_DONTHAVE = 1;

const step = async (f: () => void) => {
  f();
  await sleep(STEP_MS);
};

// Connection 1: extension-id faults, lt_donthave faults, request faults, ut_metadata faults.
const scenario1: Scenario = async ({ m, s }) => {
  await step(() => s.bitfield(Uint8Array.of(0xff, 0xff, 0xf0)));
  await step(() => s.unchoke());
  // M's bitfield: pieces 0-9, plus a spare bit after piece 19 -> bitfield-spare-bits
  await step(() => m._message(5, [], Uint8Array.of(0xff, 0xc0, 0x01)));
  // lt_donthave for piece 2 with M's OWN id (1): S reads id 1 as ut_pex -> ext-id-own-mapping
  await step(() => m.extended(M_LT_DONTHAVE, u32(2)));
  // 5-byte lt_donthave -> donthave-malformed
  await step(() => m.extended(S_LT_DONTHAVE, Uint8Array.of(0, 0, 0, 2, 0)));
  // piece 999 of 20 -> donthave-out-of-range
  await step(() => m.extended(S_LT_DONTHAVE, u32(999)));
  // piece 15: never announced by M -> donthave-not-announced
  await step(() => m.extended(S_LT_DONTHAVE, u32(15)));
  // piece 2 withdrawn (fine), then again -> donthave-redundant
  await step(() => m.extended(S_LT_DONTHAVE, u32(2)));
  await step(() => m.extended(S_LT_DONTHAVE, u32(2)));
  // S withdraws piece 5 (correctly, with M's id); M requests it anyway -> request-after-donthave
  await step(() => s.extended(M_LT_DONTHAVE, u32(5)));
  await step(() => m._message(6, [5, 0, 16384], null));
  // a 32 KiB block request -> block-too-large
  await step(() => m._message(6, [6, 0, 32768], null));
  // two requests for piece 7, then S withdraws it: no fast extension, so they are dropped silently
  await step(() => m._message(6, [7, 0, 16384], null));
  await step(() => m._message(6, [7, 16384, 16384], null));
  await step(() => s.extended(M_LT_DONTHAVE, u32(7)));
  // an extended id nobody mapped -> ext-unknown-id
  await step(() => m.extended(9, u32(1)));
  // ut_metadata: S asks for piece 0; M answers with a total_size that is not its metadata_size
  await step(() => s.extended(M_UT_METADATA, bencode.encode({ msg_type: 0, piece: 0 })));
  await step(() => m.extended(S_UT_METADATA, cat(bencode.encode({ msg_type: 1, piece: 0, total_size: infoBytes.length + 1000 }), infoBytes)));
  // the same piece again, unrequested -> metadata-piece-size
  await step(() => m.extended(S_UT_METADATA, cat(bencode.encode({ msg_type: 1, piece: 0, total_size: infoBytes.length }), infoBytes)));
  // S asks again; M, which advertised metadata_size, rejects -> metadata-rejected
  await step(() => s.extended(M_UT_METADATA, bencode.encode({ msg_type: 0, piece: 0 })));
  await step(() => m.extended(S_UT_METADATA, bencode.encode({ msg_type: 2, piece: 0 })));
};

// Connection 2: bitfield after a have, then a fast message without the fast bit (S closes).
const scenario2: Scenario = async ({ m }) => {
  await step(() => m._message(4, [1], null));
  await step(() => m._message(5, [], Uint8Array.of(0xff, 0xc0, 0x00)));
  await step(() => m._message(0x0e, [], null));
};

// Connection 3 (fast on both sides): bitfield of the wrong length, metadata whose hash is wrong,
// a piece whose data is wrong, and the well-behaved BEP 54 + fast case (donthave, then rejects).
const scenario3: Scenario = async ({ m, s }) => {
  await step(() => m._message(5, [], Uint8Array.of(0xff, 0xff)));
  await step(() => s.haveAll());
  await step(() => s.unchoke());
  await step(() => m.unchoke());
  await step(() => s.extended(M_UT_METADATA, bencode.encode({ msg_type: 0, piece: 0 })));
  const garbage = Uint8Array.from(infoBytes, (b, i) => (i === 50 ? b ^ 0x20 : b));
  await step(() => m.extended(S_UT_METADATA, cat(bencode.encode({ msg_type: 1, piece: 0, total_size: infoBytes.length }), garbage)));
  // S fetches piece 0 from M; M's second block is corrupt -> hash-mismatch
  s.on('piece', () => {});
  m.on('request', () => {});
  await step(() => s.request(0, 0, 16384, () => {}));
  await step(() => s.request(0, 16384, 16384, () => {}));
  await step(() => m.piece(0, 0, data.subarray(0, 16384)));
  const bad = data.slice(16384, 32768);
  bad[7] = (bad[7] ?? 0) ^ 1;
  await step(() => m.piece(0, 16384, bad));
  // M asks S for piece 3; S withdraws it and rejects both requests, as BEP 54 asks with fast
  await step(() => m._message(6, [3, 0, 16384], null));
  await step(() => m._message(6, [3, 16384, 16384], null));
  await step(() => s.extended(M_LT_DONTHAVE, u32(3)));
  await step(() => s.reject(3, 0, 16384));
  await step(() => s.reject(3, 16384, 16384));
};

// Connection 4: S does not do lt_donthave (ut_pex 1, ut_metadata 2). M withdraws a piece anyway, with
// its own id 1, which S reads as ut_pex -> ext-id-own-mapping and donthave-unsupported; and M announces
// piece 25 of 20 -> piece-out-of-range.
const scenario4: Scenario = async ({ m, s }) => {
  await step(() => s.bitfield(Uint8Array.of(0xff, 0xff, 0xf0)));
  await step(() => m._message(5, [], Uint8Array.of(0xff, 0xc0, 0x00)));
  await step(() => m.extended(M_LT_DONTHAVE, u32(4)));
  await step(() => m._message(4, [25], null));
};

// An lt_donthave (with S's id) before S's extended handshake: M sends it right after its handshake.
const early = (m: any) => m.extended(S_LT_DONTHAVE, u32(0));

await connection({ mFast: false, sFast: true, before: early }, scenario1);
await connection({ mFast: false, sFast: true }, scenario2);
await connection({ mFast: true, sFast: true }, scenario3);
await connection({ mFast: false, sFast: false, sExtensions: ['ut_pex', 'ut_metadata'] }, scenario4);
console.log(`misbehave: 4 connections on 127.0.0.1:${PORT}, info hash ${infoHash}`);
