// Real libtorrent 2.0 peers with encryption forced (MSE/PE, pe_forced both ways) talking through the
// proxy: with the info hash the proxy terminates MSE on both legs (each leg negotiating RC4 or
// plaintext on its own), the transfer completes and every message either peer's own log says it
// received is decoded; without it the proxy relays the session untouched and says it cannot read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, label, noLibtorrent, runPython, type PeerSeen } from './lt-script.js';
import { handshakeHashes, loadTorrent } from '../../src/analysis/torrent.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { startProxy, type ConnectionReport } from '../../src/proxy/relay.js';
import { assertSameRecords, replaySaved } from './saved-records.js';

const SCRIPT = fileURLToPath(new URL('./lt-mse-peers.py', import.meta.url));

interface PeersResult {
  complete: boolean;
  pieces: number;
  errors: string[];
  seedLog: string[];
  seed: PeerSeen[];
  leech: PeerSeen[];
}

const PIECES = 16;
const python = (args: string[]): Promise<string> => runPython(SCRIPT, args);

interface ProxyRun {
  peers: PeersResult;
  records: AnyRecord[];
  logs: string[];
  seedPort: number;
  saved: AnyRecord[];
  /** What became of each relayed connection. */
  ended: ConnectionReport[];
}

async function throughProxy(leechLevel: string, seedLevel: string, withHash: boolean): Promise<ProxyRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-mse-'));
  try {
    await python(['make', dir, String(PIECES)]);
    const torrent = await loadTorrent(join(dir, 'mse.torrent'));
    const infoHashes = withHash ? handshakeHashes(torrent).map((h) => new Uint8Array(Buffer.from(h, 'hex'))) : [];
    const seedPort = await freePort();
    const records: AnyRecord[] = [];
    const logs: string[] = [];
    const save = join(dir, 'saved.pcap');
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: seedPort }, sink: (r) => records.push(r), infoHashes, onLog: (l) => logs.push(l), save });
    let out: string;
    let ended: ConnectionReport[] = [];
    try {
      out = await python(['run', dir, String(seedPort), String(proxy.port), leechLevel, seedLevel]);
    } finally {
      ended = await proxy.close();
    }
    return { peers: JSON.parse(out) as PeersResult, records, logs, seedPort, saved: withHash ? replaySaved(save) : [], ended };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** For a failed assertion: each relayed connection's end, the proxy's events and log, what the peers saw close, the seed's log. */
function diagnosis({ peers, records, logs, ended }: ProxyRun): string {
  const events = records.filter((r) => 'event' in r).map((r) => `${(r as { event: string }).event}: ${(r as { message?: string }).message ?? ''}`);
  return `connections: ${JSON.stringify(ended)}; events: ${events.join(' | ')}; connections ended: ${peers.errors.join(' | ')}; proxy log: ${logs.join(' | ')}; the seed's log: ${peers.seedLog.join(' | ')}`;
}

/** The decoder's messages toward the seeder (dir 0) or toward the leecher (dir 1). */
function decoded(records: AnyRecord[], seedPort: number, toSeed: boolean): string[] {
  return records
    .filter((r): r is MessageRecord => 'msg' in r)
    .filter((r) => r.dst.endsWith(`:${seedPort}`) === toSeed)
    .map((r) => label({ msg: r.msg, ...(r.ext !== undefined && r.ext !== null ? { ext: r.ext } : {}), ...(r.piece !== undefined ? { piece: r.piece } : {}) }));
}

/** Every message the receiver logged is decoded, in order, and at most a message in flight at the close more. */
function assertAllDecoded(got: string[], truth: string[], what: string): void {
  let j = 0;
  for (const m of got) if (j < truth.length && m === truth[j]) j++;
  assert.equal(j, truth.length, `${what}: the receiver parsed ${truth.length} messages, ${j} of them decoded in order\n got ${got.join(' ')}\n truth ${truth.join(' ')}`);
  assert.ok(got.length - truth.length <= 2, `${what}: ${got.length - truth.length} messages decoded that the receiver never parsed`);
  assert.ok(truth.includes('handshake') && truth.some((m) => m.startsWith('piece#') || m.startsWith('request#')), `${what}: a real session (handshake, requests or pieces)`);
}

