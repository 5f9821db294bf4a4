// One side of a connection as the analyzer keeps it (the Side of conn-state.ts), laid out to cost
// little while the side has only shaken hands.
import type { MappingView } from '../bittorrent/ext-mapping.js';
import type { At, MetadataBuffer, PieceBuffer, Request, Side } from './conn-state.js';

export function newSide(addr: string): Side {
  return new SideState(addr);
}

/** What a side holds beyond its handshake: made at its first use (a handshake-only side never needs it). */
class SideMore {
  metadataSize: number | undefined = undefined;
  sentState: string | undefined = undefined;
  bitfield: Uint8Array | undefined = undefined;
  bitfieldAt: At | undefined = undefined;
  metadata: MetadataBuffer | undefined = undefined;
  added: Set<number> | undefined = undefined;
  removed: Map<number, number> | undefined = undefined;
  requests: Map<string, Request> | undefined = undefined;
  metaRequested: Set<number> | undefined = undefined;
  pieces: Map<number, PieceBuffer> | undefined = undefined;
}

/**
 * A side of one shape, small while it has only shaken hands: most connections of a large capture
 * say little (a handshake, a few messages), and a live one must cost little. Its yes/no facts are
 * bits of one number, and what comes later (bitfield, metadata, the collections) lives in a SideMore
 * made when first used (a side with every field and five empty collections cost over a kilobyte).
 */
class SideState implements Side {
  private flags = 0;
  client: string | undefined = undefined;
  peerId: string | undefined = undefined;
  mapping: MappingView | undefined = undefined;
  untrackedRequests = 0;
  private more: SideMore | undefined = undefined;

  constructor(readonly addr: string) {}

  private extra(): SideMore {
    return (this.more ??= new SideMore());
  }

  get lost(): boolean {
    return (this.flags & 1) !== 0;
  }
  set lost(on: boolean) {
    this.flags = on ? this.flags | 1 : this.flags & ~1;
  }
  get handshake(): boolean {
    return (this.flags & 2) !== 0;
  }
  set handshake(on: boolean) {
    this.flags = on ? this.flags | 2 : this.flags & ~2;
  }
  get fast(): boolean {
    return (this.flags & 4) !== 0;
  }
  set fast(on: boolean) {
    this.flags = on ? this.flags | 4 : this.flags & ~4;
  }
  get extProtocol(): boolean {
    return (this.flags & 8) !== 0;
  }
  set extProtocol(on: boolean) {
    this.flags = on ? this.flags | 8 : this.flags & ~8;
  }
  get haveAll(): boolean {
    return (this.flags & 16) !== 0;
  }
  set haveAll(on: boolean) {
    this.flags = on ? this.flags | 16 : this.flags & ~16;
  }
  get bitfieldChecked(): boolean {
    return (this.flags & 32) !== 0;
  }
  set bitfieldChecked(on: boolean) {
    this.flags = on ? this.flags | 32 : this.flags & ~32;
  }
  get metaRejectReported(): boolean {
    return (this.flags & 64) !== 0;
  }
  set metaRejectReported(on: boolean) {
    this.flags = on ? this.flags | 64 : this.flags & ~64;
  }
  get metadataDone(): boolean {
    return (this.flags & 128) !== 0;
  }
  set metadataDone(on: boolean) {
    this.flags = on ? this.flags | 128 : this.flags & ~128;
  }
  get metadataSize(): number | undefined {
    return this.more?.metadataSize;
  }
  set metadataSize(v: number | undefined) {
    if (v !== undefined || this.more !== undefined) this.extra().metadataSize = v;
  }
  get sentState(): string | undefined {
    return this.more?.sentState;
  }
  set sentState(v: string | undefined) {
    if (v !== undefined || this.more !== undefined) this.extra().sentState = v;
  }
  get bitfield(): Uint8Array | undefined {
    return this.more?.bitfield;
  }
  set bitfield(v: Uint8Array | undefined) {
    if (v !== undefined || this.more !== undefined) this.extra().bitfield = v;
  }
  get bitfieldAt(): At | undefined {
    return this.more?.bitfieldAt;
  }
  set bitfieldAt(v: At | undefined) {
    if (v !== undefined || this.more !== undefined) this.extra().bitfieldAt = v;
  }
  get metadata(): MetadataBuffer | undefined {
    return this.more?.metadata;
  }
  set metadata(v: MetadataBuffer | undefined) {
    if (v !== undefined || this.more !== undefined) this.extra().metadata = v;
  }
  get added(): Set<number> {
    return (this.extra().added ??= new Set());
  }
  get removed(): Map<number, number> {
    return (this.extra().removed ??= new Map());
  }
  get requests(): Map<string, Request> {
    return (this.extra().requests ??= new Map());
  }
  get metaRequested(): Set<number> {
    return (this.extra().metaRequested ??= new Set());
  }
  get pieces(): Map<number, PieceBuffer> {
    return (this.extra().pieces ??= new Map());
  }
  /** Whether any request was tracked, without making the map. */
  get anyRequests(): boolean {
    const requests = this.more?.requests;
    return requests !== undefined && requests.size > 0;
  }
}
