// Test helper: a scripted session between two webtorrent bittorrent-protocol Wires over real sockets
// (direct or through the proxy), what each Wire itself parsed, and the decoder's view of the same.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import Protocol from 'bittorrent-protocol';
import ltDontHave from 'lt_donthave';
import utMetadata from 'ut_metadata';
import type { AnyRecord } from '../../src/model/record.js';

export const INFO_HASH = '0123456789abcdef0123456789abcdef01234567';
export const BLOCK = 16384;

export interface Seen {
  msg: string;
  ext?: string;
  piece?: number;
}

export interface SessionResult {
  /** What the client-side Wire (A, the leecher) and the target-side Wire (B, the seeder) parsed. */
  a: Seen[];
  b: Seen[];
  /** A's socket address, "ip:port": the `src` of its records. */
  aAddr: string;
  /** Piece bytes A received and verified. */
  bytes: number;
}

type Wire = InstanceType<typeof Protocol> & Record<string, any>;

/**
 * Every message a Wire received, in order, named as the decoder names them, until `closing` says the
 * session is over: a destroyed Wire emits choke and uninterested for itself, which nobody sent.
 */
function hook(wire: Wire, closing: () => boolean): Seen[] {
  const seen: Seen[] = [];
  const saw = (s: Seen): void => void (closing() || seen.push(s));
  const plain: Array<[event: string, msg: string]> = [
    ['handshake', 'handshake'], ['choke', 'choke'], ['unchoke', 'unchoke'], ['interested', 'interested'],
    ['uninterested', 'not_interested'], ['bitfield', 'bitfield'], ['port', 'port'], ['have-all', 'have_all'],
    ['have-none', 'have_none'], ['keep-alive', 'keep_alive'],
  ];
  for (const [event, msg] of plain) wire.on(event, () => saw({ msg }));
  const indexed: Array<[event: string, msg: string]> = [
    ['have', 'have'], ['request', 'request'], ['piece', 'piece'], ['cancel', 'cancel'], ['suggest', 'suggest_piece'],
    ['reject', 'reject_request'], ['allowed-fast', 'allowed_fast'],
  ];
  for (const [event, msg] of indexed) wire.on(event, (piece: number) => saw({ msg, piece }));
  wire.on('extended', (ext: string, buf: Uint8Array) =>
    saw(ext === 'lt_donthave' ? { msg: 'extended', ext, piece: Buffer.from(buf).readUInt32BE(0) } : { msg: 'extended', ext }),
  );
  wire.on('unknownmessage', () => saw({ msg: 'unknown' }));
  return seen;
}

function attach(socket: Socket, extensions: Array<'lt_donthave' | 'ut_metadata'>): Wire {
  const wire = new Protocol() as Wire;
  for (const name of extensions) wire.use(name === 'lt_donthave' ? ltDontHave() : utMetadata());
  socket.pipe(wire).pipe(socket);
  return wire;
}

const until = async (ok: () => boolean): Promise<void> => {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
};

/**
 * B seeds pieces 0-7 to A; A fetches 0-3 and announces them; then lt_donthave both ways (B withdraws
 * 6, A withdraws 2). The two Wires register their extensions in different orders, so each direction
 * uses different extended ids: naming them needs the receiver's mapping.
 */
export async function session(clientSocket: Socket, seedSocket: Socket): Promise<SessionResult> {
  const aAddr = `127.0.0.1:${clientSocket.localPort}`;
  const a = attach(clientSocket, ['ut_metadata', 'lt_donthave']);
  const b = attach(seedSocket, ['lt_donthave', 'ut_metadata']);
  let closing = false;
  const aSeen = hook(a, () => closing);
  const bSeen = hook(b, () => closing);
  const payload = (i: number): Buffer => Buffer.alloc(BLOCK, i + 1);
  b.on('request', (piece: number, _offset: number, length: number, respond: (err: Error | null, buf?: Buffer) => void) => {
    respond(null, payload(piece).subarray(0, length));
  });
  b.on('interested', () => b.unchoke());
  const extA = once(a, 'extended');
  const extB = once(b, 'extended');
  a.handshake(INFO_HASH, Buffer.from('-WW0001-aaaaaaaaaaaa').toString('hex'), { dht: false });
  b.on('handshake', () => b.handshake(INFO_HASH, Buffer.from('-WW0001-bbbbbbbbbbbb').toString('hex'), { dht: false }));
  await Promise.all([extA, extB]);
  b.bitfield(Buffer.alloc(1, 0xff));
  await once(a, 'bitfield');
  a.interested();
  await once(a, 'unchoke');
  let bytes = 0;
  await Promise.all(
    [0, 1, 2, 3].map(
      (i) =>
        new Promise<void>((resolve, reject) =>
          a.request(i, 0, BLOCK, (err: Error | null, buf: Buffer) => {
            if (err) return reject(err);
            if (Buffer.compare(Buffer.from(buf), payload(i)) !== 0) return reject(new Error(`piece ${i} corrupted`));
            bytes += buf.length;
            resolve();
          }),
        ),
    ),
  );
  for (const i of [0, 1, 2, 3]) a.have(i);
  await until(() => bSeen.filter((s) => s.msg === 'have').length === 4);
  b.lt_donthave.donthave(6);
  a.lt_donthave.donthave(2);
  await until(() => aSeen.some((s) => s.ext === 'lt_donthave') && bSeen.some((s) => s.ext === 'lt_donthave'));
  // Nothing else is in flight: both sides are idle once each has seen the other's lt_donthave.
  await new Promise((r) => setTimeout(r, 20));
  closing = true;
  a.destroy();
  b.destroy();
  clientSocket.destroy();
  seedSocket.destroy();
  return { a: aSeen, b: bSeen, aAddr, bytes };
}

/** A listening seeder: `next()` is the next accepted socket, in acceptance order. */
export async function seedServer(): Promise<{ port: number; next: () => Promise<Socket>; close: () => void; server: Server }> {
  const accepted: Socket[] = [];
  const waiting: Array<(s: Socket) => void> = [];
  const server = createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const next = (): Promise<Socket> => new Promise((resolve) => (accepted.length > 0 ? resolve(accepted.shift()!) : waiting.push(resolve)));
  return { port, next, close: () => server.close(), server };
}

export async function dial(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  return s;
}

/** The decoder's message records toward `dst` on `conn`, as (msg, ext, piece). */
export function received(records: readonly AnyRecord[], conn: number, dst: string): Seen[] {
  return records
    .filter((r) => 'msg' in r && r.conn === conn && r.dst === dst)
    .map((r) => {
      const m = r as { msg: string; ext?: string | null; piece?: number };
      const s: Seen = { msg: m.msg };
      if (m.msg === 'extended') s.ext = m.ext ?? 'UNRESOLVED';
      if (m.piece !== undefined && (m.msg !== 'extended' || m.ext === 'lt_donthave')) s.piece = m.piece;
      return s;
    });
}
