// One side's BEP 10 extension mapping as the analyzer tracks it. The update rules are the decoder's
// (ExtensionMapping in src/bittorrent/extensions.ts: a later handshake moves or disables, with 0,
// the names it lists and keeps the others; an id given to a second name names that one), so a
// finding never names an id differently from the timeline. It also remembers which names each id
// had before: a message with such an id used the receiver's old id, not the sender's own.

/** Names kept per side, as the decoder caps them: a peer cannot make the mapping grow without bound. */
const MAX_ENTRIES = 256;
/** Former (name, id) pairs remembered per side. */
const MAX_FORMER = 1024;

export class SideMapping {
  private readonly byName = new Map<string, number>();
  private readonly byId = new Map<number, string>();
  private readonly former = new Set<string>();

  /** Applies one extended handshake's `m`. */
  update(m: Readonly<Record<string, number>>): void {
    for (const [name, id] of Object.entries(m)) {
      const old = this.byName.get(name);
      if (old !== undefined) {
        this.byName.delete(name);
        if (this.byId.get(old) === name) this.byId.delete(old);
        if (old !== id) this.remember(name, old);
      }
      if (id === 0 || this.byName.size >= MAX_ENTRIES) continue;
      const taken = this.byId.get(id);
      if (taken !== undefined && taken !== name) this.remember(taken, id);
      this.byName.set(name, id);
      this.byId.set(id, name);
    }
  }

  /** The extension an id names now. */
  name(id: number): string | undefined {
    return this.byId.get(id);
  }

  /** The id an extension is received with now; undefined when not advertised or disabled. */
  id(name: string): number | undefined {
    const id = this.byName.get(name);
    return id !== undefined && this.byId.get(id) === name ? id : undefined;
  }

  /** Whether `id` named `name` in an earlier state of this mapping (and no longer does). */
  formerly(name: string, id: number): boolean {
    return this.byId.get(id) !== name && this.former.has(key(name, id));
  }

  /** "ut_pex 1, lt_donthave 3": the ids as they resolve now, sorted by id (bounded). */
  format(): string {
    if (this.byId.size === 0) return 'empty';
    const entries = [...this.byId].sort((a, b) => a[0] - b[0]);
    const shown = entries.slice(0, 12).map(([id, name]) => `${name.length > 40 ? `${name.slice(0, 40)}...` : name} ${id}`);
    return shown.join(', ') + (entries.length > 12 ? `, ... (${entries.length} in all)` : '');
  }

  private remember(name: string, id: number): void {
    if (this.former.size < MAX_FORMER) this.former.add(key(name, id));
  }
}

function key(name: string, id: number): string {
  return `${id}\u0000${name}`;
}
