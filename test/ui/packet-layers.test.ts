// The layered details tree on real captures: Frame, link, IP and TCP or uTP read back from the file
// by frame number, then the BitTorrent message one level down with its byte ranges unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { decodeCapture } from '../../src/inspect.js';
import { RecordStore } from '../../src/model/store.js';
import { openFileBytes } from '../../src/capture/file-bytes.js';
import { FlowLog, frameReader } from '../../src/capture/packet-export.js';
import { fieldCache } from '../../src/ui/ui-controller.js';
import type { FieldNode } from '../../src/ui/field-tree.js';
import type { MessageRecord } from '../../src/model/record.js';
import { recordsOf } from './fixtures.js';

const SAMPLES = new URL('../../samples/', import.meta.url).pathname;

async function load(path: string, readBack = true): Promise<{ store: RecordStore; close(): void }> {
  const store = new RecordStore();
  const bytes = openFileBytes(path);
  store.setByteSource(bytes.source, bytes.why);
  const flows = new FlowLog({ frames: true });
  store.setFrameReader(readBack && bytes.source !== undefined ? frameReader(flows, bytes.source) : 'the capture came on stdin');
  await decodeCapture(path, (r, raw, where) => store.add(r, raw, where), { locate: true, observer: flows });
  return { store, close: bytes.close };
}

function value(nodes: readonly FieldNode[], label: string, after = 0): string | undefined {
  return nodes.slice(after).find((n) => n.label === label)?.value;
}

/** tshark's reading of one field of one frame (undefined without tshark: that cross-check is skipped). */
function tshark(path: string, frame: number, field: string, extra: string[] = []): string | undefined {
  try {
    return execFileSync('tshark', ['-r', path, ...extra, '-Y', `frame.number == ${frame}`, '-T', 'fields', '-e', field], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

test('a TCP message shows Frame, IPv4 addresses, TCP ports and seq, then its BitTorrent fields', async () => {
  const path = SAMPLES + 'lt-sample.pcap';
  const { store, close } = await load(path);
  try {
    const index = recordsOf(store).findIndex((r) => 'msg' in r && r.msg === 'have' && r.frame !== undefined);
    assert.ok(index >= 0, 'the sample has a have message');
    const r = store.record(index) as MessageRecord;
    const nodes = fieldCache()(store, index);
    assert.equal(nodes[0]?.label, `Frame ${r.frame}`);
    assert.equal(value(nodes, 'number'), String(r.frame));
    assert.match(value(nodes, 'link type') ?? '', /Ethernet|loopback|cooked|raw IP/);
    const [srcIp, srcPort] = [r.src.slice(0, r.src.lastIndexOf(':')), r.src.slice(r.src.lastIndexOf(':') + 1)];
    const [dstIp, dstPort] = [r.dst.slice(0, r.dst.lastIndexOf(':')), r.dst.slice(r.dst.lastIndexOf(':') + 1)];
    assert.equal(value(nodes, 'source'), srcIp);
    assert.equal(value(nodes, 'destination'), dstIp);
    assert.equal(value(nodes, 'source port'), srcPort);
    assert.equal(value(nodes, 'destination port'), dstPort);
    const tcp = nodes.findIndex((n) => n.label === 'TCP' && n.depth === 0);
    assert.ok(tcp > 0, 'a TCP layer');
    assert.match(value(nodes, 'sequence number') ?? '', /^\d+$/);
    assert.match(value(nodes, 'flags') ?? '', /ACK/);
    const seq = tshark(path, r.frame!, 'tcp.seq_raw');
    if (seq !== undefined) assert.equal(value(nodes, 'sequence number'), seq, 'the same raw seq as tshark');
    // The message layer follows, its fields one level down, byte ranges unchanged.
    const bt = nodes.findIndex((n) => n.label === 'BitTorrent' && n.depth === 0);
    assert.ok(bt > tcp);
    // Each layer is a heading (shown bold), in Wireshark's order.
    assert.deepEqual(nodes.filter((n) => n.heading).map((n) => n.label), [`Frame ${r.frame}`, 'Ethernet', 'IPv4', 'TCP', 'BitTorrent']);
    const piece = nodes.slice(bt).find((n) => n.label === 'piece');
    assert.deepEqual([piece?.depth, piece?.range, piece?.value], [1, [5, 9], String(r.piece)]);
  } finally {
    close();
  }
});

test('a uTP message shows UDP ports and the uTP connection id, seq_nr and ack_nr', async () => {
  const path = SAMPLES + 'utp-sample.pcap';
  const { store, close } = await load(path);
  try {
    const index = recordsOf(store).findIndex((r) => 'msg' in r && r.msg !== 'handshake' && r.transport === 'utp' && r.frame !== undefined);
    assert.ok(index >= 0, 'the sample has a uTP message');
    const r = store.record(index) as MessageRecord;
    const nodes = fieldCache()(store, index);
    assert.equal(nodes[0]?.label, `Frame ${r.frame}`);
    assert.deepEqual(nodes.filter((n) => n.heading).map((n) => n.label), [`Frame ${r.frame}`, 'Ethernet', 'IPv4', 'UDP', 'uTP', 'BitTorrent']);
    const utp = nodes.findIndex((n) => n.label === 'uTP' && n.depth === 0);
    assert.ok(utp > 0, 'a uTP layer');
    assert.equal(value(nodes, 'type', utp), 'ST_DATA');
    for (const label of ['connection id', 'seq_nr', 'ack_nr']) assert.match(value(nodes, label, utp) ?? '', /^\d+$/, label);
    const port = r.dst.slice(r.dst.lastIndexOf(':') + 1);
    const seq = tshark(path, r.frame!, 'bt-utp.seq_nr', ['-d', `udp.port==${port},bt-utp`]);
    if (seq !== undefined) assert.equal(value(nodes, 'seq_nr', utp), seq, 'the same seq_nr as tshark');
    const id = tshark(path, r.frame!, 'bt-utp.connection_id', ['-d', `udp.port==${port},bt-utp`]);
    if (id !== undefined) assert.equal(value(nodes, 'connection id', utp), id, 'the same connection id as tshark');
    assert.equal(value(nodes, 'source port'), r.src.slice(r.src.lastIndexOf(':') + 1));
  } finally {
    close();
  }
});

test('without read-back the Frame layer says in one line why the lower layers are absent', async () => {
  const { store, close } = await load(SAMPLES + 'lt-sample.pcap', false);
  try {
    const index = recordsOf(store).findIndex((r) => 'msg' in r && r.msg === 'have');
    const nodes = fieldCache()(store, index);
    assert.match(nodes[0]?.label ?? '', /^Frame \d+$/);
    assert.equal(value(nodes, 'lower layers'), 'not shown: the capture came on stdin');
    assert.ok(!nodes.some((n) => n.label === 'TCP'));
    assert.ok(nodes.some((n) => n.label === 'BitTorrent'));
  } finally {
    close();
  }
});
