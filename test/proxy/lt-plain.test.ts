// Real libtorrent 2.0 sessions, encryption off, through the proxy (lt-plain-peers.py): each side cut
// its file short after announcing it, so each withdraws pieces from the other with lt_donthave. The
// transfer ends as it does on a direct connection, and for each connection the proxy's records are
// message for message what each peer's own log says it received; the --save file replays the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, label, noLibtorrent, runPython, type PeerSeen } from './lt-script.js';
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { startProxy, type ConnectionReport } from '../../src/proxy/relay.js';
import { assertSameRecords, replaySaved } from './saved-records.js';

const SCRIPT = fileURLToPath(new URL('./lt-plain-peers.py', import.meta.url));

const PIECES = 16;

interface PeersResult {
  target: number[];
  clients: Array<{ addr: string; pieces: number[]; received: PeerSeen[]; targetReceived: PeerSeen[] }>;
}

interface Run {
  peers: PeersResult;
  records: AnyRecord[];
  reports: ConnectionReport[];
  saved: AnyRecord[];
  targetPort: number;
}

const python = (args: string[]): Promise<string> => runPython(SCRIPT, args);

/** One target and `clients` client sessions, directly or through a proxy (saving to a pcap). */
async function run(clients: number, viaProxy: boolean): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'ltdh-lt-plain-'));
  try {
    await python(['make', dir, String(PIECES)]);
    const targetPort = await freePort();
    const records: AnyRecord[] = [];
    const save = join(dir, 'saved.pcap');
    const proxy = viaProxy ? await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: targetPort }, sink: (r) => records.push(r), save }) : undefined;
    let out: string;
    let reports: ConnectionReport[] = [];
    try {
      out = await python(['run', dir, String(targetPort), String(proxy?.port ?? targetPort), String(clients)]);
    } finally {
      if (proxy) {
        while (proxy.active > 0) await new Promise((r) => setTimeout(r, 10));
        reports = await proxy.close();
      }
    }
    return { peers: JSON.parse(out) as PeersResult, records, reports, saved: viaProxy ? replaySaved(save) : [], targetPort };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The messages the proxy decoded on `conn` toward `dst`, labelled as the peers' logs are. */
function decoded(records: AnyRecord[], conn: number, dst: string): string[] {
  return records
    .filter((r): r is MessageRecord => 'msg' in r && r.conn === conn && r.dst === dst)
    .map((r) => label({ msg: r.msg, ...(r.ext !== undefined && r.ext !== null ? { ext: r.ext } : {}), ...(r.piece !== undefined ? { piece: r.piece } : {}) }));
}

function checkProxied(r: Run, direct: Run, what: string): void {
  const target = `127.0.0.1:${r.targetPort}`;
  assert.equal(r.reports.length, r.peers.clients.length, `${what}: one connection per client`);
  assert.deepEqual(r.peers.target, direct.peers.target, `${what}: the target ends with the pieces it has on a direct connection`);
  for (const [i, c] of r.peers.clients.entries()) {
    assert.deepEqual(c.pieces, direct.peers.clients[0]!.pieces, `${what}, client ${i}: the pieces it has on a direct connection`);
    const report = r.reports.find((x) => x.client === c.addr);
    assert.ok(report, `${what}, client ${i}: a connection from ${c.addr}`);
    const conn = report.conn;
    const toClient = c.received.map(label);
    const toTarget = c.targetReceived.map(label);
    assert.deepEqual(decoded(r.records, conn, c.addr), toClient, `${what}, conn ${conn}: target -> client`);
    assert.deepEqual(decoded(r.records, conn, target), toTarget, `${what}, conn ${conn}: client -> target`);
    assert.ok(toClient.some((m) => m.startsWith('extended:lt_donthave#')) && toTarget.some((m) => m.startsWith('extended:lt_donthave#')), `${what}, conn ${conn}: lt_donthave both ways`);
    assert.ok(toClient.includes('handshake') && toClient.some((m) => m.startsWith('piece#')), `${what}, conn ${conn}: a real session`);
  }
  const noise = r.records.filter((x) => 'event' in x && ['malformed', 'resync', 'warning', 'gap', 'reset'].includes(x.event));
  assert.deepEqual(noise, [], `${what}: clean decode`);
  assertSameRecords(r.saved, r.records, `${what}: --save reopened`);
}

test('libtorrent, plaintext: one connection and three at once through the proxy, as direct; records are what each peer logged', { skip: noLibtorrent, timeout: 120_000 }, async () => {
  // The three runs have their own ports and directories: at once, to keep the test short.
  const [direct, one, three] = await Promise.all([run(1, false), run(1, true), run(3, true)]);
  // What a direct connection gives: each side has its own file and the half of the other's it could read.
  assert.deepEqual(direct.peers.target, [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual(direct.peers.clients[0]!.pieces, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  checkProxied(one, direct, 'one connection');
  checkProxied(three, direct, 'three at once');
});
