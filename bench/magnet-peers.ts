// The benchmark's realistic transfer: a leecher that joins by magnet link. The seeder serves a real
// single-file torrent (256 KiB pieces of 16 KiB blocks, SHA-1 piece hashes); the leecher knows only
// the info hash from the magnet, fetches the info dict with ut_metadata (BEP 9), then downloads
// every piece over two connections, checks each piece's SHA-1 as a real client does and announces it
// with have. So the inspector, too, learns the torrent from the capture and hash-checks every piece.
// Every 200th block the seeder withdraws the piece with lt_donthave and re-announces it with have.
// One process per role so that each can live in its own network namespace (bench/make-capture.sh):
//
//   node --import tsx bench/magnet-peers.ts seed  --port P [--mb 200]          prints "ready MAGNET"
//   node --import tsx bench/magnet-peers.ts leech --magnet URI --host H --port P [--conns 2] [--in-flight 16]
import net from 'node:net';
import { createHash } from 'node:crypto';

// Untyped packages: a computed specifier keeps them `any` for the typechecker.
const Wire: any = (await import(String('bittorrent-protocol'))).default;
const ltDontHave: any = (await import(String('lt_donthave'))).default;
const utMetadata: any = (await import(String('ut_metadata'))).default;
const bencode: any = (await import(String('bencode'))).default;

const BLOCK = 16384;
const PIECE_LENGTH = 256 * 1024;
const WITHDRAW_EVERY = 200;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const role = process.argv[2];
const port = Number(arg('port', '6881'));

/** Piece `p` of the swarm's file: a fixed pattern with the piece and offset stamped in every block, so every piece differs. */
function pieceData(p: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + (i >> 11) * 13 + p) & 0xff;
  for (let at = 0; at + 8 <= length; at += BLOCK) {
    b.writeUInt32BE(p, at);
    b.writeUInt32BE(at, at + 4);
  }
  return b;
}

function newWire(socket: net.Socket): any {
  const wire = new Wire();
  socket.setNoDelay(true);
  socket.on('error', () => {});
  wire.on('error', () => {});
  socket.pipe(wire).pipe(socket);
  return wire;
}

