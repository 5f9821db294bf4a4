// A minimal bencode encoder for building test torrents and ut_metadata payloads.
export type BIn = number | string | Uint8Array | BIn[] | { [k: string]: BIn };

export function benc(v: BIn): Uint8Array {
  return Buffer.concat(parts(v));
}

function parts(v: BIn): Buffer[] {
  if (typeof v === 'number') return [Buffer.from(`i${v}e`)];
  if (typeof v === 'string') return parts(Buffer.from(v));
  if (v instanceof Uint8Array) return [Buffer.from(`${v.length}:`), Buffer.from(v)];
  if (Array.isArray(v)) return [Buffer.from('l'), ...v.flatMap(parts), Buffer.from('e')];
  // keys are latin1 strings: one char per byte, so binary keys (v2 piece layers) survive
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  return [Buffer.from('d'), ...keys.flatMap((k) => [...parts(Buffer.from(k, 'latin1')), ...parts(v[k]!)]), Buffer.from('e')];
}