/**
 * libtorrent 2.0 hashes a shared secret that begins with a zero byte wrongly for the req3 mask, so a
 * libtorrent seed closes about 1 exchange in 256 with "invalid info-hash" (its log showed it); the
 * proxy says why and the leecher dials again (min_reconnect_time 1 s in lt-mse-peers.py).
 */
const LIBTORRENT_MASK = /^the target closed the connection during the MSE exchange, after our obfuscated info hash: the shared secret begins with a zero byte, which libtorrent 2\.0 leaves out of its req3 mask/;

const variants: Array<[leech: string, seed: string, clientLeg: string, targetLeg: string]> = [
  ['both', 'both', 'RC4', 'plaintext'],
  ['rc4', 'rc4', 'RC4', 'RC4'],
  ['plaintext', 'rc4', 'plaintext', 'RC4'],
];

test('libtorrent pe_forced through the proxy with the info hash: transfer completes, every message decoded', { skip: noLibtorrent, timeout: 120_000 }, async () => {
  // The sessions run at once (each has its own ports and directory) to keep the test short.
  const runs = await Promise.all(variants.map(([leech, seed]) => throughProxy(leech, seed, true)));
  for (const [i, run] of runs.entries()) {
    const { peers, records, logs, seedPort, saved } = run;
    const [leech, seed, clientLeg, targetLeg] = variants[i]!;
    const what = `leecher ${leech}, seeder ${seed}`;
    assert.ok(peers.complete, `${what}: the leecher has ${peers.pieces} of ${PIECES} pieces; ${diagnosis(run)}`);
    const enc = records.filter((r) => 'event' in r && r.event === 'encrypted');
    assert.equal(enc.length, 1, `${what}: one encrypted event`);
    assert.match((enc[0] as { message?: string }).message ?? '', new RegExp(`client leg ${clientLeg}, target leg ${targetLeg}`), what);
    assert.ok(logs.some((l) => l.includes('MSE/PE terminated')), what);
    assertAllDecoded(decoded(records, seedPort, true), peers.seed.map(label), `${what}, toward the seeder`);
    assertAllDecoded(decoded(records, seedPort, false), peers.leech.map(label), `${what}, toward the leecher`);
    // The one warning allowed: libtorrent's own req3 mask bug closed a connection, and the leecher dialled again.
    assert.ok(!records.some((r) => 'event' in r && (r.event === 'malformed' || r.event === 'resync' || (r.event === 'warning' && !LIBTORRENT_MASK.test(r.message ?? '')))), `${what}: clean decode`);
    // The --save file holds the plaintext of every connection, an earlier one the seed closed during
    // the key exchange included (the client's handshake can ride in the MSE exchange): read back by
    // the capture decoder, each connection's messages are the live ones, frame numbers and all.
    const messages = (rs: readonly AnyRecord[]): AnyRecord[] => rs.filter((r) => 'msg' in r);
    assertSameRecords(messages(saved), messages(records), `${what}: the --save file decodes to the same messages (plaintext)`);
  }
});

test('libtorrent pe_forced through the proxy without the info hash: relayed untouched, labelled, nothing decoded', { skip: noLibtorrent, timeout: 120_000 }, async () => {
  const run = await throughProxy('rc4', 'rc4', false);
  const { peers, records, logs } = run;
  const connections = run.ended.length;
  const why = diagnosis(run);
  assert.ok(peers.complete, `the leecher has ${peers.pieces} of ${PIECES} pieces; ${why}`);
  assert.ok(logs.some((l) => /relayed untouched: it cannot be read without its info hash/.test(l)), logs.join('\n'));
  // Every relayed connection is labelled. Relayed untouched, the two libtorrents meet libtorrent's
  // req3 mask bug between themselves: when their masks differ (a secret with a leading zero byte,
  // about 1 exchange in 256) the seed says "invalid info-hash", closes, and the leecher dials again.
  assert.equal(records.filter((r) => 'event' in r && r.event === 'encrypted').length, connections, `one encrypted event per connection; ${why}`);
  assert.ok(connections === 1 || (connections <= 3 && peers.seedLog.some((l) => /invalid info-hash/.test(l))), `one connection, or a redial after the seed's "invalid info-hash"; ${why}`);
  assert.deepEqual(records.filter((r) => 'msg' in r), [], 'nothing decoded from RC4 ciphertext');
});
