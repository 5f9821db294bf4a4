// One side of a connection as the analyzer keeps it (the Side of conn-state.ts), laid out to cost
// little while the side has only shaken hands: most connections of a large capture say little (a
// handshake, a few messages), and a live one must cost little. Its yes/no facts are bits of one
// number; what comes later (bitfield, metadata, sent state, pieces held, requests) lives in a
// SideMore made when first used (with every field and its collections a side cost over a kilobyte).
import type { MappingView } from '../bittorrent/ext-mapping.js';
import type { At, MetadataBuffer, PieceBuffer, Request, RequestKey, Side } from './conn-state.js';
import { PieceHoldings } from './piece-state.js';
import { defineFlags, defineHeldFields } from '../util/packed-fields.js';

export function newSide(addr: string): Side {
  return new SideState(addr);
}

/** What a side holds beyond its handshake: made at its first use. */
class SideMore {
  mapping: MappingView | undefined = undefined;
  untrackedRequests = 0;
  metadataSize: number | undefined = undefined;
  sentState: string | undefined = undefined;
  bitfield: Uint8Array | undefined = undefined;
  bitfieldAt: At | undefined = undefined;
  metadata: MetadataBuffer | undefined = undefined;
  holdings: PieceHoldings | undefined = undefined;
  requests: Map<RequestKey, Request> | undefined = undefined;
  metaRequested: Set<number> | undefined = undefined;
  pieces: Map<number, PieceBuffer> | undefined = undefined;
}

class SideState implements Side {
  private flags = 0;
  client: string | undefined = undefined;
  peerId: string | undefined = undefined;
  private more: SideMore | undefined = undefined;
  // Bits of `flags` (defineFlags below).
  declare lost: boolean;
  declare handshake: boolean;
  declare fast: boolean;
  declare extProtocol: boolean;
  declare bitfieldChecked: boolean;
  declare metaRejectReported: boolean;
  declare metadataDone: boolean;
  // Read through to `more` (defineHeldFields below).
  declare mapping: MappingView | undefined;
  declare untrackedRequests: number;
  declare metadataSize: number | undefined;
  declare sentState: string | undefined;
  declare bitfield: Uint8Array | undefined;
  declare bitfieldAt: At | undefined;
  declare metadata: MetadataBuffer | undefined;

  constructor(readonly addr: string) {}

  private extra(): SideMore {
    return (this.more ??= new SideMore());
  }

  get holdings(): PieceHoldings {
    return (this.extra().holdings ??= new PieceHoldings(true));
  }
  get requests(): Map<RequestKey, Request> {
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

defineFlags(SideState.prototype, ['lost', 'handshake', 'fast', 'extProtocol', 'bitfieldChecked', 'metaRejectReported', 'metadataDone']);
defineHeldFields(SideState.prototype, 'more', () => new SideMore(), { mapping: undefined, untrackedRequests: 0, metadataSize: undefined, sentState: undefined, bitfield: undefined, bitfieldAt: undefined, metadata: undefined });
