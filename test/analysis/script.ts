// Synthetic conversations for analyzer tests: message records plus the raw bytes the decoder would
// hand beside them, fed through an Analyzer; each step returns the findings it produced.
import { Analyzer, type AnalyzerOptions } from '../../src/analysis/analyzer.js';
import { ExtensionMapping } from '../../src/bittorrent/ext-mapping.js';
import type { AnyRecord, EventRecord, MessageRecord } from '../../src/model/record.js';

export const A = '10.0.0.1:40000';
export const B = '10.0.0.2:6881';
export const HASH = '0123456789abcdef0123456789abcdef01234567';

type Msg = Omit<MessageRecord, 'ts' | 'conn' | 'transport' | 'src' | 'dst' | 'size'> & { size?: number };

export class Script {
  readonly out: AnyRecord[] = [];
  readonly analyzer: Analyzer;
  ts = 1000;
  /** Each side's extension mapping, kept as the decoder keeps it and handed over the same way. */
  readonly mappings = { A: new ExtensionMapping(), B: new ExtensionMapping() };

  constructor(opts: AnalyzerOptions = {}, readonly conn = 1) {
    this.analyzer = new Analyzer((r) => void this.out.push(r), opts);
  }

  /** Sends one message from `from` ('A' or 'B'); returns the findings emitted right after it. */
  send(from: 'A' | 'B', m: Msg, raw?: Uint8Array): EventRecord[] {
    const [src, dst] = from === 'A' ? [A, B] : [B, A];
    const r: MessageRecord = { ts: (this.ts += 0.001), conn: this.conn, transport: 'tcp', src, dst, size: raw?.length ?? 5, ...m };
    const before = this.out.length;
    if (m.msg === 'extended' && m.ext === 'handshake' && m.m !== undefined) this.mappings[from].update(m.m);
    const context = m.msg === 'extended' ? { mappings: { sender: this.mappings[from], receiver: this.mappings[from === 'A' ? 'B' : 'A'] } } : undefined;
    this.analyzer.record(r, raw, undefined, context);
    if (this.out[before] !== r) throw new Error('record not passed through first');
    return this.out.slice(before + 1) as EventRecord[];
  }

  event(e: Omit<EventRecord, 'ts' | 'conn' | 'transport' | 'src' | 'dst'>): void {
    this.analyzer.record({ ts: (this.ts += 0.001), conn: this.conn, transport: 'tcp', src: A, dst: B, ...e });
  }

  finish(): EventRecord[] {
    const before = this.out.length;
    this.analyzer.finish();
    return this.out.slice(before) as EventRecord[];
  }

  findings(): EventRecord[] {
    return this.out.filter((r): r is EventRecord => 'event' in r && r.event === 'finding');
  }

  /** Both handshakes; `fast`/`ext` say which sides set those reserved bits. */
  handshakes(opts: { fastA?: boolean; fastB?: boolean; ext?: boolean; infoHash?: string } = {}): void {
    const exts = (fast: boolean | undefined) => [...(opts.ext === false ? [] : ['extension protocol']), ...(fast ? ['fast'] : [])];
    this.send('A', { msg: 'handshake', infoHash: opts.infoHash ?? HASH, extensions: exts(opts.fastA), client: 'TestClient 1.0' });
    this.send('B', { msg: 'handshake', infoHash: opts.infoHash ?? HASH, extensions: exts(opts.fastB), client: 'OtherClient 2.0' });
  }

  extHandshake(from: 'A' | 'B', m: Record<string, number>, extra: Partial<MessageRecord> = {}): EventRecord[] {
    return this.send(from, { msg: 'extended', ext: 'handshake', extId: 0, m, ...extra });
  }

  /** An extended message; `ext` is what the decoder would name it through the receiver's mapping. */
  ext(from: 'A' | 'B', extId: number, ext: string | null, payload: Uint8Array, extra: Partial<MessageRecord> = {}): EventRecord[] {
    return this.send(from, { msg: 'extended', ext, extId, ...extra }, extendedRaw(extId, payload));
  }

  donthave(from: 'A' | 'B', extId: number, piece: number): EventRecord[] {
    return this.ext(from, extId, 'lt_donthave', u32(piece), { piece });
  }
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

export function frame(id: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(5 + payload.length);
  new DataView(b.buffer).setUint32(0, 1 + payload.length);
  b[4] = id;
  b.set(payload, 5);
  return b;
}

export function extendedRaw(extId: number, payload: Uint8Array): Uint8Array {
  return frame(20, Uint8Array.of(extId, ...payload));
}

export function pieceRaw(piece: number, begin: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(8 + data.length);
  p.set(u32(piece), 0);
  p.set(u32(begin), 4);
  p.set(data, 8);
  return frame(7, p);
}

export function codes(fs: readonly EventRecord[]): string[] {
  return fs.map((f) => f.finding ?? '?');
}
