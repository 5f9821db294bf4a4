// A large real transfer between two webtorrent bittorrent-protocol peers (with lt_donthave), for the
// benchmark capture. One process per role so that each can live in its own network namespace:
//
//   node --import tsx bench/transfer-peers.ts seed  --port P [--mb 200]
//   node --import tsx bench/transfer-peers.ts leech --host H --port P [--mb 200]
//
// The leecher keeps 16 requests in flight and announces every piece with have; every 200th piece the
// seeder withdraws the piece it just sent with lt_donthave and announces it again with have a piece
// later, so the capture carries the extension traffic the inspector is for, not just piece data.
import net from 'node:net';
import { createHash } from 'node:crypto';

// Untyped packages: a computed specifier keeps them `any` for the typechecker.
const Wire: any = (await import(String('bittorrent-protocol'))).default;
const ltDontHave: any = (await import(String('lt_donthave'))).default;

const PIECE_LENGTH = 16384;
const IN_FLIGHT = Number(arg('in-flight', '16'));
const WITHDRAW_EVERY = 200;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const role = process.argv[2];
const port = Number(arg('port', '6881'));
const host = arg('host', '127.0.0.1');
const pieces = Math.ceil((Number(arg('mb', '200')) * 1024 * 1024) / PIECE_LENGTH);
const infoHash = createHash('sha1').update(`ltdh-inspect bench ${pieces}`).digest('hex');
const block = Buffer.alloc(PIECE_LENGTH);
for (let i = 0; i < block.length; i++) block[i] = (i * 7 + (i >> 11) * 13) & 0xff;

function newWire(socket: net.Socket): any {
  const wire = new Wire();
  socket.setNoDelay(true);
  socket.pipe(wire).pipe(socket);
  wire.use(ltDontHave());
  socket.on('error', () => {});
  return wire;
}

if (role === 'seed') {
  const server = net.createServer((socket) => {
    const wire = newWire(socket);
    let sent = 0;
    wire.on('handshake', () => {
      wire.handshake(infoHash, Buffer.from('-WW0208-benchseed000'), { dht: false });
      const bits = Buffer.alloc(Math.ceil(pieces / 8), 0xff);
      wire.bitfield(bits);
      wire.unchoke();
    });
    wire.on('request', (index: number, offset: number, length: number, respond: (err: Error | null, b?: Buffer) => void) => {
      respond(null, length === PIECE_LENGTH ? block : block.subarray(0, length));
      sent++;
      if (sent % WITHDRAW_EVERY === 0 && wire.lt_donthave) {
        wire.lt_donthave.donthave(index);
        setImmediate(() => wire.have(index));
      }
    });
    socket.on('close', () => server.close());
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write('ready\n'));
} else if (role === 'leech') {
  const socket = net.connect(port, host);
  const wire = newWire(socket);
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  const request = (): void => {
    while (next < pieces && next - done < IN_FLIGHT) {
      const index = next++;
      wire.request(index, 0, PIECE_LENGTH, (err: Error | null) => {
        if (err) return;
        done++;
        wire.have(index);
        if (done === pieces) finish();
        else request();
      });
    }
  };
  const finish = (): void => {
    const secs = (Date.now() - t0) / 1000;
    process.stdout.write(`${pieces} pieces, ${((pieces * PIECE_LENGTH) / 1048576).toFixed(0)} MB in ${secs.toFixed(3)} s\n`);
    wire.end();
    socket.end();
  };
  wire.handshake(infoHash, Buffer.from('-WW0208-benchleech00'), { dht: false });
  wire.on('unchoke', () => {
    wire.interested();
    request();
  });
} else {
  process.stderr.write('usage: transfer-peers.ts seed|leech [--host H] [--port P] [--mb N]\n');
  process.exit(2);
}
