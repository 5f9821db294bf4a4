// RC4 as MSE/PE uses it (OpenSSL 3 no longer offers 'rc4' in node:crypto): a keystream generator
// that XORs in place, with the first 1024 bytes of keystream discarded as the spec requires.
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array, discard = 1024) {
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k]! + key[k % key.length]!) & 0xff;
      const t = s[k]!;
      s[k] = s[j]!;
      s[j] = t;
    }
    if (discard > 0) this.apply(new Uint8Array(discard));
  }

  /** XORs the keystream into `b` in place and returns it. */
  apply(b: Uint8Array): Uint8Array {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < b.length; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      b[k] = b[k]! ^ s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return b;
  }

  /** An encrypted copy of `b`. */
  copy(b: Uint8Array): Uint8Array {
    return this.apply(Uint8Array.from(b));
  }
}
