// Compact per-instance state for objects a large capture makes by the ten thousand (a connection's
// sides and directions): yes/no facts as bits of one number, and fields that are rarely set kept in a
// second object made on first write. The accessors go on the prototype (they cost no instance
// memory); a class declares the fields with `declare` so that TypeScript knows their types.

/** Boolean accessors `names[i]` on `proto`, each bit i of the instance's numeric `flags` field. */
export function defineFlags(proto: object, names: readonly string[]): void {
  names.forEach((name, bit) => {
    const mask = 1 << bit;
    Object.defineProperty(proto, name, {
      get(this: { flags: number }): boolean {
        return (this.flags & mask) !== 0;
      },
      set(this: { flags: number }, on: boolean) {
        this.flags = on ? this.flags | mask : this.flags & ~mask;
      },
      configurable: true,
    });
  });
}

/**
 * Accessors on `proto` for the fields of `defaults` that read through to the instance's `holder`
 * field (the default while it is undefined) and make it with `make` on the first write of a value
 * other than the default.
 */
export function defineHeldFields<H extends object>(proto: object, holder: string, make: () => H, defaults: Readonly<Partial<H>>): void {
  for (const [name, initial] of Object.entries(defaults)) {
    Object.defineProperty(proto, name, {
      get(this: Record<string, Record<string, unknown> | undefined>): unknown {
        const h = this[holder];
        return h === undefined ? initial : h[name];
      },
      set(this: Record<string, unknown>, value: unknown) {
        let h = this[holder] as Record<string, unknown> | undefined;
        if (h === undefined) {
          if (value === initial) return;
          h = this[holder] = make() as Record<string, unknown>;
        }
        h[name] = value;
      },
      configurable: true,
    });
  }
}
