// Equal strings kept once: names that many live connections carry (client names, extended handshake
// versions) would otherwise be a fresh copy each, about 80 bytes a connection on a flood.

/** Up to `max` distinct strings are shared; past that, strings are kept as they come (memory stays bounded). */
export class SharedStrings {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** The one copy of `s` kept so far, else `s` (kept from now on while there is room). */
  share(s: string): string {
    const known = this.known.get(s);
    if (known !== undefined) return known;
    if (this.known.size < this.max) this.known.set(s, s);
    return s;
  }
}
