// Real webtorrent peers (bittorrent-protocol 5 + lt_donthave + ut_metadata + ut_pex) over real TCP,
// for captures. One process per role so that the roles can live in different network namespaces:
//
//   node --import tsx samples/generate/wt-peers.ts seed  --host H --port P --peers N --truth F [--fast] [--torrent F]
//   node --import tsx samples/generate/wt-peers.ts leech --host H --port P --id I --truth F [--fast]
//
// Each process writes, to --truth, one NDJSON record per message its own wires received, taken at
// bittorrent-protocol's message dispatch (`_onMessage`, `_onKeepAlive`, `_onHandshake`), with the
// extended id named through the receiving wire's own mapping. all.sh merges the files by time.
//
// The conversation is driven by protocol events, not timers, so every run says the same things:
// leecher: handshake, extended handshake, port, ut_metadata fetch, interested, then requests the
// pieces one at a time, announcing each with have. When the seeder sees have(3) it withdraws
// pieces 7 and 8 (lt_donthave); the leecher requests 7 anyway, then 9; the seeder leaves 7
// unanswered (rejects it with the fast extension); on piece 9 the leecher cancels 7, and the
// seeder re-announces 7 and 8 (have). At the end the leecher withdraws pieces 5 and 6
// (lt_donthave the other way), sends keep-alive and not_interested, the seeder chokes, the
// leecher closes.
import net from 'node:net';
import { createHash } from 'node:crypto';
import { writeFileSync, appendFileSync } from 'node:fs';

// Untyped packages: a computed specifier keeps them `any` for the typechecker.
const Wire: any = (await import(String('bittorrent-protocol'))).default;
const ltDontHave: any = (await import(String('lt_donthave'))).default;
const utMetadata: any = (await import(String('ut_metadata'))).default;
const utPex: any = (await import(String('ut_pex'))).default;
const bencode: any = (await import(String('bencode'))).default;

const PIECE_LENGTH = 16384;
const PIECES = 24;
const WITHDRAWN = [7, 8];
const TRIGGER = 3;
const LEECHER_WITHDRAWS = [5, 6];

function argValue(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}
const role = process.argv[2];
const host = argValue('host', '127.0.0.1');
const port = Number(argValue('port'));
const truthPath = argValue('truth');
const fast = process.argv.includes('--fast');
const name = argValue('name', 'wt');

// The swarm: deterministic bytes, a single-file torrent.
const data = new Uint8Array(PIECE_LENGTH * PIECES);
for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11) * 13) & 0xff;
const hashes: Buffer[] = [];
for (let p = 0; p < PIECES; p++) hashes.push(createHash('sha1').update(data.subarray(p * PIECE_LENGTH, (p + 1) * PIECE_LENGTH)).digest());
const info = { length: data.length, name: `${name}.bin`, 'piece length': PIECE_LENGTH, pieces: Buffer.concat(hashes) };
const infoBytes: Uint8Array = bencode.encode(info);
const infoHash = createHash('sha1').update(infoBytes).digest('hex');
const torrentBytes: Uint8Array = bencode.encode({ 'created by': 'ltdh-inspect wt-peers.ts', info });

