// Hand-made records with their wire bytes: one connection where the remote peer announces pieces
// and then withdraws piece 2 with lt_donthave (extended id 3), plus a gap and a finding.
import type { AnyRecord, MessageRecord } from '../../src/model/record.js';
import { RecordStore } from '../../src/model/store.js';

const A = '10.0.0.1:49396';
const B = '10.0.0.2:6881';
const base = { conn: 1, transport: 'tcp' as const };

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function message(id: number, payload: number[]): Uint8Array {
  return Uint8Array.from([...u32(payload.length + 1), id, ...payload]);
}

export function sampleRecords(): [AnyRecord, Uint8Array | undefined][] {
  const hs = new Uint8Array(68);
  hs[0] = 19;
  hs.set(new TextEncoder().encode('BitTorrent protocol'), 1);
  hs.set(new TextEncoder().encode('-LT2090-\x1b[31mevil!'), 48);
  const out: [AnyRecord, Uint8Array | undefined][] = [
    [{ ...base, ts: 100, src: A, dst: B, msg: 'handshake', size: 68, client: 'libtorrent 2.0.9', peerId: '-LT2090-\x1b[31mevil!' } as MessageRecord, hs],
    [{ ...base, ts: 100.1, src: B, dst: A, msg: 'extended', size: 40, ext: 'handshake', extId: 0, v: 'evil\x1b]0;pwned\x07', m: { lt_donthave: 3 } } as MessageRecord, message(20, [0, 0x64, 0x65])],
    [{ ...base, ts: 100.2, src: B, dst: A, msg: 'bitfield', size: 6, bits: 8, set: 3 } as MessageRecord, message(5, [0b11100000])],
    [{ ...base, ts: 100.3, src: B, dst: A, msg: 'have', size: 9, piece: 5 } as MessageRecord, message(4, u32(5))],
    [{ ...base, ts: 100.4, src: A, dst: B, msg: 'request', size: 17, piece: 1, begin: 0, length: 16384 } as MessageRecord, message(6, [...u32(1), ...u32(0), ...u32(16384)])],
    [{ ...base, ts: 100.5, src: B, dst: A, msg: 'extended', size: 10, ext: 'lt_donthave', extId: 3, piece: 2, mappingFrom: '1' } as MessageRecord, message(20, [3, ...u32(2)])],
    [{ ...base, ts: 100.6, src: B, dst: A, event: 'gap', bytes: 1200 }, undefined],
    [{ ...base, ts: 100.7, src: B, dst: A, msg: 'extended', size: 10, ext: null, extId: 9 } as MessageRecord, message(20, [9, 1, 2, 3, 4])],
    [{ ...base, ts: 100.8, src: B, dst: A, event: 'finding', finding: 'donthave_request', severity: 'warning', piece: 2, message: 'requested after lt_donthave' }, undefined],
    [{ ...base, ts: 100.9, src: B, dst: A, msg: 'extended', size: 10, ext: 'lt_donthave', extId: 3, piece: 0, mappingFrom: '1' } as MessageRecord, message(20, [3, ...u32(0)])],
  ];
  return out;
}

export function sampleStore(): RecordStore {
  const store = new RecordStore();
  for (const [r, raw] of sampleRecords()) store.add(r, raw);
  return store;
}

/** A store of `n` synthetic messages over 8 connections, every 1000th an lt_donthave. */
export function syntheticStore(n: number): RecordStore {
  const store = new RecordStore();
  const raw = message(4, u32(0));
  const addrs = Array.from({ length: 9 }, (_, conn) => [`10.0.${conn}.1:${40000 + conn}`, `10.0.${conn}.2:6881`] as const);
  for (let i = 0; i < n; i++) {
    const conn = (i % 8) + 1;
    const [src, dst] = addrs[conn]!;
    const r: MessageRecord =
      i % 1000 === 999
        ? { ts: 1000 + i / 1000, conn, transport: 'tcp', src: dst, dst: src, msg: 'extended', size: 10, ext: 'lt_donthave', extId: 3, piece: i % 4096 }
        : { ts: 1000 + i / 1000, conn, transport: 'tcp', src: dst, dst: src, msg: 'have', size: 9, piece: i % 4096 };
    store.add(r, raw);
  }
  store.finish();
  return store;
}

/** Every record of the store, rebuilt from its columns (tests read them as an array). */
export function recordsOf(store: RecordStore): AnyRecord[] {
  return Array.from({ length: store.size }, (_, i) => store.record(i)!);
}
