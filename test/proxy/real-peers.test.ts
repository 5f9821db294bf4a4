// webtorrent's bittorrent-protocol Wires talking through the proxy over real TCP: the session goes as
// it goes directly, and the proxy's records are what each Wire itself parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from '../../src/proxy/relay.js';
import type { AnyRecord } from '../../src/model/record.js';
import { BLOCK, dial, received, seedServer, session, type SessionResult } from './wt-session.js';
import { assertSameRecords, replaySaved } from './saved-records.js';

const lt = (r: SessionResult, side: 'a' | 'b'): number[] => r[side].filter((s) => s.ext === 'lt_donthave').map((s) => s.piece!);

test('one connection: the session goes exactly as directly; the records are what each peer parsed, lt_donthave named both ways', async () => {
  const seeds = await seedServer();
  const direct = await session(await dial(seeds.port), await seeds.next());
  const records: AnyRecord[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: seeds.port }, sink: (r) => records.push(r) });
  const proxied = await session(await dial(proxy.port), await seeds.next());
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const [report] = await proxy.close();
  seeds.close();
  assert.equal(proxied.bytes, 4 * BLOCK);
  assert.deepEqual(proxied.a, direct.a, 'the client parsed what it parses on a direct connection');
  assert.deepEqual(proxied.b, direct.b, 'the target parsed what it parses on a direct connection');
  assert.deepEqual([lt(proxied, 'a'), lt(proxied, 'b')], [[6], [2]]);
  assert.equal(report!.client, proxied.aAddr);
  const target = `127.0.0.1:${seeds.port}`;
  assert.deepEqual(received(records, 1, proxied.aAddr), proxied.a, 'target -> client');
  assert.deepEqual(received(records, 1, target), proxied.b, 'client -> target');
});

test('3 connections at once: records match what each peer parsed, conn in acceptance order, --save replays the same records', async () => {
  const seeds = await seedServer();
  const records: AnyRecord[] = [];
  const save = join(mkdtempSync(join(tmpdir(), 'ltdh-proxy-')), 'session.pcap');
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: seeds.port }, sink: (r) => records.push(r), save });
  // Accepted one after another (conn 1, 2, 3, each paired with its seed socket); the sessions overlap.
  const running: Array<Promise<SessionResult>> = [];
  for (let i = 0; i < 3; i++) {
    const client = await dial(proxy.port);
    running.push(session(client, await seeds.next()));
  }
  const done = await Promise.all(running);
  while (proxy.active > 0) await new Promise((r) => setTimeout(r, 5));
  const reports = await proxy.close();
  seeds.close();
  const target = `127.0.0.1:${seeds.port}`;
  for (const [i, r] of done.entries()) {
    const conn = i + 1;
    assert.equal(r.bytes, 4 * BLOCK);
    assert.deepEqual([lt(r, 'a'), lt(r, 'b')], [[6], [2]]);
    assert.equal(reports[i]!.client, r.aAddr, `conn ${conn} is the ${conn}. connection accepted`);
    assert.deepEqual(received(records, conn, r.aAddr), r.a, `conn ${conn}: target -> client`);
    assert.deepEqual(received(records, conn, target), r.b, `conn ${conn}: client -> target`);
    const open = records.find((x) => 'event' in x && x.event === 'open' && x.conn === conn);
    assert.ok(open && 'src' in open && open.src === r.aAddr && open.dst === target, `conn ${conn}: src is the client, dst the target`);
  }
  assertSameRecords(replaySaved(save), records, '--save reopened');
});
