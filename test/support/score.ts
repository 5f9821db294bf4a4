// The same scoring as ../shared/tools/compare.py: per direction, the longest common subsequence of
// (msg, piece) between the truth and the decoder's message records.
import { readFileSync } from 'node:fs';
import type { AnyRecord } from '../../src/model/record.js';

export interface TruthRecord {
  src: string;
  dst: string;
  msg: string;
  ext?: string | null;
  extId?: number;
  piece?: number;
}

export interface Score {
  messages: number;
  recovered: number;
  extra: number;
  extNamed: number;
  extNamedOk: number;
  donthaveTruth: number;
  donthaveOk: boolean;
}

export function readTruth(path: string): TruthRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TruthRecord)
    .filter((r) => 'msg' in r && !('event' in r));
}

export function canonicalEndpoint(a: string): string {
  const i = a.lastIndexOf(':');
  const host = a.slice(0, i).replace(/^\[|\]$/g, '');
  return host.includes(':') ? `[${host.toLowerCase()}]:${a.slice(i + 1)}` : a;
}

function byDirection<T extends { src?: string; dst?: string }>(records: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of records) {
    const key = `${canonicalEndpoint(r.src ?? '')}>${canonicalEndpoint(r.dst ?? '')}`;
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push(r);
  }
  return out;
}

function key(r: { msg: string; piece?: number }): string {
  return r.msg === 'extended' ? 'extended' : `${r.msg}/${r.piece ?? ''}`;
}

function lcsPairs(a: string[], b: string[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  const table: Uint32Array[] = [new Uint32Array(m + 1)];
  for (let i = 0; i < n; i++) {
    const prev = table[i]!;
    const cur = new Uint32Array(m + 1);
    for (let j = 0; j < m; j++) cur[j + 1] = a[i] === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, cur[j]!);
    table.push(cur);
  }
  const pairs: Array<[number, number]> = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (a[i - 1] === b[j - 1]) {
      pairs.push([i - 1, j - 1]);
      i--;
      j--;
    } else if (table[i - 1]![j]! >= table[i]![j - 1]!) i--;
    else j--;
  }
  return pairs.reverse();
}

export function score(truth: TruthRecord[], actual: AnyRecord[]): Score {
  const messages = actual.filter((r): r is AnyRecord & TruthRecord => 'msg' in r);
  const t = byDirection(truth);
  const a = byDirection(messages);
  const s: Score = { messages: 0, recovered: 0, extra: 0, extNamed: 0, extNamedOk: 0, donthaveTruth: 0, donthaveOk: true };
  const dhTruth: string[] = [];
  const dhActual: string[] = [];
  for (const [dir, tr] of t) {
    const ar = a.get(dir) ?? [];
    const pairs = lcsPairs(tr.map(key), ar.map(key));
    s.messages += tr.length;
    s.recovered += pairs.length;
    s.extra += ar.length - pairs.length;
    for (const [i, j] of pairs) {
      const tt = tr[i]!;
      if (tt.msg === 'extended' && tt.ext !== undefined && tt.ext !== null && tt.ext !== 'handshake') {
        s.extNamed++;
        if (ar[j]!.ext === tt.ext) s.extNamedOk++;
      }
    }
    for (const r of tr) if (r.ext === 'lt_donthave') dhTruth.push(`${dir}/${r.piece}`);
    for (const r of ar) if (r.ext === 'lt_donthave') dhActual.push(`${dir}/${r.piece}`);
  }
  for (const [dir, ar] of a) if (!t.has(dir)) s.extra += ar.length;
  s.donthaveTruth = dhTruth.length;
  s.donthaveOk = dhTruth.join(',') === dhActual.join(',');
  return s;
}