writeFileSync(truthPath, '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function endpoint(addr: string | undefined, p: number | undefined): string {
  const a = (addr ?? '?').replace(/^::ffff:/, '');
  return a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`;
}

const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Records every message the wire dispatches, as this (receiving) peer parsed it. */
function recordIncoming(wire: any, socket: net.Socket): void {
  const src = endpoint(socket.remoteAddress, socket.remotePort);
  const dst = endpoint(socket.localAddress, socket.localPort);
  const write = (rec: Record<string, unknown>) =>
    appendFileSync(truthPath, JSON.stringify({ t: Date.now() / 1000, src, dst, ...rec }) + '\n');

  const onHandshake = wire._onHandshake.bind(wire);
  wire._onHandshake = (ih: Uint8Array, pid: Uint8Array, ext: { extended: boolean; fast: boolean; dht: boolean }) => {
    write({ msg: 'handshake', infoHash: hex(ih), peerId: hex(pid), extended: ext.extended, fast: ext.fast, dht: ext.dht });
    return onHandshake(ih, pid, ext);
  };
  const onKeepAlive = wire._onKeepAlive.bind(wire);
  wire._onKeepAlive = () => {
    write({ msg: 'keep_alive' });
    return onKeepAlive();
  };
  const onMessage = wire._onMessage.bind(wire);
  wire._onMessage = (b: Uint8Array) => {
    write(describe(wire, b));
    return onMessage(b);
  };
}

const SIMPLE: Record<number, string> = { 0: 'choke', 1: 'unchoke', 2: 'interested', 3: 'not_interested', 14: 'have_all', 15: 'have_none' };
const PIECE_ONLY: Record<number, string> = { 4: 'have', 13: 'suggest_piece', 17: 'allowed_fast' };
const BLOCK: Record<number, string> = { 6: 'request', 8: 'cancel', 16: 'reject_request' };

function describe(wire: any, b: Uint8Array): Record<string, unknown> {
  const id = b[0]!;
  if (SIMPLE[id]) return { msg: SIMPLE[id] };
  if (PIECE_ONLY[id]) return { msg: PIECE_ONLY[id], piece: u32(b, 1) };
  if (BLOCK[id]) return { msg: BLOCK[id], piece: u32(b, 1), begin: u32(b, 5), length: u32(b, 9) };
  if (id === 5) return { msg: 'bitfield' };
  if (id === 7) return { msg: 'piece', piece: u32(b, 1), begin: u32(b, 5), length: b.length - 9 };
  if (id === 9) return { msg: 'port', port: (b[1]! << 8) | b[2]! };
  if (id === 20) {
    const extId = b[1]!;
    if (extId === 0) {
      let m: unknown = null;
      try {
        m = bencode.decode(b.subarray(2)).m ?? null;
      } catch {}
      return { msg: 'extended', extId, ext: 'handshake', m };
    }
    const ext: string | null = wire.extendedMapping[extId] ?? null;
    const rec: Record<string, unknown> = { msg: 'extended', extId, ext };
    if (ext === 'lt_donthave' && b.length === 6) rec.piece = u32(b, 2);
    return rec;
  }
  return { msg: 'unknown', id };
}

function peerIdFor(tag: string): Buffer {
  return Buffer.from(`-WW0208-${tag}`.padEnd(20, '0').slice(0, 20));
}

function block(piece: number): Uint8Array {
  return data.subarray(piece * PIECE_LENGTH, (piece + 1) * PIECE_LENGTH);
}

async function seed(): Promise<void> {
  const expected = Number(argValue('peers', '1'));
  const torrentOut = argValue('torrent', '');
  if (torrentOut) writeFileSync(torrentOut, torrentBytes);
  let done = 0;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const wire = new Wire();
    recordIncoming(wire, socket);
    // Seeder ids: ut_pex 1, ut_metadata 2, lt_donthave 3.
    wire.use(utPex());
    wire.use(utMetadata(infoBytes));
    wire.use(ltDontHave());
    Object.assign(wire.extendedHandshake, { v: 'wt-seed 1.0', reqq: 250 });
    wire.on('error', () => {});
    socket.on('error', () => {});
    socket.pipe(wire).pipe(socket);

    const withheld = new Set<number>();
    wire.on('handshake', () => wire.handshake(infoHash, peerIdFor('seeder'), { dht: true, fast }));
    wire.on('extended', (ext: string) => {
      if (ext !== 'handshake') return;
      if (wire.hasFast) {
        wire.haveAll();
        wire.allowedFast(0);
        wire.suggest(1);
      } else {
        const bf = new Uint8Array(Math.ceil(PIECES / 8)).fill(0xff);
        wire.bitfield(bf);
      }
      if (wire.peerExtendedMapping.ut_pex) {
        wire.ut_pex.addPeer('10.11.12.13:6881');
        wire.ut_pex.addPeer6('[fd00::13]:6881');
        wire.ut_pex._sendMessage();
      }
    });
    wire.on('interested', () => {
      wire.unchoke();
      wire.keepAlive();
    });
    wire.on('uninterested', () => wire.choke());
    wire.on('have', (index: number) => {
      if (index !== TRIGGER) return;
      for (const p of WITHDRAWN) {
        withheld.add(p);
        wire.lt_donthave.donthave(p);
      }
    });
    wire.on('cancel', (index: number) => {
      if (!withheld.has(index)) return;
      for (const p of WITHDRAWN) {
        withheld.delete(p);
        wire.have(p);
      }
    });
    wire.on('request', (index: number, offset: number, length: number, respond: (err: Error | null, b?: Uint8Array) => void) => {
      if (withheld.has(index)) {
        if (wire.hasFast) respond(new Error('withdrawn'));
        return;
      }
      respond(null, block(index).subarray(offset, offset + length));
    });
    socket.on('close', () => {
      if (++done === expected) server.close();
    });
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  console.error(`seed: ${infoHash} listening on ${endpoint(host, port)}`);
  await new Promise<void>((r) => server.on('close', r));
}

async function leech(): Promise<void> {
  const id = Number(argValue('id', '0'));
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  socket.on('error', (e) => {
    console.error(`leech ${id}: ${e.message}`);
    process.exitCode = 1;
  });
  await new Promise<void>((r) => socket.once('connect', r));
  const wire = new Wire();
  recordIncoming(wire, socket);
  // Different registration orders give different ids on each side.
  if (id % 2 === 0) {
    wire.use(ltDontHave()); // 1
    wire.use(utMetadata()); // 2
  } else {
    wire.use(utMetadata()); // 1
    wire.use(utPex()); // 2
    wire.use(ltDontHave()); // 3
  }
  Object.assign(wire.extendedHandshake, { v: `wt-leech-${id} 1.0` });
  wire.on('error', () => {});
  socket.pipe(wire).pipe(socket);

  const got = new Set<number>();
  const waiters = new Map<string, () => void>();
  const when = (ev: string) => new Promise<void>((r) => waiters.set(ev, r));
  const fire = (ev: string) => {
    const w = waiters.get(ev);
    waiters.delete(ev);
    w?.();
  };
  wire.on('extended', (ext: string) => ext === 'handshake' && fire('exthandshake'));
  wire.on('unchoke', () => fire('unchoke'));
  wire.on('choke', () => fire('choke'));
  // Not the 'have' event: after have_all, bittorrent-protocol swallows a have for a piece it
  // already counts (its have-all bitfield ignores lt_donthave).
  const onHave = wire._onHave.bind(wire);
  wire._onHave = (i: number) => {
    if (i === WITHDRAWN[WITHDRAWN.length - 1]) fire('reannounced');
    return onHave(i);
  };
  wire.ut_metadata.on('metadata', () => fire('metadata'));

  const extHandshake = when('exthandshake');
  wire.handshake(infoHash, peerIdFor(`leecher${id}`), { dht: true, fast });
  await extHandshake;
  if (wire.hasFast) wire.haveNone();
  wire.port(6881 + id);
  const metadata = when('metadata');
  wire.ut_metadata.fetch();
  await metadata;

  const unchoked = when('unchoke');
  wire.interested();
  await unchoked;
  const fetch = (piece: number) =>
    new Promise<boolean>((resolve) =>
      wire.request(piece, 0, PIECE_LENGTH, (err: Error | null) => {
        if (err) return resolve(false);
        got.add(piece);
        wire.have(piece);
        resolve(true);
      }),
    );
  for (let p = 0; p <= TRIGGER + 3; p++) await fetch(p); // pieces 0-6; have(3) makes the seeder withdraw 7, 8
  const reannounced = when('reannounced');
  const withdrawn = fetch(WITHDRAWN[0]!); // a request after lt_donthave: unanswered, or rejected with fast
  await fetch(WITHDRAWN[WITHDRAWN.length - 1]! + 1);
  if (wire.hasFast) await withdrawn; // rejected; the cancel still makes the seeder re-announce
  wire.cancel(WITHDRAWN[0]!, 0, PIECE_LENGTH);
  await reannounced;
  for (let p = 0; p < PIECES; p++) if (!got.has(p)) await fetch(p);
  for (const p of LEECHER_WITHDRAWS) wire.lt_donthave.donthave(p);
  wire.keepAlive();
  const choked = when('choke');
  wire.uninterested();
  await choked;
  await sleep(50);
  socket.end();
  await new Promise<void>((r) => socket.once('close', r));
  console.error(`leech ${id}: got ${got.size}/${PIECES} pieces`);
  if (got.size !== PIECES) process.exitCode = 1;
}

const watchdog = setTimeout(() => {
  console.error(`${role}: timed out`);
  process.exit(1);
}, Number(argValue('timeout', '60')) * 1000);
watchdog.unref();

if (role === 'seed') await seed();
else if (role === 'leech') await leech();
else throw new Error('usage: wt-peers.ts seed|leech ...');