function seed(): void {
  const total = Number(arg('mb', '200')) * 1024 * 1024;
  const count = Math.ceil(total / PIECE_LENGTH);
  const lengthOf = (p: number): number => (p === count - 1 ? total - PIECE_LENGTH * (count - 1) : PIECE_LENGTH);
  const pieces = Array.from({ length: count }, (_, p) => pieceData(p, lengthOf(p)));
  const info = {
    length: total,
    name: 'ltdh-bench-magnet.bin',
    'piece length': PIECE_LENGTH,
    pieces: Buffer.concat(pieces.map((d) => createHash('sha1').update(d).digest())),
  };
  const infoBytes: Uint8Array = bencode.encode(info);
  const infoHash = createHash('sha1').update(infoBytes).digest('hex');
  // Every piece; the spare bits after the last piece stay 0, as BEP 3 asks.
  const bitfield = Buffer.alloc(Math.ceil(count / 8));
  for (let p = 0; p < count; p++) bitfield[p >> 3]! |= 0x80 >> (p & 7);
  let open = 0;
  let sent = 0;
  const server = net.createServer((socket) => {
    open++;
    const wire = newWire(socket);
    wire.use(utMetadata(infoBytes));
    wire.use(ltDontHave());
    Object.assign(wire.extendedHandshake, { v: 'ltdh-bench seed', reqq: 250 });
    wire.on('handshake', () => {
      wire.handshake(infoHash, Buffer.from('-WW0208-benchseedmag'), { dht: false });
      wire.bitfield(bitfield);
    });
    wire.on('interested', () => wire.unchoke());
    wire.on('request', (index: number, offset: number, length: number, respond: (err: Error | null, b?: Buffer) => void) => {
      const piece = pieces[index];
      if (piece === undefined) return respond(new Error('no such piece'));
      respond(null, piece.subarray(offset, offset + length));
      if (++sent % WITHDRAW_EVERY === 0 && wire.lt_donthave) {
        wire.lt_donthave.donthave(index);
        setImmediate(() => wire.have(index));
      }
    });
    socket.on('close', () => {
      if (--open === 0) server.close();
    });
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write(`ready magnet:?xt=urn:btih:${infoHash}&dn=ltdh-bench-magnet.bin\n`));
}

interface Torrent {
  pieceLength: number;
  length: number;
  hashes: Buffer;
  count: number;
}

type Block = [piece: number, begin: number, length: number];
interface WireState {
  /** Requests not yet answered. */
  outstanding: number;
  /** Blocks to request next, in order. */
  queue: Block[];
  /** Blocks whose requests lt_donthave failed, by piece, until the piece is announced again. */
  parked: Map<number, Block[]>;
}

async function leech(): Promise<void> {
  const magnet = arg('magnet', '');
  const m = /xt=urn:btih:([0-9a-f]{40})/i.exec(magnet);
  if (m === null) throw new Error('leech: --magnet magnet:?xt=urn:btih:HASH is required');
  const infoHash = m[1]!.toLowerCase();
  const host = arg('host', '127.0.0.1');
  const conns = Number(arg('conns', '2'));
  const inFlight = Number(arg('in-flight', '16'));
  const t0 = Date.now();
  const wires: any[] = [];
  for (let i = 0; i < conns; i++) {
    const socket = net.connect(port, host);
    await new Promise<void>((r) => socket.once('connect', r));
    const wire = newWire(socket);
    wire.use(utMetadata());
    wire.use(ltDontHave());
    Object.assign(wire.extendedHandshake, { v: 'ltdh-bench leech' });
    wire.handshake(infoHash, Buffer.from(`-WW0208-benchmag${String(i).padStart(4, '0')}`), { dht: false });
    wires.push(wire);
  }
  // The first connection fetches the info dict; ut_metadata checks it against the info hash.
  const torrent = await new Promise<Torrent>((resolve) => {
    wires[0].ut_metadata.once('metadata', (buf: Uint8Array) => {
      const info = bencode.decode(buf).info;
      const pieceLength: number = info['piece length'];
      resolve({ pieceLength, length: info.length, hashes: Buffer.from(info.pieces), count: Math.ceil(info.length / pieceLength) });
    });
    wires[0].ut_metadata.fetch();
  });
  const sizeOf = (p: number): number => (p === torrent.count - 1 ? torrent.length - torrent.pieceLength * p : torrent.pieceLength);
  let next = 0;
  let done = 0;
  let bad = 0;
  // Pieces being downloaded: their blocks so far and how many are still to come.
  const partial = new Map<number, { blocks: Buffer[]; left: number }>();
  await new Promise<void>((finish) => {
    /** Whole pieces go to one connection; its blocks are requested in order, `inFlight` at a time. */
    const take = (wire: any, state: WireState): void => {
      while (state.outstanding < inFlight) {
        if (state.queue.length === 0) {
          if (next >= torrent.count) return;
          const p = next++;
          const size = sizeOf(p);
          for (let begin = 0; begin < size; begin += BLOCK) state.queue.push([p, begin, Math.min(BLOCK, size - begin)]);
          partial.set(p, { blocks: [], left: Math.ceil(size / BLOCK) });
        }
        const [p, begin, length] = state.queue.shift()!;
        state.outstanding++;
        wire.request(p, begin, length, (err: Error | null, block: Buffer) => {
          state.outstanding--;
          // lt_donthave fails the piece's outstanding requests: they are asked again once the seeder
          // announces the piece again (it does at once). The answers already on their way arrive
          // anyway: duplicate blocks, and blocks of a piece out of order, in the capture.
          if (err) {
            const parked = state.parked.get(p) ?? [];
            parked.push([p, begin, length]);
            state.parked.set(p, parked);
            return;
          }
          const entry = partial.get(p)!;
          entry.blocks[begin / BLOCK] = block;
          if (--entry.left === 0) {
            partial.delete(p);
            const sha1 = createHash('sha1').update(Buffer.concat(entry.blocks)).digest();
            if (!sha1.equals(torrent.hashes.subarray(p * 20, p * 20 + 20))) bad++;
            for (const w of wires) w.have(p);
            if (++done === torrent.count) return finish();
          }
          take(wire, state);
        });
      }
    };
    for (const wire of wires) {
      const state: WireState = { outstanding: 0, queue: [], parked: new Map() };
      wire.on('unchoke', () => take(wire, state));
      // Blocks of a withdrawn piece not asked for yet wait for its re-announce too.
      wire.lt_donthave.on('donthave', (index: number) => {
        const parked = state.parked.get(index) ?? [];
        parked.push(...state.queue.filter((b) => b[0] === index));
        state.queue = state.queue.filter((b) => b[0] !== index);
        if (parked.length > 0) state.parked.set(index, parked);
      });
      wire.on('have', (index: number) => {
        const parked = state.parked.get(index);
        if (parked === undefined) return;
        state.parked.delete(index);
        state.queue.unshift(...parked);
        take(wire, state);
      });
      wire.interested();
    }
  });
  const secs = (Date.now() - t0) / 1000;
  process.stdout.write(`${torrent.count} pieces, ${(torrent.length / 1048576).toFixed(0)} MB in ${secs.toFixed(3)} s over ${conns} connections, ${bad} failed their hash check\n`);
  for (const w of wires) w.end();
  if (bad > 0) process.exitCode = 1;
}

if (role === 'seed') seed();
else if (role === 'leech') await leech();
else {
  process.stderr.write('usage: magnet-peers.ts seed|leech [--magnet URI] [--host H] [--port P] [--mb N] [--conns N]\n');
  process.exit(2);
}
